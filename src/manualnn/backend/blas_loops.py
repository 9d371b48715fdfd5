"""numba wrappers around NumPy's CBLAS routines, bound by ``blas`` before this module is
imported: each takes arrays and passes their addresses, so a call costs about a
microsecond, and caches on disk (the routines are named, not addressed, in the code)."""

from __future__ import annotations

import numba
import numpy as np
from numba import types

_i32, _i64, _ptr = types.int32, types.int64, types.voidptr


def _gemm_type(t):
    return types.void(_i32, _i32, _i32, _i64, _i64, _i64, t, _ptr, _i64, _ptr, _i64, t, _ptr,
                      _i64)


def _axpy_type(t):
    return types.void(_i64, t, _ptr, _i64, _ptr, _i64)


_sgemm = types.ExternalFunction("manualnn_sgemm", _gemm_type(types.float32))
_dgemm = types.ExternalFunction("manualnn_dgemm", _gemm_type(types.float64))
_saxpy = types.ExternalFunction("manualnn_saxpy", _axpy_type(types.float32))
_daxpy = types.ExternalFunction("manualnn_daxpy", _axpy_type(types.float64))
_jit = numba.njit(cache=True, nogil=True)


@_jit
def gemm(ta, tb, alpha, A, lda, B, ldb, beta, C):
    """C <- alpha op(A) op(B) + beta C, row-major, float32 or float64 (by itemsize: numba
    compiles one version per dtype, each taking its own branch); op(A) is (m, k)."""
    m, n = C.shape
    k = A.shape[0] if ta == 112 else A.shape[1]
    a, b, c = A.ctypes.data, B.ctypes.data, C.ctypes.data
    order, ta, tb = np.int32(101), np.int32(ta), np.int32(tb)
    if C.itemsize == 4:
        _sgemm(order, ta, tb, m, n, k, np.float32(alpha), a, lda, b, ldb, np.float32(beta), c, n)
    else:
        _dgemm(order, ta, tb, m, n, k, np.float64(alpha), a, lda, b, ldb, np.float64(beta), c, n)


@_jit
def axpy(a, x, y):
    """y <- y + a x for float32 or float64 vectors (as gemm, by itemsize)."""
    if y.itemsize == 4:
        _saxpy(x.size, np.float32(a), x.ctypes.data, 1, y.ctypes.data, 1)
    else:
        _daxpy(x.size, np.float64(a), x.ctypes.data, 1, y.ctypes.data, 1)
