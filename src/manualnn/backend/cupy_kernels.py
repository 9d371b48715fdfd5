"""The CUDA kernels of the CuPy backend, each one pass over memory where CuPy's own calls
would make several (the GPU twins of ``kernels.py``'s numba loops):

    relu_bias       A <- max(A + b, 0), b broadcast over the rows      (ElementwiseKernel)
    relu_backward   G <- G o 1[Z > 0] and db <- the column sums of G   (RawKernel: a block
                    of 32 columns x 8 row lanes, the lanes' sums added in shared memory, in a
                    fixed order: the same bits on every run)
    relu_mask       the same without the sums (no bias)                (ElementwiseKernel)
    softmax_xent    per row: shift by the max, exp, l_i, G_i = (S_i - Q_i) / m, whether
                    the label's logit is a largest one                 (RawKernel: a thread
                    per row of a column-major Z, so that neighbours read neighbours)
    adam            Adam's update of p, m and v, the operations of NumpyBackend.adam_ in
                    its order                                          (ElementwiseKernel)
    axpy            y <- y + a x                                       (ElementwiseKernel)

Each is compiled by CuPy on first use (and cached on disk by CuPy).
"""

from __future__ import annotations

import functools

RELU_BACKWARD = r"""
extern "C" __global__ void relu_backward(T* G, const T* Z, T* db, const long long m,
                                         const long long n) {
    __shared__ T part[8][32];
    const long long j = (long long)blockIdx.x * 32 + threadIdx.x;
    T s = 0;
    if (j < n) {
        for (long long i = threadIdx.y; i < m; i += 8) {
            const long long k = i * n + j;
            const T z = Z[k];
            const T d = z > 0 ? G[k] : G[k] * z;   // z is 0, -0 or NaN here, as on NumPy
            G[k] = d;
            s += d;
        }
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && j < n) {
        for (int r = 1; r < 8; ++r) s += part[r][threadIdx.x];
        db[j] = s;
    }
}
"""

SOFTMAX_XENT = r"""
extern "C" __global__ void softmax_xent(T* Z, const long long* y, double* rows, int* wrong,
                                        const long long m, const long long k,
                                        const long long s0, const long long s1,
                                        const double eps, const double inv_m) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= m) return;
    T* z = Z + i * s0;
    const long long yi = y[i];
    if (yi < 0 || yi >= k) { rows[i] = nan(""); wrong[i] = 1; return; }   // never index past
    T top = z[0];
    for (long long j = 1; j < k; ++j) {
        const T v = z[j * s1];
        top = (v > top || v != v) ? v : top;   // a NaN logit makes the row NaN
    }
    // the shift in double: z - max of float32 logits near +-3.4e38 overflows in float
    const double zy = (double)z[yi * s1] - (double)top;
    double shifted = 0, sum_exp = 0;
    for (long long j = 0; j < k; ++j) {
        const double t = (double)z[j * s1] - (double)top;
        shifted += t;
        const double e = exp(t);
        z[j * s1] = (T)e;
        sum_exp += e;
    }
    rows[i] = log(sum_exp) - ((1 - eps) * zy + eps / k * shifted);
    wrong[i] = zy != 0;   // after the shift the largest logit is 0 (NaN counts as wrong)
    const double scale = inv_m / sum_exp;
    for (long long j = 0; j < k; ++j) z[j * s1] = (T)(z[j * s1] * scale - eps / k * inv_m);
    z[yi * s1] -= (T)((1 - eps) * inv_m);
}
"""

TYPES = {"float32": "float", "float64": "double"}


@functools.cache
def raw(name: str, dtype_name: str):
    """The RawKernel ``name`` ("relu_backward", "softmax_xent") for float32 or float64."""
    import cupy
    source = {"relu_backward": RELU_BACKWARD, "softmax_xent": SOFTMAX_XENT}[name]
    return cupy.RawKernel(f"typedef {TYPES[dtype_name]} T;\n" + source, name)


@functools.cache
def elementwise(name: str):
    """The ElementwiseKernel ``name`` ("relu_bias", "relu_mask", "adam", "axpy")."""
    import cupy
    if name == "relu_bias":   # A <- max(A + b, 0) as np.maximum has it: -0 and NaN pass
        return cupy.ElementwiseKernel("T b", "T a", "T s = a + b; a = s < 0 ? (T)0 : s",
                                      "manualnn_relu_bias")
    if name == "relu_mask":
        return cupy.ElementwiseKernel("T z", "T g", "g = z > 0 ? g : g * z",
                                      "manualnn_relu_mask")
    if name == "axpy":
        return cupy.ElementwiseKernel("T a, T x", "T y", "y = y + x * a", "manualnn_axpy")
    if name == "adam":
        return cupy.ElementwiseKernel(
            "T g, bool low, T w, T w1, T beta2, T c2, T minus_step, T scale, T eps, T keep, "
            "T decay", "T p, T m, T v",
            """
            const T gj = decay != 0 ? g + p * decay : g;
            const T mj = low ? m + (gj - m) * w : gj - (gj - m) * w1;
            const T vj = v * beta2 + gj * c2 * gj;
            m = mj;
            v = vj;
            p = p * keep + mj / (sqrt(vj) * scale + eps) * minus_step;
            """, "manualnn_adam")
    raise KeyError(name)
