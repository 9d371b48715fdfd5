"""The array layer that the math calls: one backend object, chosen once when a network or
an optimizer is built, never by a flag read on each call.

    numpy.py       NumpyBackend: products into buffers, a product added into its output,
                   axpy, row sums, buffers and Adam's update, in NumPy alone; it has no
                   one-pass relu layer or cross-entropy (their NumPy lines are the
                   activation's and the loss's own)
    fast.py        FastBackend: the same with NumPy's own BLAS called directly and numba's
                   compiled loops (``manualnn[fast]``)
    cupy.py        CupyBackend: the same on an NVIDIA GPU, with CuPy's fused kernels and
                   cuBLAS (``manualnn[cuda]``)
    array_api.py   ArrayAPIBackend: the same in the Python array API standard, on any
                   conforming namespace (torch, array-api-strict, CuPy; ``manualnn[array-api]``)
    cupy_kernels.py  the CUDA kernels of the CuPy backend
    namespaces.py  the namespace of an array with NumPy's ``out=`` (NumPy, CuPy's own, or
                   an array API namespace wrapped), under device.py and array_api.py
    device.py      what the backends whose arrays are not NumPy's share: host <-> device
                   copies and the checks of arrays at the boundary
    blas.py        NumPy's own BLAS library called directly (gemm with beta, axpy)
    blas_loops.py  the numba wrappers of those calls
    kernels.py     the compiled loops: Adam, a relu layer's two passes, softmax cross-entropy
    workspaces.py  the cache of a step's buffers, one set per batch size
    threads.py     how many BLAS threads, and which library runs them

``get_backend("auto")`` is the fast backend where numba is installed, unless the
environment variable MANUALNN_KERNELS is "numpy"; "numpy", "fast", "cupy" and "array_api"
ask for one ("array_api" alone is the standard over NumPy; an array namespace such as
``torch`` or ``array_api_strict`` given instead of a name is the standard over it), and
``backend_for(arrays)`` is the backend that works on the arrays given.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import types
from collections.abc import Iterable
from typing import Any

from manualnn.backend.cupy import cuda_missing
from manualnn.backend.namespaces import namespace

BACKENDS = ("auto", "numpy", "fast", "cupy", "array_api")
__all__ = ["BACKENDS", "backend_for", "cuda_missing", "get_backend", "namespace"]

_MADE: dict = {}


def get_backend(spec: Any = "auto") -> Any:
    """The backend named by ``spec`` ("auto", "numpy", "fast", "cupy" or "array_api"), the
    array API backend over a namespace module given instead (``torch``,
    ``array_api_strict``), or a backend passed through; one shared instance per name."""
    if isinstance(spec, types.ModuleType):
        from manualnn.backend.array_api import array_api_backend
        return array_api_backend(spec)
    if not isinstance(spec, str):
        if hasattr(spec, "matmul") and hasattr(spec, "xp"):
            return spec
        raise TypeError(f"backend: expected one of {list(BACKENDS)} or a backend object, "
                        f"got {type(spec).__name__}")
    if spec not in BACKENDS:
        raise ValueError(f"backend: expected one of {list(BACKENDS)}, got {spec!r}")
    if spec == "auto":
        spec = "fast" if _fast_available() else "numpy"
    if spec == "array_api":
        from manualnn.backend.array_api import array_api_backend
        return array_api_backend(None)
    if spec not in _MADE:
        if spec == "cupy":
            from manualnn.backend.cupy import CupyBackend
            _MADE[spec] = CupyBackend()
        elif spec == "fast":
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


def backend_for(arrays: Iterable[Any], spec: Any = "auto") -> Any:
    """The backend that works on ``arrays`` (a list): ``spec`` for NumPy arrays, the CuPy
    backend for CuPy arrays unless ``spec`` names the array API one, and the array API
    backend over the arrays' own namespace and device for any other kind."""
    arrays = list(arrays)
    if not isinstance(spec, str) or spec == "array_api" and not arrays:
        return get_backend(spec)
    if not arrays or not all(hasattr(a, "shape") and hasattr(a, "dtype")
                             and type(a).__module__.split(".")[0] != "numpy" for a in arrays):
        return get_backend(spec)   # NumPy's (or not arrays at all: the checks say so)
    kind = type(arrays[0]).__module__.split(".")[0]
    if kind == "cupy" and spec in ("auto", "cupy"):
        return get_backend("cupy")
    from manualnn.backend.array_api import array_api_backend
    return array_api_backend(arrays)
