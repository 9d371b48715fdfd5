"""The NumPy backend: every operation the math asks of a backend, in NumPy alone.

On small layers a step is dominated by the fixed cost of each NumPy call (about a
microsecond), not by arithmetic, so the operations here are chosen for the fewest and
cheapest calls: a row sum is a BLAS product with a ones vector, not a ufunc reduction;
Adam's update is a dozen in-place passes.  The fast backend (``fast.py``) replaces some
of them with one BLAS call or one compiled loop, and adds one-pass versions of a relu
layer and of the softmax cross-entropy, whose NumPy lines are the activation's and the
loss's own; it gives the same numbers, bit for bit but the order of some sums.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from manualnn import checks
from manualnn.backend.workspaces import Workspaces


class NumpyBackend:
    """The operations of a training step on NumPy arrays, each writing into a buffer the
    caller made once (see ``workspaces``), so that a steady step allocates nothing."""

    name = "numpy"
    xp = np
    fuses_products = False   # True where matmul_add is one gemm (an update inside it pays)
    check_every = 1          # steps between reads of the loss on the host (the GPU's defer)
    finite = staticmethod(math.isfinite)   # is this step's loss finite (False: skip it)

    def __init__(self):
        self._ones: dict = {}

    # -- products ---------------------------------------------------------------------
    def matmul(self, A, B, out):
        """out <- A @ B, shapes (m, n) @ (n, p) -> (m, p), written into ``out``."""
        return np.matmul(A, B, out=out)

    def matmul_add(self, A, B, out, alpha: float, beta: float):
        """out <- alpha A @ B + beta out, (m, n) @ (n, p) -> (m, p), in place.  With
        beta = 0 the old contents of ``out`` are ignored (even NaN).  NumPy has no
        one-call form: the product goes through a temporary."""
        product = np.matmul(A, B)
        product *= alpha
        if beta == 0:
            np.copyto(out, product)
        else:
            out *= beta
            out += product
        return out

    def axpy(self, a: float, x, y, scratch):
        """y <- y + a x for arrays of one shape and dtype; ``scratch`` is a spare of that
        shape (two passes: a x into it, then the sum)."""
        np.multiply(x, a, out=scratch)
        y += scratch
        return y

    def rowsum(self, D, out):
        """out <- sum of the rows of D: (m, n) -> (n,), as 1^T D, one BLAS matrix-vector
        product: about 4x faster than ``D.sum(axis=0)`` for 100 rows."""
        return np.matmul(self.ones(D.shape[0], D.dtype), D, out=out)

    # -- buffers ----------------------------------------------------------------------
    def empty(self, shape, dtype, order: Literal["C", "F"] = "C"):
        return np.empty(shape, dtype=dtype, order=order)

    def ones(self, m: int, dtype):
        """A read-only vector of m ones, made once per (m, dtype) and shared."""
        key = (m, np.dtype(dtype))
        v = self._ones.get(key)
        if v is None:
            if len(self._ones) >= 16:   # batch sizes come and go; keep the cache small
                self._ones.clear()
            v = self._ones[key] = np.ones(m, dtype)
            v.flags.writeable = False
        return v

    def workspaces(self, build, keep: int = 3) -> Workspaces:
        """A cache of buffer sets, one per batch size m, made by ``build(m)``."""
        return Workspaces(build, keep)

    # -- fused passes: none in NumPy; the caller runs its own NumPy lines ---------------
    def relu_bias_(self, A, b) -> bool:
        """A <- max(A + b, 0) in one pass, where this backend has one; False: not done."""
        return False

    def relu_backward_(self, G, Z, db) -> bool:
        """G <- G o 1[Z > 0] and db <- its row sums in one pass, where this backend has
        one; False: not done."""
        return False

    def softmax_cross_entropy_(self, Z, y, eps: float):
        """(mean loss, misclassified rows), Z overwritten by G, in one pass, where this
        backend has one; None: not done."""
        return None  # noqa: RET501  (None is an answer: not done)

    # -- Adam -------------------------------------------------------------------------
    def adam_(self, p, g, m, v, scratch, *, w, beta2, step, scale, eps, keep=1.0,
              decay=0.0):
        """Adam's update of p, m and v in place, all of one shape and dtype; ``scratch``
        is a spare of that shape.  Per entry (the optimizer gives step and scale):

            g <- g + decay p            (an L2 penalty's gradient; g is changed in place)
            p <- keep p                 (decoupled weight decay: keep = 1 - lr wd)
            m <- m + w (g - m)          (w = 1 - beta1; for w >= 0.5 as g - (1 - w)(g - m),
                                         torch's lerp)
            v <- beta2 v + (1 - beta2) g^2
            p <- p - step m / (scale sqrt(v) + eps)
        """
        _check_like_p(p, g, m, v)
        s = scratch
        if decay:
            np.multiply(p, decay, out=s)
            g += s
        if keep != 1.0:
            p *= keep
        np.subtract(g, m, out=s)
        if w < 0.5:   # torch's lerp takes this branch for weight < 0.5, the other beyond
            s *= w
            m += s
        else:
            s *= 1.0 - w
            np.subtract(g, s, out=m)
        np.multiply(g, 1.0 - beta2, out=s)
        s *= g
        v *= beta2
        v += s
        np.sqrt(v, out=s)
        s *= scale
        s += eps
        np.divide(m, s, out=s)
        s *= -step
        p += s

    # -- arrays at the boundary (the device backends move them; NumPy's stay) -----------
    host = True   # the arrays are NumPy's

    def np_dtype(self, dtype) -> np.dtype:
        return np.dtype(dtype)

    def from_host(self, a):
        """A NumPy array as this backend's array: here the array itself."""
        return a

    def to_numpy(self, a, copy: bool = False):
        """This backend's array as a NumPy array (a copy with ``copy``)."""
        return a.copy() if copy else a

    def zeros(self, shape, dtype):
        return np.zeros(shape, dtype)

    def zeros_like(self, a):
        return np.zeros_like(a)

    def empty_like(self, a):
        return np.empty_like(a)

    def copy(self, a):
        return a.copy()

    def assign(self, p, v) -> None:
        """p[...] <- v, v a NumPy array or one of this backend's."""
        p[...] = v

    def take_rows(self, a, rows, out):
        """out <- a[rows] for valid row numbers, without a temporary (mode="clip")."""
        return np.take(a, rows, axis=0, out=out, mode="clip")

    def uniform_(self, M, rng) -> None:
        """M <- uniform draws in [0, 1) from the NumPy Generator ``rng``."""
        rng.random(out=M, dtype=M.dtype)

    def float_input(self, value, name, ndim=None, cols=None, dtype=None, finite=True):
        """``checks.float_array``, as this backend's array."""
        return checks.float_array(value, name, ndim=ndim, cols=cols, dtype=dtype,
                                  finite=finite)

    def weight_input(self, value, name, shape):
        """``checks.weight_array``: a float32/float64 array of this backend, finite."""
        return checks.weight_array(value, name, shape)

    def __repr__(self):
        return f"<backend {self.name}>"


def _check_like_p(p, g, m, v) -> None:
    """Adam's arrays share p's shape (the compiled loop trusts it, NumPy would broadcast)."""
    if p.shape != g.shape or p.shape != m.shape or p.shape != v.shape:
        raise ValueError(f"g, m, v: expected the shape {p.shape} of p, got {g.shape}, "
                         f"{m.shape}, {v.shape}")
