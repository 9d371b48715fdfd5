"""The array namespaces that the math calls through, with NumPy's ``out=`` keyword:
NumPy itself, CuPy's own functions, or any array API namespace wrapped so that
``xp.tanh(A, out=A)`` and ``xp.copyto(G, Z)`` write into the buffers given.

The floor under the backends: ``device.py`` (what the non-NumPy backends share) and
``array_api.py`` (the array API backend) both use it, and it uses neither.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["CREATION", "NativeFirst", "WithOut", "compat", "namespace"]


def compat():
    """The ``array_api_compat`` module, or an ImportError saying which extra to install."""
    try:
        import array_api_compat
    except ImportError:
        raise ImportError("backend 'array_api' needs array-api-compat: "
                          "pip install 'manualnn[array-api]'") from None
    return array_api_compat


class WithOut:
    """A namespace whose functions take NumPy's ``out=``: the result is written into it."""

    def __init__(self, raw):
        self._raw, self.__name__ = raw, raw.__name__

    def __getattr__(self, name):
        f = getattr(self._raw, name)
        if callable(f) and not isinstance(f, type) and not name.startswith("_"):
            f = _with_out(f)
        setattr(self, name, f)   # looked up once
        return f

    def copyto(self, dst, src) -> None:
        dst[...] = src


class NativeFirst(WithOut):
    """A library's own functions where it has them (CuPy's take ``out=``), the array API
    namespace's for the rest (``astype``, ...); without array-api-compat (``raw`` None),
    the library's own and the standard's ``astype``."""

    def __init__(self, native, raw=None):
        super().__init__(native if raw is None else raw)
        self._native, self.__name__ = native, native.__name__

    def __getattr__(self, name):
        f = getattr(self._native, name, None)
        if f is None:
            return super().__getattr__(name)
        if name in CREATION:   # CuPy makes arrays on the current device and takes no device=
            f = _without_device(f)
        setattr(self, name, f)
        return f

    @staticmethod
    def astype(x, dtype, copy=True):
        return x.astype(dtype, copy=copy)


CREATION = {"arange", "asarray", "empty", "zeros", "ones", "full", "eye", "linspace"}


def _without_device(f):
    @functools.wraps(f)
    def call(*args, device=None, **kwargs):
        return f(*args, **kwargs)
    return call


def _with_out(f):
    @functools.wraps(f)
    def call(*args, out=None, **kwargs):
        r = f(*args, **kwargs)
        if out is None:
            return r
        out[...] = r
        return out
    return call


_NAMESPACES: dict = {}


def namespace(A):
    """The namespace whose functions work on A, with NumPy's ``out=`` keyword: NumPy for
    NumPy arrays (one type test, nothing more on the benchmarked paths), CuPy for CuPy
    arrays, and for any other the array API namespace of A (``array_api_compat``), where
    ``out=`` is emulated by writing the result into ``out``."""
    if type(A) is np.ndarray:
        return np
    kind = type(A)
    if kind not in _NAMESPACES:
        if isinstance(A, np.ndarray):
            _NAMESPACES[kind] = np
        elif kind.__module__.split(".")[0] == "cupy":
            import cupy
            _NAMESPACES[kind] = NativeFirst(cupy)   # CuPy's own calls, which take out=
        else:
            _NAMESPACES[kind] = WithOut(compat().array_namespace(A))
    return _NAMESPACES[kind]
