"""What the backends whose arrays are not NumPy's share (CuPy, the array API): copies
between the host and the device, buffers in the namespace's dtypes, and the checks of
arrays at the public boundary, which take NumPy arrays (moved once) or native ones.

A subclass sets ``raw`` (the namespace that makes arrays: ``cupy``, or an
``array_api_compat`` namespace), ``xp`` (the namespace with NumPy's ``out=``) and
``device`` (where new arrays go; None: the namespace's default).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from manualnn import checks
from manualnn.backend.namespaces import compat, namespace

FLOAT_NAMES = ("float32", "float64")


class DeviceArrays:
    host = False   # the arrays are not NumPy's: a NumPy array given is moved here
    check_every = 1
    finite = staticmethod(math.isfinite)
    raw: Any = None   # the namespace that makes arrays
    xp: Any = None    # the namespace with NumPy's out=
    device: Any = None

    def dtype(self, dtype):
        """The namespace's dtype for a NumPy dtype (or name); its own dtypes pass."""
        try:
            return getattr(self.raw, np.dtype(dtype).name)
        except TypeError:
            return dtype

    def np_dtype(self, dtype) -> np.dtype:
        """The NumPy dtype of one of the namespace's (torch.float32 -> float32)."""
        try:
            return np.dtype(dtype)
        except TypeError:
            return np.dtype(str(dtype).rsplit(".", 1)[-1])

    # -- buffers ----------------------------------------------------------------------
    def empty(self, shape, dtype, order: str = "C"):
        """A new array; ``order`` is NumPy's layout hint, which the standard has not."""
        return self.raw.empty(_shape(shape), dtype=self.dtype(dtype), device=self.device)

    def zeros(self, shape, dtype):
        return self.raw.zeros(_shape(shape), dtype=self.dtype(dtype), device=self.device)

    def zeros_like(self, a):
        return self.raw.zeros_like(a)

    def empty_like(self, a):
        return self.raw.empty_like(a)

    def copy(self, a):
        return self.raw.asarray(a, copy=True)

    def ones(self, m: int, dtype):
        """A vector of m ones, made once per (m, dtype) and shared."""
        key = (m, str(dtype))
        cache = self.__dict__.setdefault("_ones", {})
        if key not in cache:
            if len(cache) >= 16:
                cache.clear()
            cache[key] = self.raw.ones(m, dtype=self.dtype(dtype), device=self.device)
        return cache[key]

    # -- host <-> device --------------------------------------------------------------
    def is_native(self, a) -> bool:
        return not isinstance(a, (np.ndarray, np.generic, list, tuple, int, float))

    def from_host(self, a):
        """A NumPy array (or a native one, passed through) on this backend's device."""
        if not self.is_native(a):
            a = np.asarray(a)
            return self.raw.asarray(a, dtype=self.dtype(a.dtype), device=self.device)
        return a

    def to_numpy(self, a, copy: bool = False):
        """A NumPy array with a's values (always a copy off the host)."""
        if isinstance(a, np.ndarray):
            return a.copy() if copy else a
        host = host_copy(a)
        return host.copy() if copy else host

    def assign(self, p, v) -> None:
        p[...] = self.from_host(v)

    def _matmul_add_by_product(self, matmul, A, B, out, alpha: float, beta: float):
        """out <- alpha A @ B + beta out through a product ``matmul(A, B)`` in a temporary,
        in the NumPy backend's order of operations (beta = 0 ignores out)."""
        product = matmul(A, B)
        product *= alpha
        if beta == 0:
            out[...] = product
        else:
            out *= beta
            out += product
        return out

    def take_rows(self, a, rows, out):
        out[...] = self.raw.take(a, rows, axis=0)
        return out

    def uniform_(self, M, rng) -> None:
        """M <- uniform draws in [0, 1) made on the host by the NumPy Generator ``rng``,
        so that a seed gives the masks of the NumPy backend."""
        host = np.empty(tuple(M.shape), self.np_dtype(M.dtype))
        rng.random(out=host, dtype=host.dtype)
        M[...] = self.from_host(host)

    # -- checks at the boundary -------------------------------------------------------
    def float_input(self, value, name, ndim=None, cols=None, dtype=None, finite=True):
        """``checks.float_array`` for a NumPy array or list (then moved to the device), or
        the same checks on a native array of this namespace."""
        if not self.is_native(value):
            return self.from_host(checks.float_array(value, name, ndim, cols, dtype, finite))
        self._same_namespace(value, name)
        kind = self.np_dtype(value.dtype)
        if kind.kind != "f" and kind.kind not in "biu":
            raise TypeError(f"{name}: expected a numeric array, got dtype {kind}")
        target = checks.float_dtype(dtype) if dtype is not None else \
            (kind if kind in checks.FLOAT_DTYPES else np.dtype(np.float64))
        if kind != target:
            value = self.xp.astype(value, self.dtype(target))
        shape = tuple(value.shape)
        if ndim is not None and len(shape) != ndim:
            raise ValueError(f"{name}: expected a {ndim}-D array, got shape {shape}")
        if ndim == 2 and shape[0] == 0:
            raise ValueError(f"{name}: expected at least one row, got shape {shape}")
        if cols is not None and shape[-1] != cols:
            raise ValueError(f"{name}: expected {cols} columns, got shape {shape}")
        if finite and not bool(self.xp.all(self.xp.isfinite(value))):
            raise ValueError(f"{name}: expected finite values, got NaN or infinity")
        return value

    def weight_input(self, value, name, shape):
        """A parameter: float32/float64, exact shape, finite; a NumPy one is checked by
        ``checks.weight_array`` and moved, a native one checked here (never converted)."""
        if not self.is_native(value):
            return checks.weight_array(value, name, shape)
        self._same_namespace(value, name)
        if self.np_dtype(value.dtype) not in checks.FLOAT_DTYPES:
            raise TypeError(f"{name}: expected a float32 or float64 array, got dtype "
                            f"{value.dtype}")
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(value.shape)}")
        if not bool(self.xp.all(self.xp.isfinite(value))):
            raise ValueError(f"{name}: expected finite values, got NaN or infinity")
        return value

    def _same_namespace(self, value, name) -> None:
        mine = getattr(self.xp, "__name__", "")
        theirs = getattr(namespace(value), "__name__", "")
        if mine != theirs:
            raise TypeError(f"{name}: expected an array of {mine} (this network's backend), "
                            f"got {type(value).__module__}.{type(value).__name__}")

    def __repr__(self):
        where = "" if self.device is None else f" on {self.device}"
        return f"<backend {self.name} ({getattr(self.xp, '__name__', self.xp)}{where})>"


def host_copy(a) -> np.ndarray:
    """A NumPy array with the values of any library's array a: shared with a where it is
    on the host, else copied over (through DLPack, or the library's own to_device)."""
    try:
        return np.asarray(a)
    except (TypeError, RuntimeError, ValueError):
        pass
    try:   # the standard's way off a device; NumPy asks the producer for a host copy
        return np.from_dlpack(a, device="cpu", copy=True)
    except (TypeError, RuntimeError, ValueError, BufferError, AttributeError):
        return np.asarray(compat().to_device(a, "cpu"))


def _shape(shape) -> tuple:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
