"""Adam's update as one compiled pass over memory, with a NumPy fallback.

Per entry of a parameter p with gradient g and moments m, v:

    p <- keep p                            (decoupled weight decay: keep = 1 - lr wd)
    m <- m + w (g - m)                     (w = 1 - beta1; for w >= 0.5 as g - (1 - w)(g - m),
                                            torch's lerp)
    v <- beta2 v + (1 - beta2) g^2
    p <- p - step m / (scale sqrt(v) + eps)

PyTorch's Adam takes step = lr / (1 - beta1^t), scale = 1 / sqrt(1 - beta2^t);
scikit-learn's takes step = lr sqrt(1 - beta2^t) / (1 - beta1^t), scale = 1.

NumPy needs about a dozen passes over p, g, m, v and a scratch array for this, and on
a network of a few hundred thousand weights they cost more than the matrix products of
the step.  With numba installed (``pip install 'manualnn[fast]'``) the update is one
loop that reads each array once.  Without numba, or with ``ops.extras(False)`` (or the
environment variable MANUALNN_KERNELS=numpy), the NumPy passes run.  Both compute the
formula above in the parameter's dtype, operation for operation in the same order: in
float64 they agree bit for bit, in float32 to a rounding.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import ops

_COMPILED = None   # the numba loop once made; False when numba is missing


def adam_(p, g, m, v, scratch, *, w, beta2, step, scale, eps, keep=1.0):
    """Adam's update of p, m and v in place (see the module docstring), all of one shape
    and dtype; ``scratch`` is a spare of that shape for the NumPy passes.
    """
    loop = compiled()
    if loop and p.flags.c_contiguous and g.flags.c_contiguous:
        t = p.dtype.type   # scalars in the array's dtype: float32 math stays float32
        loop(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), w < 0.5, t(w),
             t(1.0 - w), t(beta2), t(1.0 - beta2), t(-step), t(scale), t(eps), t(keep))
        return
    _adam_numpy(p, g, m, v, scratch, w, beta2, step, scale, eps, keep)


def compiled():
    """The compiled loop, or False without numba or with ``ops.extras()`` off."""
    global _COMPILED
    if not ops.extras():
        return False
    if _COMPILED is None:
        _COMPILED = _compile()
    return _COMPILED


def _adam_numpy(p, g, m, v, s, w, beta2, step, scale, eps, keep):
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


def _compile():
    """numba's loop, compiled and tried once on a small array; False if that fails."""
    try:
        import numba
    except ImportError:
        return False
    try:   # numba raises at decoration where no cache folder is writable, and may at the call
        loop = numba.njit(cache=True, nogil=True, error_model="numpy")(_adam_loop)
        a = np.ones(4)
        loop(a, a.copy(), a.copy(), a.copy(), True, 0.1, 0.9, 0.9, 0.1, -0.1, 1.0, 1e-8, 1.0)
    except Exception as error:  # noqa: BLE001  (whatever fails, NumPy serves)
        warnings.warn(f"manualnn: numba could not compile Adam's kernel ({error}); "
                      "using NumPy", RuntimeWarning, stacklevel=3)
        return False
    return loop


# error_model="numpy" above: no zero-division checks inside the loop, so that it vectorizes
def _adam_loop(p, g, m, v, low, w, w1, beta2, c2, minus_step, scale, eps, keep):
    for j in range(p.size):   # the operations of _adam_numpy, in its order
        gj, mj = g[j], m[j]
        mj = mj + (gj - mj) * w if low else gj - (gj - mj) * w1
        vj = v[j] * beta2 + gj * c2 * gj
        m[j], v[j] = mj, vj
        p[j] = p[j] * keep + mj / (np.sqrt(vj) * scale + eps) * minus_step
