"""The package's folders are its layers, and imports point one way through them.

    backend <- core <- train <- cli, sklearn        (and simple_ml, the course's module)

data/ and io/ sit beside the stack: data (files, datasets, preprocessing) needs nothing of
it, io (model files, run folders) reads the network, the training state and the
preprocessing saved with a model, and neither reaches the interfaces.  Two root modules
serve every layer: ``checks`` (validation at the boundary) and ``atomic`` (file writes, and
reads of regular files only, whose refusals are checks' DataError).
"""

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "manualnn"
BASE = {"checks", "atomic"}
BELOW = {
    "checks": set(),
    "atomic": {"checks"},
    "backend": BASE,
    "core": BASE | {"backend"},
    "train": BASE | {"backend", "core"},
    "data": BASE,
    "io": BASE | {"backend", "core", "train", "data"},
    "simple_ml": BASE | {"backend", "core", "train", "data"},
    "learn": BASE | {"backend", "core", "train", "data", "io", "simple_ml"},
    "cli": BASE | {"backend", "core", "train", "data", "io", "simple_ml", "learn"},
    "sklearn": BASE | {"backend", "core", "train", "data", "io"},
    "serialize": {"io"},   # the public path of io.serialize
    "distributed": {"train"},   # the public path of train.distributed
    "__init__": set(),   # its names load lazily, by module name
    "__main__": {"launch"},
    "launch": {"cli"},
}


def layer_of(path: pathlib.Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_layers(path: pathlib.Path):
    """(line, layer) for each manualnn import of the file; relative imports are refused."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name} line {node.lineno}: a relative import"
            names = [node.module] if node.module != "manualnn" else [
                f"manualnn.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = (name or "").split(".")
            if parts[0] == "manualnn" and len(parts) > 1 and parts[1] != "__version__":
                yield node.lineno, parts[1]


FILES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SRC)) for p in FILES])
def test_each_module_imports_only_its_own_layer_or_those_below(path):
    mine = layer_of(path)
    assert mine in BELOW, f"{path.relative_to(SRC)}: {mine} is not a known layer"
    for line, target in imported_layers(path):
        assert target == mine or target in BELOW[mine], (
            f"{path.relative_to(SRC)} line {line} imports {target}, above or beside {mine}")


def test_the_layers_form_no_cycle():
    seen, order = set(), []

    def visit(layer, trail=()):
        assert layer not in trail, f"a cycle: {' -> '.join((*trail, layer))}"
        if layer not in seen:
            seen.add(layer)
            for below in BELOW[layer]:
                visit(below, (*trail, layer))
            order.append(layer)

    for layer in BELOW:
        visit(layer)
    assert len(order) == len(BELOW)


def test_every_folder_is_a_package_that_says_what_it_holds():
    for folder in (p for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = folder / "__init__.py"
        assert init.exists(), f"{folder.name}/ has no __init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        for module in folder.glob("*.py"):
            if module.name != "__init__.py":
                assert module.name in doc, f"{folder.name}/__init__.py does not name {module.name}"


def test_the_packages_lazy_names_are_its_public_names():
    import manualnn
    assert sorted(manualnn.__all__) == sorted([*manualnn._WHERE, "__version__"])
    for name in manualnn._WHERE:
        assert getattr(manualnn, name) is not None


def module_imports() -> dict[str, set[str]]:
    """Each module's name: the manualnn modules it imports anywhere (at the top or inside
    a function), ``from package import name`` counting as the module package.name where
    one exists and as the package otherwise."""
    def name_of(path):
        parts = ("manualnn", *path.relative_to(SRC).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    modules = {name_of(p): p for p in FILES}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                          else node.module for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_two_modules_import_each_other_even_inside_a_function():
    """What two modules both need sits one floor lower (backend/namespaces.py under
    device.py and array_api.py; train/evaluation.py under loop.py and step.py)."""
    graph, done = module_imports(), set()

    def visit(module, trail):
        assert module not in trail, f"an import cycle: {' -> '.join((*trail, module))}"
        if module not in done:
            for below in sorted(graph[module]):
                visit(below, (*trail, module))
            done.add(module)

    for module in sorted(graph):
        visit(module, ())
