"""README is a landing page into the guide (docs/guide/*.md), and the guide stays true as
the code moves: the lecture map's lines hold their code, every link and named file
exists, nothing README once held is lost, and README's commands run."""

import pathlib
import re
import shlex

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = sorted((ROOT / "docs" / "guide").glob("*.md"))
PAGES = [ROOT / "README.md", *GUIDE, *sorted((ROOT / "docs").glob("*.md"))]
ROW = re.compile(r"^\| (?P<eq>[^|]+) \| `(?P<code>[^`]+)` \| \[[^\]]+\]\((?P<file>[\w/.]+)#L(?P<line>\d+)\) \|$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)

# The sections of README before it became a landing page (issue 27): each is now a
# heading of a page of docs/, where its text lives.
OLD_SECTIONS = [
    "The two commands", "What `make demo` printed here", "The math, and where it lives",
    "The command line", "`manualnn train`", "Many machines", "`manualnn report RUN_DIR`",
    "`manualnn export RUN_DIR MODEL_ONNX`", "`manualnn evaluate RUN_DIR`",
    "`manualnn predict RUN_DIR INPUT...`", "`manualnn gradcheck`", "`manualnn explain`",
    "Errors", "For learners: `manualnn check`", "The library", "Devices and array libraries",
    "The homework-0 module", "scikit-learn estimators", "Data", "Performance", "Safety",
    "For teachers", "Development",
]


def headings(text):
    """The Markdown headings of ``text`` outside fenced code."""
    return re.findall(r"^#+ (.+?)\s*$", FENCE.sub("", text), flags=re.MULTILINE)


def slug(title):
    """GitHub's anchor of a heading (and MyST's, with myst_heading_anchors)."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def test_every_equation_points_at_its_line():
    page = ROOT / "docs" / "guide" / "learners.md"
    rows = [r for r in map(ROW.match, page.read_text().splitlines()) if r]
    assert len(rows) >= 10, "the lecture map is missing from docs/guide/learners.md"
    for r in rows:
        lines = (page.parent / r["file"]).resolve().read_text().splitlines()
        line = lines[int(r["line"]) - 1]
        assert r["code"] in line, f"{r['eq']}: {r['file']} line {r['line']} is now {line!r}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_its_file_and_heading(page):
    """What GitHub shows: README's links into the guide, the guide's links to each other
    (the "(see Data)" of an option's row is a link now) and to the sources."""
    text = FENCE.sub("", page.read_text())
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name} links {target}: no such file"
        if anchor and file.suffix == ".md":
            assert anchor in map(slug, headings(file.read_text())), \
                f"{page.name} links {target}: {path or page.name} has no such heading"
        elif anchor:
            assert re.fullmatch(r"L\d+", anchor), f"{page.name} links {target}"


def test_every_file_the_documentation_names_exists():
    """Paths like tests/core/test_zero_alloc.py move with the code; the docs must follow."""
    path = re.compile(r"\b((?:tests|src/manualnn|benchmarks|docs|fuzz)/[\w/.-]*\w"
                      r"\.(?:py|md|png|ipynb))")
    for doc in (ROOT / "README.md", ROOT / "fuzz" / "README.md", *GUIDE):
        named = set(path.findall(doc.read_text()))
        missing = sorted(p for p in named if not (ROOT / p).exists())
        assert not missing, f"{doc.name} names files that do not exist: {missing}"


def test_nothing_readme_dropped_is_lost():
    titles = {t for page in ROOT.joinpath("docs").rglob("*.md") if "_build" not in page.parts
              for t in headings(page.read_text())}
    lost = [t for t in OLD_SECTIONS if t not in titles]
    assert not lost, f"README's old sections are no heading of docs/: {lost}"


def test_readme_is_a_landing_page_that_links_every_guide():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert re.search(r"^make demo .*\n^make test ", text, re.MULTILINE)   # .ci/run: make test
    assert "make docs" in text
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(text)}
    assert set(GUIDE) <= linked, sorted(p.name for p in set(GUIDE) - linked)


def test_readmes_practitioner_commands_run(tmp_path, monkeypatch, capsys):
    """The four commands of "For practitioners", as written (a digits run of 8 epochs)."""
    pytest.importorskip("sklearn", reason="the digits dataset needs the sklearn extra")
    from manualnn.cli import main
    from manualnn.data.datasets import load_dataset
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## For practitioners.*?```bash\n(.*?)```", text, re.DOTALL)[1]
    commands = [shlex.split(line.split("#")[0]) for line in block.splitlines()]
    assert [c[:2] for c in commands] == [["manualnn", c] for c in
                                        ("train", "evaluate", "predict", "export")]
    monkeypatch.chdir(tmp_path)
    np.save("three_digits.npy", load_dataset("digits").X_test[:3])
    for command in commands:
        if command[1] == "export" and not _has("onnx"):
            continue   # export needs the onnx extra; the rest runs without it
        assert main(command[1:] + (["--threads", "1"] if command[1] != "export" else [])) == 0
    out = capsys.readouterr().out
    assert "run folder: runs/digits" in out
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out)[1])
    assert accuracy > 90, out   # the guide shows 94.71% for this run
    assert out.count("three_digits.npy[") == 3


def _has(module):
    import importlib.util
    return importlib.util.find_spec(module) is not None
