"""The array layer that the math calls: one backend object, chosen once when a network or
an optimizer is built, never by a flag read on each call.

    numpy.py       NumpyBackend: products into buffers, a product added into its output,
                   axpy, row sums, buffers and Adam's update, in NumPy alone; it has no
                   one-pass relu layer or cross-entropy (their NumPy lines are the
                   activation's and the loss's own)
    fast.py        FastBackend: the same with NumPy's own BLAS called directly and numba's
                   compiled loops (``manualnn[fast]``)
    blas.py        NumPy's own BLAS library called directly (gemm with beta, axpy)
    blas_loops.py  the numba wrappers of those calls
    kernels.py     the compiled loops: Adam, a relu layer's two passes, softmax cross-entropy
    workspaces.py  the cache of a step's buffers, one set per batch size
    threads.py     how many BLAS threads, and which library runs them

``get_backend("auto")`` is the fast backend where numba is installed, unless the
environment variable MANUALNN_KERNELS is "numpy"; "numpy" and "fast" ask for one.
"""

from __future__ import annotations

import functools
import importlib.util
import os

BACKENDS = ("auto", "numpy", "fast")
_MADE: dict = {}


def get_backend(spec="auto"):
    """The backend named by ``spec`` ("auto", "numpy" or "fast"), or a backend passed
    through; one shared instance per name."""
    if not isinstance(spec, str):
        if hasattr(spec, "matmul") and hasattr(spec, "xp"):
            return spec
        raise TypeError(f"backend: expected one of {list(BACKENDS)} or a backend object, "
                        f"got {type(spec).__name__}")
    if spec not in BACKENDS:
        raise ValueError(f"backend: expected one of {list(BACKENDS)}, got {spec!r}")
    if spec == "auto":
        spec = "fast" if _fast_available() else "numpy"
    if spec not in _MADE:
        if spec == "fast":
            if not _fast_available(check_env=False):
                raise ImportError("backend 'fast' needs numba: pip install 'manualnn[fast]'")
            from manualnn.backend.fast import FastBackend
            _MADE[spec] = FastBackend()
        else:
            from manualnn.backend.numpy import NumpyBackend
            _MADE[spec] = NumpyBackend()
    return _MADE[spec]


def _fast_available(check_env: bool = True) -> bool:
    if check_env and os.environ.get("MANUALNN_KERNELS", "") == "numpy":
        return False
    return _numba_installed()


@functools.cache
def _numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None
