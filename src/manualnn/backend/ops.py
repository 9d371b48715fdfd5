"""The array primitives the network calls, and the workspaces they write into.

This is the one module that knows which array library runs the math (NumPy).  The
network never calls NumPy for its matrix work directly: it asks for a workspace of
buffers for a batch of m rows once, then writes every product into those buffers with
``matmul`` and ``rowsum``, so a steady training step allocates no arrays.

On small layers a step is dominated by the fixed cost of each NumPy call (about a
microsecond), not by arithmetic, so the primitives here are chosen for the fewest and
cheapest calls: a row sum is a BLAS product with a ones vector, not a ufunc reduction.

Two primitives call NumPy's own BLAS library directly where numba is installed
(``manualnn[fast]``, see ``blas``), for what NumPy cannot do in one pass: ``matmul_add``
(gemm with beta, adding a product into its output) and ``axpy`` (y += a x).  Every
product of a step thus runs in one BLAS library and one thread pool.  Without numba they
fall back to NumPy, and so they do, together with the numba kernels of ``kernels``, after
``extras(False)`` or with the environment variable MANUALNN_KERNELS=numpy.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict

import numpy as np

from manualnn.backend import blas

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
    With beta = 0 the old contents of ``out`` are ignored (even NaN).  The gemm is NumPy's
    own library's (``blas``); the NumPy fallback makes a temporary.
    """
    if extras() and blas.gemm(alpha, A, B, beta, out):
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
    cost as little, and they are the fallback without ``blas``.
    """
    if y.size >= AXPY_MIN and extras() and blas.axpy(a, x, y):
        return y
    np.multiply(x, a, out=scratch)
    y += scratch
    return y


def has_blas() -> bool:
    """Whether ``matmul_add`` and ``axpy`` run as one call of NumPy's BLAS (numba is
    installed and the library has 64-bit CBLAS routines) with the fast paths on."""
    return extras() and blas.library() is not None


def extras(enabled: bool | None = None) -> bool:
    """Whether the optional fast paths run: NumPy's BLAS called directly (``blas``) and
    numba's kernels in ``kernels`` (``pip install 'manualnn[fast]'``; each is used only
    where it can run).

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
