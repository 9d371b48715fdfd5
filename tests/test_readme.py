"""README's map from the lecture's equations to code stays true as the code moves."""

import ast
import fnmatch
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


def test_imports_point_downwards_through_the_layers_that_readme_lists():
    """Every module sits in one layer of README's map, and imports only from its own
    layer or the ones below (the package's own ``__init__`` aside)."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("src/manualnn/\n"):]
    block = block[:block.index("\ntests/")]
    order, layer_of, current = ["math core", "training", "interfaces"], {}, None
    for line in block.splitlines()[1:]:
        m = re.match(r"  (math core|training|interfaces)\s+(.*)", line)
        current = order.index(m[1]) if m else current
        for pattern in (m[2] if m else line).split():
            layer_of[pattern] = current

    def layer(module):
        found = [n for p, n in layer_of.items() if fnmatch.fnmatch(f"{module}.py", p)]
        assert found, f"{module}.py is not in README's map of src/manualnn"
        return found[0]

    for path in sorted((ROOT / "src" / "manualnn").glob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        mine = layer(path.stem)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                for target in [node.module] if node.module else [a.name for a in node.names]:
                    if target != "__version__":
                        assert layer(target) <= mine, f"{path.name} imports {target} upwards"
