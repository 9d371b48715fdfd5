"""Compiled loops (numba, optional) where NumPy's passes over memory cost the most: Adam's
update, a relu layer's element-wise work, and the softmax cross-entropy of a small
output.  The fast backend (``fast.py``) calls them; their NumPy passes are the NumPy
backend's (``numpy.py``).

Adam, per entry of a parameter p with gradient g and moments m, v:

    g <- g + decay p                       (an L2 penalty's gradient, added in the pass)
    p <- keep p                            (decoupled weight decay: keep = 1 - lr wd)
    m <- m + w (g - m)                     (w = 1 - beta1; for w >= 0.5 as g - (1 - w)(g - m),
                                            torch's lerp)
    v <- beta2 v + (1 - beta2) g^2
    p <- p - step m / (scale sqrt(v) + eps)

PyTorch's Adam takes step = lr / (1 - beta1^t), scale = 1 / sqrt(1 - beta2^t);
scikit-learn's takes step = lr sqrt(1 - beta2^t) / (1 - beta1^t), scale = 1.  NumPy needs
about a dozen passes over p, g, m, v and a scratch array for this, and on a network of a
few hundred thousand weights they cost more than the matrix products of the step; the
compiled loop reads each array once.  It does NumPy's operations in NumPy's order: in
float64 the two agree bit for bit, in float32 to a rounding.

A relu layer's element-wise work (``activations.ReLU``) is two loops over its m x n
entries: forward Z = max(A + b, 0) in place, backward D = G o 1[Z > 0] with the column
sums of D (b's gradient) gathered in the same pass, where NumPy makes two and four passes
(the bias, the maximum; the mask in two, the product, the sum).  Both give NumPy's values
bit for bit but the column sums, which add the rows in another order.

The softmax cross-entropy (``losses.SoftmaxCrossEntropy``) makes about twenty NumPy calls
on an output of m x 10 entries, each costing more in set-up than in arithmetic; the
compiled loop goes row by row, once.  Its sums run in float64, so it agrees with the NumPy
passes to a few roundings.

With numba installed (``pip install 'manualnn[fast]'``) the loops compile on first use and
are cached on disk.  Where numba is missing or fails to compile, ``compiled`` answers
False and the fast backend runs the NumPy passes.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

_COMPILED: dict = {}   # name -> the compiled loop, or False where numba cannot make it


def compiled(name: str):
    """The compiled loop ``name`` ("adam", "softmax_cross_entropy", "relu_bias",
    "relu_backward"), or False without numba or where it cannot compile."""
    if name not in _COMPILED:
        _COMPILED[name] = _compile(*_LOOPS[name])
    return _COMPILED[name]


def _compile(function, *warm_up):
    """numba's compiled ``function``, tried once on ``warm_up``; False if that fails."""
    try:
        import numba
    except ImportError:
        return False
    try:   # numba raises at decoration where no cache folder is writable, and may at the call
        loop = numba.njit(cache=True, nogil=True, error_model="numpy")(function)
        loop(*warm_up)
    except Exception as error:  # noqa: BLE001  (whatever fails, NumPy serves)
        warnings.warn(f"manualnn: numba could not compile {function.__name__} ({error}); "
                      "using NumPy", RuntimeWarning, stacklevel=3)
        return False
    return loop


# The loops below are compiled with error_model="numpy": no zero-division checks inside
# them, so that LLVM can vectorize (with Python's checks, Adam's loop was slower than NumPy).
def _adam_loop(p, g, m, v, low, c):
    """c = (w, 1 - w, beta2, 1 - beta2, -step, scale, eps, keep, decay), in p's dtype:
    one array rather than nine scalars, since each argument costs the call its typing."""
    w, w1, beta2, c2, minus_step, scale, eps, keep, decay = \
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
    p, g, m, v = p.reshape(p.size), g.reshape(g.size), m.reshape(m.size), v.reshape(v.size)
    for j in range(p.size):   # the operations of NumpyBackend.adam_, in its order
        gj, mj = g[j] + p[j] * decay if decay else g[j], m[j]
        mj = mj + (gj - mj) * w if low else gj - (gj - mj) * w1
        vj = v[j] * beta2 + gj * c2 * gj
        m[j], v[j] = mj, vj
        p[j] = p[j] * keep + mj / (np.sqrt(vj) * scale + eps) * minus_step


def _softmax_cross_entropy_loop(Z, y, eps, inv_m):
    """Row by row: shift by the row's max, l_i = log sum exp - smoothed target logit,
    G_i = (softmax - q_i) / m; returns (sum of l_i / m, rows whose label is not a max),
    or (0, -1 - i) at the first row i whose label is out of range."""
    m, k = Z.shape
    total, wrong = 0.0, 0
    for i in range(m):
        if y[i] < 0 or y[i] >= k:   # no bounds checks in compiled code: never index with it
            return 0.0, -1 - i
        top = Z[i, 0]
        for j in range(1, k):
            top = max(top, Z[i, j])
        top64 = np.float64(top)   # the loss's terms in float64: z - top may overflow float32
        zy = np.float64(Z[i, y[i]]) - top64
        wrong += zy != 0   # after the shift the largest logit is 0 (NaN counts as wrong)
        shifted, sum_exp = 0.0, 0.0
        for j in range(k):
            shifted += np.float64(Z[i, j]) - top64
            Z[i, j] = np.exp(Z[i, j] - top)   # -inf where that overflows: exp is then 0
            sum_exp += Z[i, j]
        total += math.log(sum_exp) - ((1 - eps) * zy + eps / k * shifted)
        scale = inv_m / sum_exp
        for j in range(k):
            Z[i, j] = Z[i, j] * scale - eps / k * inv_m
        Z[i, y[i]] -= (1 - eps) * inv_m
    return total * inv_m, wrong


def _relu_bias_loop(A, b):
    """A <- max(A + b, 0) as np.maximum has it: -0 and NaN pass through."""
    m, n = A.shape
    for i in range(m):
        for j in range(n):
            a = A[i, j] + b[j]
            A[i, j] = 0 if a < 0 else a   # noqa: FURB136  (spelled out: NaN and -0 kept)


def _relu_backward_loop(G, Z, db):
    """G <- G o 1[Z > 0], and db <- sum of G's rows unless db is None.  For Z >= 0 this
    is the NumPy passes' mask ceil(min(Z, 1)) itself: 1 where Z > 0 and Z (0, -0) where
    not, NaN kept; as a select rather than a branch, LLVM vectorizes it (1.5x faster)."""
    m, n = G.shape
    if db is not None:
        for j in range(n):
            db[j] = 0
    for i in range(m):
        for j in range(n):
            z = Z[i, j]
            d = G[i, j] * (np.ceil(min(z, 1.0)) if z == z else z)  # noqa: PLR0124 (NaN test)
            G[i, j] = d
            if db is not None:
                db[j] += d


_ONES = np.ones(4)
_LOOPS = {   # name: (function, arguments of a first call that compiles it)
    "adam": (_adam_loop, _ONES.copy(), _ONES.copy(), _ONES.copy(), _ONES.copy(), True,
             np.array([0.1, 0.9, 0.9, 0.1, -0.1, 1.0, 1e-8, 1.0, 0.0])),
    "softmax_cross_entropy": (_softmax_cross_entropy_loop, np.zeros((2, 3)),
                              np.array([0, 2], np.intp), 0.1, 0.5),
    "relu_bias": (_relu_bias_loop, np.zeros((2, 3)), np.zeros(3)),
    "relu_backward": (_relu_backward_loop, np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(3)),
}
