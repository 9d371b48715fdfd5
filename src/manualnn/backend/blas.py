"""NumPy's own BLAS library, called from compiled code: gemm with beta, and axpy.

Two operations of a training step have no NumPy spelling of one pass: adding a product
into its output (gemm with beta, for SGD's W <- W - lr Z^T D) and y <- y + a x (axpy).
They go straight to the BLAS library that NumPy itself loaded, found by threadpoolctl,
through numba (``manualnn[fast]``), for two reasons:

- one thread pool: every product of a step then runs in the one library, so its threads
  never fight another library's.  A second BLAS (scipy's, say) spins its threads for a
  while after each call, and two pools spinning on two cores made SGD 7-38x slower;
- the cheapest call: numba's call costs about a microsecond, less than NumPy's own matmul.

The library's routines are bound by name (llvmlite's ``add_symbol``) before the first
call, so the compiled wrappers are cached on disk like the other loops in ``kernels``.
Only CBLAS with 64-bit integers is used (NumPy's wheels since 2.0 ship one: symbols such as
``scipy_cblas_sgemm64_``); where none is found, or without numba, ``gemm`` and ``axpy``
answer False and the caller runs NumPy's passes.  The user's threadpoolctl limits apply,
since the library is NumPy's.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

NO_TRANS, TRANS = 111, 112   # CBLAS; the calls are row-major (101)
_NAMES = ("scipy_cblas_{}64_", "cblas_{}64_", "cblas_{}_64")   # 64-bit-integer CBLAS
_STATE: dict = {}   # "loops": (gemm, axpy) compiled, or False; "path": the library


def gemm(alpha: float, A, B, beta: float, C) -> bool:
    """C <- alpha A @ B + beta C in place, A (m, k), B (k, n), C (m, n) C-ordered, all of
    one dtype (float32 or float64), each of A, B C- or F-ordered (a transposed view is
    read as it lies, copying nothing).  With beta = 0 the old C is ignored, NaN included.
    False (nothing done) where NumPy's BLAS cannot be called or the arrays do not fit.
    """
    loops = _loops()
    if not (loops and C.flags.c_contiguous and A.dtype == B.dtype == C.dtype
            and A.dtype in (np.float32, np.float64)
            and A.shape[1] == B.shape[0] and C.shape == (A.shape[0], B.shape[1])):
        return False
    (a, ta, lda), (b, tb, ldb) = _operand(A), _operand(B)
    if a is None or b is None or A.size == 0 or B.size == 0 or C.size == 0:
        return False
    loops[0](ta, tb, alpha, a, lda, b, ldb, beta, C)
    return True


def axpy(a: float, x, y) -> bool:
    """y <- y + a x in place for C-ordered arrays of one shape and dtype; False (nothing
    done) where NumPy's BLAS cannot be called or the arrays do not fit."""
    loops = _loops()
    if not (loops and x.shape == y.shape and x.dtype == y.dtype
            and y.dtype in (np.float32, np.float64)
            and x.flags.c_contiguous and y.flags.c_contiguous):
        return False
    loops[1](a, x.reshape(-1), y.reshape(-1))
    return True


def library() -> str | None:
    """The file of the BLAS library that ``gemm`` and ``axpy`` call, or None."""
    _loops()
    return _STATE.get("path")


def _operand(M):
    """(M, trans, leading dimension) for row-major CBLAS, or (None, 0, 0) when M is
    neither C- nor F-ordered."""
    rows, cols = M.shape
    if M.flags.c_contiguous:
        return M, NO_TRANS, max(cols, 1)
    if M.flags.f_contiguous:
        return M.T, TRANS, max(rows, 1)
    return None, 0, 0


def _loops():
    if "loops" not in _STATE:
        _STATE["loops"] = _bind() and _compile()
    return _STATE["loops"]


def _bind() -> bool:
    """Find NumPy's BLAS and its 64-bit CBLAS routines; bind them under fixed names."""
    try:
        import llvmlite.binding as llvm
        import numba  # noqa: F401
        from threadpoolctl import threadpool_info
    except ImportError:
        return False
    path = _numpy_blas_path(threadpool_info())
    if path is None:
        return False
    try:
        dll = ctypes.CDLL(path)
    except OSError:
        return False
    for pattern in _NAMES:
        names = {f: pattern.format(f) for f in ("sgemm", "dgemm", "saxpy", "daxpy")}
        if all(hasattr(dll, n) for n in names.values()):
            for f, n in names.items():
                llvm.add_symbol(f"manualnn_{f}", ctypes.cast(getattr(dll, n), ctypes.c_void_p).value)
            _STATE["path"] = path
            return True
    return False


def _numpy_blas_path(info) -> str | None:
    """The BLAS library file NumPy loaded: the one in NumPy's own folders (its wheels'
    numpy.libs), else the only BLAS loaded at all (NumPy is imported, so it is NumPy's)."""
    blas = [lib["filepath"] for lib in info if lib.get("user_api") == "blas"]
    home = os.path.dirname(os.path.dirname(os.path.realpath(np.__file__)))
    own = [p for p in blas if os.path.realpath(p).startswith(os.path.join(home, "numpy"))]
    if own:
        return own[0]
    return blas[0] if len(blas) == 1 else None


def _compile():
    """(gemm, axpy): the numba wrappers, each tried once per dtype on a known answer;
    False if numba cannot make them or they answer wrong."""
    import warnings

    try:
        from manualnn.backend import blas_loops as loops
        A = np.array([[1.0, 2.0], [3.0, 4.0]])
        for t in (np.float32, np.float64):
            C, y = np.ones((2, 2), t), np.ones(2, t)
            loops.gemm(NO_TRANS, TRANS, 2.0, A.astype(t), 2, A.astype(t), 2, 1.0, C)
            loops.axpy(3.0, A[0].astype(t), y)
            if not (np.array_equal(C, 1 + 2 * A @ A.T) and np.array_equal(y, [4.0, 7.0])):
                raise ArithmeticError(f"gemm or axpy gave a wrong answer in {t.__name__}")
    except Exception as error:  # noqa: BLE001  (whatever fails, NumPy serves)
        warnings.warn(f"manualnn: NumPy's BLAS could not be called from numba ({error}); "
                      "using NumPy", RuntimeWarning, stacklevel=3)
        return False
    return loops.gemm, loops.axpy
