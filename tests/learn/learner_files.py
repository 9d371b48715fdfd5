"""The hand-written learners in tests/learn/learners/: each file defines some of the
learner's functions, in its own style, and EXPECTED {function: "correct" | (id, layer)}.
A layer is an int, "L" (the last layer) or "L-1", or None (none to check)."""

import importlib.util
import pathlib

FOLDER = pathlib.Path(__file__).resolve().parent / "learners"
FILES = sorted(FOLDER.glob("*.py"))


def load(path):
    spec = importlib.util.spec_from_file_location(f"learner_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected(module):
    """[(function, id or verdict, layer)] of a learner module."""
    out = []
    for function, want in module.EXPECTED.items():
        want = (want, None) if isinstance(want, str) else want
        out.append((function, *want))
    return out


def layer_of(want, variant):
    L = len(variant.widths) - 1
    return {"L": L, "L-1": L - 1}.get(want, want)
