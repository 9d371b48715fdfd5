"""The CuPy backend: the training step on an NVIDIA GPU (``manualnn[cuda]``, CuPy built
for CUDA 12; an installed ``cupy-cuda13x`` serves as well).

- products through cuBLAS into the step's buffers; SGD's W <- W - lr Z^T D as one gemm
  with beta (``matmul_add``), so the gradient is never stored;
- a relu layer's bias + relu, and relu' + the bias's sums, one kernel each; the softmax
  cross-entropy one kernel; Adam's update one kernel (``cupy_kernels``);
- the buffers are made once per batch size (the workspaces, as on NumPy), the training set
  is moved to the device once and each batch is gathered there from a permutation drawn on
  the host (the same order as on NumPy) and moved once per epoch;
- the loss stays on the device: the host reads the running sum every ``check_every`` steps
  and at the epoch's end (see ``train.loop``), so the GPU is not stopped after each step;
- dropout masks come from cuRAND's counter-based Philox generator, keyed afresh for each
  mask by a seed drawn from the network's NumPy generator: that generator (which a
  checkpoint holds) is the masks' only state.

A CUDA graph of the step (capture by ``cupy.cuda.Graph``) is not used: it could not be
measured here (no GPU), and the step's Python-side checks would have to move out of the
captured region first; see docs/array_api.md.
"""

from __future__ import annotations

import threading

import numpy as np

from manualnn.backend.device import DeviceArrays, _shape
from manualnn.backend.namespaces import NativeFirst
from manualnn.backend.workspaces import Workspaces

CHECK_EVERY = 50   # steps between reads of the loss: one synchronization per 50 steps


def cuda_missing() -> str | None:
    """None where the CuPy backend can run; else what is missing, in one sentence."""
    try:
        import cupy
    except ImportError as exc:
        return f"CuPy is not installed ({exc}): pip install 'manualnn[cuda]'"
    except Exception as exc:  # noqa: BLE001  (a broken CUDA install raises anything)
        return f"CuPy cannot be imported: {exc}"[:300]
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA GPU: CuPy sees no device"
    except Exception as exc:  # noqa: BLE001  (no driver, no device: CUDARuntimeError)
        return f"no CUDA GPU: {exc}"[:300]
    return None


class CupyBackend(DeviceArrays):
    name = "cupy"
    fuses_products = True
    check_every = CHECK_EVERY

    def __init__(self):
        missing = cuda_missing()
        if missing:
            raise RuntimeError(f"backend 'cupy': {missing}")
        import cupy
        self.cupy = self.raw = cupy
        self.xp = NativeFirst(cupy)   # CuPy's own calls, which take out=
        self.device = None
        self._rows: dict = {}
        self._philox, self._philox_lock = None, threading.Lock()

    @staticmethod
    def finite(value) -> bool:
        """Not read here: the loop reads the running sum every ``check_every`` steps."""
        return True

    # -- buffers and copies (CuPy's own calls, which take no device=) --------------------
    def empty(self, shape, dtype, order: str = "C"):
        return self.cupy.empty(_shape(shape), dtype=np.dtype(dtype), order=order)

    def zeros(self, shape, dtype):
        return self.cupy.zeros(_shape(shape), dtype=np.dtype(dtype))

    def copy(self, a):
        return a.copy()

    def dtype(self, dtype):
        return np.dtype(dtype)

    def ones(self, m: int, dtype):
        key = (m, np.dtype(dtype))
        cache = self.__dict__.setdefault("_ones", {})
        if key not in cache:
            cache[key] = self.cupy.ones(m, dtype=np.dtype(dtype))
        return cache[key]

    def is_native(self, a) -> bool:
        return isinstance(a, self.cupy.ndarray)

    def from_host(self, a):
        return a if self.is_native(a) else self.cupy.asarray(np.asarray(a))

    def to_numpy(self, a, copy: bool = False):
        return a.get() if self.is_native(a) else (np.array(a) if copy else np.asarray(a))

    def take_rows(self, a, rows, out):
        return self.cupy.take(a, rows, axis=0, out=out)

    def uniform_(self, M, rng) -> None:
        """M <- uniform draws in [0, 1) made on the GPU by cuRAND's Philox generator, keyed
        for this mask alone by a 64-bit seed drawn from the NumPy Generator ``rng``.

        Philox is counter-based: a new key costs nothing, so every state lives in ``rng``
        (a checkpoint holds it: a resumed run draws an uninterrupted one's masks; two
        networks seeded alike draw alike), and nothing per network is kept here.  The
        backend's one generator is keyed and read under a lock (threads share it)."""
        seed = rng.integers(2 ** 64, dtype=np.uint64)   # RandomState.seed refuses int64
        with self._philox_lock:
            if self._philox is None:
                from cupy.cuda import curand
                self._philox = self.cupy.random.RandomState(
                    seed, method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
            else:
                self._philox.seed(seed)
            M[...] = self._philox.random_sample(tuple(M.shape), dtype=M.dtype)

    def workspaces(self, build, keep: int = 3) -> Workspaces:
        return Workspaces(build, keep)

    # -- products ---------------------------------------------------------------------
    def matmul(self, A, B, out):
        return self.cupy.matmul(A, B, out=out)

    def matmul_add(self, A, B, out, alpha: float, beta: float):
        """out <- alpha A @ B + beta out in one cuBLAS gemm (beta = 0 ignores out)."""
        from cupy import cublas
        try:
            cublas.gemm("N", "N", A, B, out=out, alpha=alpha, beta=beta)
            return out
        except (AssertionError, ValueError, TypeError):   # a layout gemm cannot take
            return self._matmul_add_by_product(self.cupy.matmul, A, B, out, alpha, beta)

    def axpy(self, a: float, x, y, scratch):
        from manualnn.backend.cupy_kernels import elementwise
        elementwise("axpy")(y.dtype.type(a), x, y)
        return y

    def rowsum(self, D, out):
        return self.cupy.sum(D, axis=0, out=out)

    # -- fused kernels ----------------------------------------------------------------
    def relu_bias_(self, A, b) -> bool:
        from manualnn.backend.cupy_kernels import elementwise
        if b is None or b.dtype != A.dtype or tuple(b.shape) != tuple(A.shape[1:]):
            return False
        elementwise("relu_bias")(b, A)
        return True

    def relu_backward_(self, G, Z, db) -> bool:
        from manualnn.backend.cupy_kernels import elementwise, raw
        if G.shape != Z.shape or G.dtype != Z.dtype or not (
                G.flags.c_contiguous and Z.flags.c_contiguous):
            return False
        if db is None:
            elementwise("relu_mask")(Z, G)
            return True
        if db.dtype != G.dtype or db.shape != G.shape[1:] or not db.flags.c_contiguous:
            return False
        m, n = G.shape
        raw("relu_backward", G.dtype.name)(((n + 31) // 32,), (32, 8),
                                           (G, Z, db, np.int64(m), np.int64(n)))
        return True

    def softmax_cross_entropy_(self, Z, y, eps: float):
        """(mean loss, misclassified rows), both 0-d device arrays (no synchronization),
        Z overwritten by G; labels out of range give a NaN loss (the loop's check)."""
        from manualnn.backend.cupy_kernels import raw
        if Z.dtype.name not in ("float32", "float64") or y.dtype != np.int64:
            return None
        m, k = Z.shape
        rows, wrong = self._row_buffers(m)
        s0, s1 = (s // Z.itemsize for s in Z.strides)
        threads = 128
        raw("softmax_xent", Z.dtype.name)(
            ((m + threads - 1) // threads,), (threads,),
            (Z, y, rows, wrong, np.int64(m), np.int64(k), np.int64(s0), np.int64(s1),
             np.float64(eps), np.float64(1.0 / m)))
        return rows.sum() / m, wrong.sum()

    def _row_buffers(self, m):
        if m not in self._rows:
            if len(self._rows) >= 3:
                self._rows.clear()
            self._rows[m] = (self.cupy.empty(m, np.float64), self.cupy.empty(m, np.int32))
        return self._rows[m]

    def adam_(self, p, g, m, v, scratch, *, w, beta2, step, scale, eps, keep=1.0,
              decay=0.0):
        from manualnn.backend.cupy_kernels import elementwise
        if p.shape != g.shape or p.shape != m.shape or p.shape != v.shape:
            raise ValueError(f"g, m, v: expected the shape {p.shape} of p, got {g.shape}, "
                             f"{m.shape}, {v.shape}")
        t = p.dtype.type   # scalars in the array's dtype: float32 math stays float32
        elementwise("adam")(g, w < 0.5, t(w), t(1.0 - w), t(beta2), t(1.0 - beta2), t(-step),
                            t(scale), t(eps), t(keep), t(decay), p, m, v)
