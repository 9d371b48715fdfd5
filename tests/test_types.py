"""The public API is typed: every public function and method of the typed modules
annotates each parameter and its return (the annotations are what ``help()``, the API
reference and a user's type checker see), and mypy finds no error in those modules.

The fully typed modules are the library a user calls: manualnn/__init__, checks, atomic,
simple_ml, core/, train/, data/ and io/'s file formats (tensorfile, serialize, report).
mypy checks those and backend/ and the rest of io/ (annotated where a user meets them); the
interfaces (cli/, learn/, sklearn/) are not part of the run.

Strictness: mypy's defaults (the bodies of annotated functions are checked, Optional is
never implicit) plus ``warn_unused_ignores``, ``warn_redundant_casts`` and
``strict_equality`` (pyproject.toml, [tool.mypy]); the completeness of the public
signatures is this test's, since mypy cannot tell a public function from a private one.
"""

import importlib
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "manualnn"
MYPY = ["__init__", "checks", "atomic", "simple_ml", "backend", "core", "train", "data", "io"]
TYPED = ["__init__", "checks", "atomic", "simple_ml", "core", "train", "data",
         "io/tensorfile", "io/serialize", "io/report"]


def typed_modules() -> list[str]:
    names = []
    for part in TYPED:
        path = SRC / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [SRC / f"{part}.py"]
        for f in files:
            dotted = ".".join(("manualnn", *f.relative_to(SRC).with_suffix("").parts))
            names.append(dotted.removesuffix(".__init__"))
    return names


def public_callables(module):
    """(qualified name, function) of each public function and method defined in module."""
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__", "__call__"):
                    continue
                member = getattr(member, "__func__", member)   # class/static methods
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member


def missing_annotations(func) -> list[str]:
    sig = inspect.signature(func)
    missing = [p.name for i, p in enumerate(sig.parameters.values())
               if p.annotation is inspect.Parameter.empty
               and not (i == 0 and p.name in ("self", "cls"))]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("module_name", typed_modules())
def test_every_public_function_is_annotated(module_name):
    module = importlib.import_module(module_name)
    gaps = {qual: gaps for qual, f in public_callables(module) if (gaps := missing_annotations(f))}
    assert gaps == {}, f"{module_name}: unannotated {gaps}"


def test_the_package_says_it_is_typed():
    assert (SRC / "py.typed").is_file()


def test_mypy_finds_no_error_in_the_typed_modules():
    pytest.importorskip("mypy", reason="mypy (the test extra) is not installed")
    root = SRC.parents[1]
    targets = [str(SRC / (p if (SRC / p).is_dir() else f"{p}.py")) for p in MYPY]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(root / ".mypy_cache"),   # ignored
         "--config-file", str(root / "pyproject.toml"), *targets],
        capture_output=True, text=True, cwd=root, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
