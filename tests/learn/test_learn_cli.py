"""``manualnn check`` and ``manualnn exercise``: the worked examples of docs/learn.md
re-run exactly, the exit statuses 0/1/2, JSON for graders, both languages, and the
issue's scene: write the exercise, fill in a wrong backprop, be told the mistake."""

import json
import pathlib
import re
import shlex

import pytest

from cli_helpers import one_line
from manualnn.cli.app import main
from manualnn.cli.check import default_lang
from manualnn.learn.skeleton import skeleton_text
from manualnn.learn.variant import Variant

ROOT = pathlib.Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_worked_examples_of_docs_learn_md_print_what_it_shows(tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    blocks = BLOCK.findall((ROOT / "docs" / "learn.md").read_text(encoding="utf-8"))
    ran = 0
    for kind, text in blocks:
        if kind == "python" and text.startswith("# nn.py\n"):
            (tmp_path / "nn.py").write_text(text)
        if kind == "console" and text.startswith("$ manualnn "):
            command, _, shown = text.partition("\n")
            code, out, err = run(capsys, *shlex.split(command)[2:])
            assert out == shown, f"{command}: the page shows something else"
            assert code in (0, 1) and not err
            ran += 1
    assert ran >= 4


def test_the_catalogue_table_of_docs_learn_md_names_every_id():
    from manualnn.learn.catalogue import MISTAKES
    text = (ROOT / "docs" / "learn.md").read_text(encoding="utf-8")
    assert all(f"| `{mid}` |" in text for mid in MISTAKES)


def test_write_the_exercise_fill_in_a_wrong_backprop_and_be_told(tmp_path, capsys):
    path = tmp_path / "nn.py"
    code, out, _ = run(capsys, "exercise", str(path))
    assert code == 0 and "manualnn check" in out
    code, out, _ = run(capsys, "check", str(path), "--format", "json")
    verdicts = json.loads(out)
    assert code == 1 and [v["function"] for v in verdicts] == [
        "softmax_loss", "softmax_regression_epoch", "nn_epoch", "backprop", "backprop_bias"]
    assert all(v["verdict"] == "error" and v["message"].startswith("not written yet")
               and isinstance(v["line"], int) for v in verdicts)
    text = path.read_text()
    body = ("    Zs, As = [X], []\n    for W in Ws[:-1]:\n        As.append(Zs[-1] @ W)\n"
            "        Zs.append(sigma(As[-1]))\n    L = Zs[-1] @ Ws[-1]\n"
            "    S = np.exp(L - L.max(axis=1, keepdims=True))\n"
            "    S /= S.sum(axis=1, keepdims=True)\n    S[np.arange(len(y)), y] -= 1\n"
            "    G, grads = S, []\n    for i in reversed(range(len(Ws))):\n"
            "        grads.insert(0, Zs[i].T @ G)\n"
            "        G = (G @ Ws[i].T) * sigma_prime(As[i - 1]) if i else None\n"
            "    return grads\n")
    start = text.index("def backprop(")
    end = text.index("    raise NotImplementedError", start)
    path.write_text(text[:end] + body + text[end:])
    code, out, _ = run(capsys, "check", str(path), "--function", "backprop")
    assert code == 1
    assert out.startswith("backprop: mistake missing_mean [0 of 4 probes right]\n")
    assert "hint: " in out and "(S - I_y) / m" in out


def test_a_right_file_exits_0_and_zh_speaks_chinese(tmp_path, capsys):
    src = ROOT / "tests" / "learn" / "learners" / "right_loops.py"
    code, out, _ = run(capsys, "check", str(src), "--function", "softmax_loss",
                       "--function", "nn_epoch", "--lang", "zh", "--dtype", "float32")
    assert code == 0
    assert out.count("全部") == 2


@pytest.mark.parametrize("argv, match", [
    (["check", "missing.py"], "no such file"),
    (["check", "EMPTY"], "defines none of the functions"),
    (["check", "EMPTY", "--widths", "5,x"], "--widths"),
    (["check", "EMPTY", "--widths", "5,1,3"], "widths"),
    (["check", "EMPTY", "--timeout", "0"], "--timeout"),
    (["check", "EMPTY", "--function", "forward"], "--function"),
    (["check", "EMPTY", "--format", "xml"], "--format"),
    (["exercise", "EXISTING"], "refusing to overwrite"),
    (["exercise", "notes.txt"], "expected a .py file"),
])
def test_bad_command_lines_and_files_are_one_line_and_exit_2(argv, match, tmp_path, capsys):
    (tmp_path / "EMPTY.py").write_text("x = 1\n")
    (tmp_path / "EXISTING.py").write_text("# my work\n")
    argv = [str(tmp_path / f"{a}.py") if a in ("EMPTY", "EXISTING") else
            str(tmp_path / a) if a.endswith((".py", ".txt")) else a for a in argv]
    assert main(argv) == 2
    assert match in one_line(capsys)
    assert (tmp_path / "EXISTING.py").read_text() == "# my work\n"


def test_the_language_follows_the_locale():
    assert default_lang({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert default_lang({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}) == "en"
    assert default_lang({"LC_MESSAGES": "zh_TW", "LANG": "en_US"}) == "zh"
    assert default_lang({}) == "en"


def test_the_skeleton_gives_shapes_and_the_command_but_no_number_of_an_answer():
    text = skeleton_text(variant=Variant(widths=(6, 5, 3), activation="sigmoid", seed=7))
    assert "manualnn check FILE.py --widths 6,5,3 --activation sigmoid --seed 7" in text
    assert text.count("raise NotImplementedError") == 5
    floats = set(re.findall(r"\d+\.\d+", text))
    assert floats == {"0.1"}   # the course's default lr in the signatures, nothing else
    compile(text, "skeleton", "exec")


def test_readmes_example_is_the_one_docs_learn_md_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    page = (ROOT / "docs" / "learn.md").read_text(encoding="utf-8")
    shown = [t for k, t in BLOCK.findall(readme) if t.startswith("$ manualnn check")]
    assert shown and all(t in [b for _, b in BLOCK.findall(page)] for t in shown)
    assert "docs/learn.md" in readme
