"""docs/tabular.md's worked example runs as written: its Python block makes the tables,
each ``$ manualnn ...`` line runs, and prints what the page shows, every number masked
(the words, the columns and the number of lines must match; a line ``...`` stands for
any number of lines)."""

import pathlib
import re

import pytest

from manualnn.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "tabular.md"
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")

for extra in ("pyarrow", "sklearn", "palmerpenguins", "pandas", "onnx"):
    pytest.importorskip(extra, reason=f"docs/tabular.md's example needs {extra} (test extra)")


def _blocks(text):
    """(language, body) of each fenced block."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def _shape(line):
    return " ".join(NUMBER.sub("#", line).split())


def _matches(expected, actual) -> bool:
    """Whether ``actual`` lines fit ``expected`` lines, '...' matching any run of lines."""
    parts = [[]]
    for line in expected:
        if line.strip() == "...":
            parts.append([])
        else:
            parts[-1].append(_shape(line))
    got = [_shape(line) for line in actual]
    if got[:len(parts[0])] != parts[0]:
        return False
    pos = len(parts[0])
    for part in parts[1:]:
        rest = len(got) - len(part)
        while pos <= rest and got[pos:pos + len(part)] != part:
            pos += 1
        if pos > rest:
            return False
        pos += len(part)
    return pos == len(got) or len(parts) > 1 and not parts[-1]


def _run_blocks(blocks, capsys) -> int:
    """Run every ``$ manualnn`` line of the plain blocks; returns how many ran."""
    commands = 0
    for lang, body in blocks:
        if lang:
            continue
        lines = body.rstrip("\n").split("\n")
        starts = [i for i, line in enumerate(lines) if line.startswith("$ manualnn ")]
        for k, i in enumerate(starts):
            expected = lines[i + 1:starts[k + 1] if k + 1 < len(starts) else len(lines)]
            main(lines[i].split()[2:])
            captured = capsys.readouterr()
            actual = captured.err.splitlines() + captured.out.splitlines()
            assert _matches(expected, actual), (lines[i], actual)
            commands += 1
    return commands


def test_the_worked_example_prints_what_the_page_shows(tmp_path, monkeypatch, capsys):
    blocks = _blocks(PAGE.read_text())
    setup = next(body for lang, body in blocks if body.startswith("# make the example"))
    monkeypatch.chdir(tmp_path)
    exec(compile(setup, "docs/tabular.md", "exec"), {})  # noqa: S102 (the page's own code)
    assert _run_blocks(blocks, capsys) >= 8
    _check_estimators(blocks, capsys)
    # the data guide's Tables section: the same commands, in a folder of their own
    guide = (ROOT / "docs" / "guide" / "data.md").read_text()
    section = guide.split("\n## Tables\n")[1].split("\n## ")[0]
    (tmp_path / "readme").mkdir()
    for name in ("diabetes_train.csv", "diabetes_test.csv"):
        (tmp_path / "readme" / name).write_bytes((tmp_path / name).read_bytes())
    monkeypatch.chdir(tmp_path / "readme")
    assert _run_blocks(_blocks(section), capsys) == 2


def _check_estimators(blocks, capsys):
    """The estimators' block prints what the page shows, with predict's count warned."""
    i = next(k for k, (lang, body) in enumerate(blocks)
             if body.startswith("# the estimators take the table's columns"))
    capsys.readouterr()
    with pytest.warns(UserWarning, match="X: column 'island': 2 rows with a category unseen"):
        exec(compile(blocks[i][1], "docs/tabular.md", "exec"), {})  # noqa: S102
    shown = blocks[i + 1][1].rstrip("\n").split("\n")
    assert _matches(shown, capsys.readouterr().out.splitlines())
