"""README's map from the lecture's equations to code stays true as the code moves."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| (?P<eq>[^|]+) \| `(?P<code>[^`]+)` \| \[[^\]]+\]\((?P<file>[\w/.]+)#L(?P<line>\d+)\) \|$")


def test_every_equation_points_at_its_line():
    rows = [ROW.match(line) for line in (ROOT / "README.md").read_text().splitlines()]
    rows = [r for r in rows if r]
    assert len(rows) >= 10, "the lecture map is missing from README.md"
    for r in rows:
        lines = (ROOT / r["file"]).read_text().splitlines()
        line = lines[int(r["line"]) - 1]
        assert r["code"] in line, f"{r['eq']}: {r['file']} line {r['line']} is now {line!r}"


def test_every_see_section_reference_has_its_section():
    text = (ROOT / "README.md").read_text()
    headings = set(re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE))
    refs = re.findall(r"\(see ([A-Z][\w -]*)\)", text)
    assert refs, "README no longer refers to its sections: drop this test"
    for ref in refs:
        assert ref in headings, f"README says (see {ref}), but has no such section"


def test_every_file_the_documentation_names_exists():
    """Paths like tests/core/test_zero_alloc.py move with the code; the docs must follow."""
    path = re.compile(r"\b((?:tests|src/manualnn|benchmarks|docs|fuzz)/[\w/.-]*\w\.(?:py|md|png))")
    for doc in ("README.md", "fuzz/README.md"):
        named = set(path.findall((ROOT / doc).read_text()))
        assert named, f"{doc} names no files: drop it here"
        missing = sorted(p for p in named if not (ROOT / p).exists())
        assert not missing, f"{doc} names files that do not exist: {missing}"
