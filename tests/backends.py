"""Every backend the tests run the engine on, each as a pytest param that skips, with the
reason, where its library (or a GPU) is missing: NumPy always; the fast backend where
numba is installed; the array API backend on array-api-strict (a test extra) and on torch
CPU through array-api-compat; CuPy only where ``cupy.is_available()``."""

from __future__ import annotations

import importlib.util

import pytest


def _cupy_reason() -> str | None:
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install 'manualnn[cuda]')"
    import cupy
    if not cupy.is_available():
        return "no CUDA GPU: cupy.is_available() is False"
    return None


def _missing(module: str, why: str):
    return None if importlib.util.find_spec(module) is not None else why


def on(ops, net):
    """``net`` (a NumPy one) with copies of its weights on the backend ``ops``."""
    from manualnn import MLP
    W = [ops.from_host(w.copy()) for w in net.W]
    b = [ops.from_host(v.copy()) for v in net.b] if net.bias else None
    acts = [a.name for a in net.activations]
    return MLP.from_weights(W, b, acts[:-1], acts[-1], backend=ops)


def make(name: str):
    """The backend called ``name`` in the tests' list."""
    from manualnn.backend import get_backend
    if name == "array-api-strict":
        import array_api_strict
        return get_backend(array_api_strict)
    if name == "torch-cpu":
        import torch
        return get_backend(torch)
    return get_backend(name)


REASONS = {
    "numpy": None,
    "fast": _missing("numba", "numba is not installed (pip install 'manualnn[fast]')"),
    "array-api-strict": _missing("array_api_strict", "array-api-strict is not installed "
                                 "(pip install 'manualnn[test]')"),
    "torch-cpu": _missing("torch", "torch is not installed (make .venv/.test installs "
                          "its CPU build)"),
    "cupy": _cupy_reason(),
}
BACKENDS = [pytest.param(name, marks=pytest.mark.skipif(bool(why), reason=why or ""),
                         id=name) for name, why in REASONS.items()]
FOREIGN = [p for p in BACKENDS if p.values[0] not in ("numpy", "fast")]
