"""The array primitives the network calls, and the workspaces they write into.

This is the one module that knows which array library runs the math (NumPy).  The
network never calls NumPy for its matrix work directly: it asks for a workspace of
buffers for a batch of m rows once, then writes every product into those buffers with
``matmul`` and ``rowsum``, so a steady training step allocates no arrays.

On small layers a step is dominated by the fixed cost of each NumPy call (about a
microsecond), not by arithmetic, so the primitives here are chosen for the fewest and
cheapest calls: a row sum is a BLAS product with a ones vector, not a ufunc reduction.

Two primitives reach BLAS through scipy where it is installed (``manualnn[fast]``), for
what NumPy cannot do in one pass: ``matmul_add`` (gemm with beta, adding a product into
its output) and ``axpy`` (y += a x).  Without scipy they fall back to NumPy, and so
they do, together with the numba kernels of ``kernels``, after ``extras(False)`` or with
the environment variable MANUALNN_KERNELS=numpy.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict

import numpy as np

xp = np
_ONES: dict = {}
AXPY_MIN = 4096   # entries; see axpy
_EXTRAS: bool | None = None


def matmul(A, B, out):
    """out <- A @ B, shapes (m, n) @ (n, p) -> (m, p), written into ``out``."""
    return xp.matmul(A, B, out=out)


def matmul_add(A, B, out, alpha: float, beta: float):
    """out <- alpha A @ B + beta out, shapes (m, n) @ (n, p) -> (m, p), in place.

    One BLAS gemm reads ``out`` while it writes the product, so an optimizer can step a
    weight by its gradient W <- W - lr Z^T D without the gradient ever being stored.
    With beta = 0 the old contents of ``out`` are ignored (even NaN).  BLAS is
    column-major: for a C-ordered ``out`` it computes out^T = alpha B^T A^T + beta out^T,
    on transposed views, copying nothing.  The NumPy fallback makes a temporary.
    """
    gemm = _blas("gemm", out.dtype)
    if gemm is not None and out.flags.c_contiguous and A.dtype == B.dtype == out.dtype:
        (a, trans_a), (b, trans_b) = _fortran(B.T), _fortran(A.T)
        if a is not None and b is not None:
            # out.T is Fortran-ordered in gemm's dtype: overwrite_c makes it the result
            gemm(alpha, a, b, beta=beta, c=out.T, trans_a=trans_a, trans_b=trans_b,
                 overwrite_c=1)
            return out
    product = xp.matmul(A, B)
    product *= alpha
    if beta == 0:
        np.copyto(out, product)
    else:
        out *= beta
        out += product
    return out


def axpy(a: float, x, y, scratch):
    """y <- y + a x for arrays of one shape and dtype; ``scratch`` is a spare of that shape.

    BLAS axpy is one pass over memory where NumPy needs two (a x into the scratch, then
    the sum): 3x faster on a million entries.  Below AXPY_MIN entries NumPy's two calls
    cost less than scipy's wrapper, and they are the fallback without scipy.
    """
    f = _blas("axpy", y.dtype) if y.size >= AXPY_MIN else None
    if f is not None and x.dtype == y.dtype and x.flags.c_contiguous and y.flags.c_contiguous:
        f(x.reshape(-1), y.reshape(-1), a=a)   # a contiguous y of axpy's dtype: in place
        return y
    np.multiply(x, a, out=scratch)
    y += scratch
    return y


def has_blas() -> bool:
    """Whether ``matmul_add`` and ``axpy`` run as one BLAS call (scipy is installed)."""
    return _blas("gemm", np.dtype(np.float64)) is not None


def extras(enabled: bool | None = None) -> bool:
    """Whether the optional fast paths run: scipy's BLAS here, numba's kernels in
    ``kernels`` (``pip install 'manualnn[fast]'``; each is used only where installed).

    On unless the environment variable MANUALNN_KERNELS is "numpy"; ``extras(False)``
    turns them off (NumPy alone, to compare), ``extras(True)`` on.  Optimizers decide at
    construction whether they can fuse their update into a product.
    """
    global _EXTRAS
    if enabled is not None:
        _EXTRAS = bool(enabled)
    elif _EXTRAS is None:
        _EXTRAS = os.environ.get("MANUALNN_KERNELS", "") != "numpy"
    return _EXTRAS


@contextlib.contextmanager
def extras_set(enabled: bool):
    """``with extras_set(False):`` runs a block with the fast paths off (or on), then puts
    ``extras()`` back as it was."""
    before = extras()
    extras(enabled)
    try:
        yield
    finally:
        extras(before)


_BLAS: dict = {}


def _blas(name: str, dtype):
    """scipy's BLAS routine ``name`` for float32/float64 (sgemm, daxpy, ...), or None."""
    if not extras():
        return None
    key = (name, dtype)
    if key not in _BLAS:
        try:
            from scipy.linalg import blas
        except ImportError:
            _BLAS[key] = None
        else:
            _BLAS[key] = blas.get_blas_funcs(name, dtype=dtype) if dtype in (
                np.float32, np.float64) else None
    return _BLAS[key]


def _fortran(M):
    """(array, trans): an F-ordered array and whether BLAS must transpose it to get M."""
    if M.flags.f_contiguous:
        return M, 0
    if M.flags.c_contiguous:
        return M.T, 1
    return None, 0


def rowsum(D, out):
    """out <- sum of the rows of D: (m, n) -> (n,), written into ``out``.

    Computed as 1^T D, one BLAS matrix-vector product: about 4x faster than
    ``D.sum(axis=0)`` for a batch of 100 rows, where the ufunc reduction's set-up dominates.
    """
    return xp.matmul(ones(D.shape[0], D.dtype), D, out=out)


def ones(m: int, dtype):
    """A read-only vector of m ones, made once per (m, dtype) and shared."""
    key = (m, dtype)
    v = _ONES.get(key)
    if v is None:
        if len(_ONES) >= 16:   # batch sizes come and go; keep the cache small
            _ONES.clear()
        v = _ONES[key] = xp.ones(m, dtype)
        v.flags.writeable = False
    return v


def empty(shape, dtype, order: str = "C"):
    return xp.empty(shape, dtype=dtype, order=order)


class Workspaces:
    """A small least-recently-used cache of buffer sets, one set per batch size m.

    A training epoch needs at most two (the full batch and the last, shorter one), and
    evaluation one more for its chunks; ``build(m)`` makes the set for m rows.
    """

    def __init__(self, build, keep: int = 3):
        self._build, self._keep, self._sets = build, keep, OrderedDict()
        self._last_m, self._last = None, None

    def get(self, m: int):
        if m == self._last_m:   # the common case, a run of equal batches: no reordering
            return self._last
        sets = self._sets
        if m in sets:
            sets.move_to_end(m)
        else:
            sets[m] = self._build(m)
            while len(sets) > self._keep:
                sets.popitem(last=False)
        self._last_m, self._last = m, sets[m]
        return self._last

    def clear(self):
        self._sets.clear()
        self._last_m, self._last = None, None
