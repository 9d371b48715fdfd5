"""The fast backend: the NumPy backend with one BLAS call or one compiled loop where NumPy
needs several passes (``manualnn[fast]``, numba).

- ``matmul_add`` and ``axpy`` call NumPy's own BLAS library (``blas``): a product added
  into its output in one gemm (SGD's W <- W - lr Z^T D never stores the gradient), and
  y += a x in one pass, in the same library and thread pool as every other product;
- a relu layer's bias + relu, and relu' + the bias's row sums, one pass each (``kernels``);
- the softmax cross-entropy of a small output, row by row in one pass;
- Adam's update, one pass over p, g, m and v.

Where a call cannot run (no numba, an array of another layout or dtype) the NumPy lines
serve: the NumPy backend's for the products and Adam, the activation's and the loss's own
for the relu layer and the cross-entropy.  Either way the numbers are the same, bit for
bit but for the order in which some sums add (the bias sums, the loss's float64 sums).
"""

from __future__ import annotations

import numpy as np

from manualnn.backend import blas, kernels
from manualnn.backend.numpy import NumpyBackend, _check_like_p

AXPY_MIN = 4096   # entries: below it NumPy's two calls cost as little as the BLAS call's


class FastBackend(NumpyBackend):
    name = "fast"

    def __init__(self):
        super().__init__()
        self.fuses_products = blas.library() is not None
        self._adam_key, self._adam_coefs = None, None

    def matmul_add(self, A, B, out, alpha: float, beta: float):
        if blas.gemm(alpha, A, B, beta, out):
            return out
        return super().matmul_add(A, B, out, alpha, beta)

    def axpy(self, a: float, x, y, scratch):
        if y.size >= AXPY_MIN and blas.axpy(a, x, y):
            return y
        return super().axpy(a, x, y, scratch)

    def relu_bias_(self, A, b):
        loop = kernels.compiled("relu_bias")
        if (b is not None and loop and A.flags.c_contiguous and A.dtype == b.dtype
                and b.shape == A.shape[1:]):
            loop(A, b)
            return True
        return False

    def relu_backward_(self, G, Z, db):
        loop = kernels.compiled("relu_backward")
        if (loop and G.flags.c_contiguous and Z.flags.c_contiguous and G.shape == Z.shape
                and G.dtype == Z.dtype
                and (db is None or (db.dtype == G.dtype and db.shape == G.shape[1:]))):
            loop(G, Z, db)   # numba compiles the db=None case apart, without the sums
            return True
        return False

    def softmax_cross_entropy_(self, Z, y, eps: float):
        loop = kernels.compiled("softmax_cross_entropy")
        if not loop:
            return None
        total, wrong = loop(Z, y, float(eps), 1.0 / Z.shape[0])
        if wrong < 0:   # the loop stopped at a label it cannot index (it does not read beyond)
            raise ValueError(f"y: expected labels in [0, {Z.shape[1]}), got {y[-1 - wrong]}")
        return total, int(wrong)

    def adam_(self, p, g, m, v, scratch, *, w, beta2, step, scale, eps, keep=1.0,
              decay=0.0):
        loop = kernels.compiled("adam")
        _check_like_p(p, g, m, v)
        if (loop and p.flags.c_contiguous and g.flags.c_contiguous and m.flags.c_contiguous
                and v.flags.c_contiguous):
            loop(p, g, m, v, w < 0.5, self._coefs(p.dtype, w, beta2, step, scale, eps, keep,
                                                  decay))
            return
        super().adam_(p, g, m, v, scratch, w=w, beta2=beta2, step=step, scale=scale,
                      eps=eps, keep=keep, decay=decay)

    def _coefs(self, dtype, w, beta2, step, scale, eps, keep, decay):
        """The Adam loop's scalars as one array in the parameters' dtype (float32 math
        stays float32), made once per step: every parameter of a step shares them."""
        key = (dtype, w, beta2, step, scale, eps, keep, decay)
        if key != self._adam_key:
            self._adam_key = key
            self._adam_coefs = np.array([w, 1.0 - w, beta2, 1.0 - beta2, -step, scale, eps,
                                         keep, decay], dtype)
        return self._adam_coefs
