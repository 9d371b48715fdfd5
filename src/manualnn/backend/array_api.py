"""The array API backend: every operation of a training step in the calls of the Python
array API standard, on any conforming namespace that ``array-api-compat`` knows (torch on
CPU or CUDA, ``array-api-strict``, CuPy, NumPy itself) -- ``manualnn[array-api]``.

It allocates: the standard has no ``out=`` argument, so each product and element-wise
function makes its result and the backend writes it into the step's buffer
(``out[...] = r``).  The network's buffers, the optimizers' in-place updates and the
step's order of operations stay the same as on NumPy, so a float64 run follows the NumPy
backend's to rounding (in the order of a few sums).  It needs arrays that can be written
in place (``x[...] = y``, ``x += y``): JAX's arrays cannot, so JAX is not served (see
docs/array_api.md).

``namespaces.WithOut`` wraps a namespace so that the network's NumPy-style calls
(``xp.tanh(A, out=A)``, ``xp.copyto(G, Z)``) run on it.
"""

from __future__ import annotations

import numpy as np

from manualnn.backend.device import DeviceArrays
from manualnn.backend.namespaces import NativeFirst, WithOut, compat
from manualnn.backend.workspaces import Workspaces

__all__ = ["ArrayAPIBackend", "NativeFirst", "WithOut", "array_api_backend", "compat"]

_MADE: dict = {}


def array_api_backend(source):
    """The backend over ``source``: None (the standard over NumPy), a namespace module
    (``torch``, ``array_api_strict``), or a list of arrays (their namespace and device).
    One shared instance per namespace and device."""
    aac = compat()
    if source is None:
        arrays = [np.empty(0)]
    elif isinstance(source, (list, tuple)):
        arrays = list(source)
    else:
        try:
            arrays = [source.asarray(0.0)]
        except AttributeError:
            raise TypeError(f"backend: expected an array namespace (a module with asarray), "
                            f"got {source!r}") from None
    try:
        raw = aac.array_namespace(*arrays)
    except TypeError as exc:
        raise TypeError(f"backend: the arrays are not of one array API namespace ({exc})") \
            from None
    device = aac.device(arrays[0])
    if "jax" in raw.__name__:
        raise TypeError("backend: JAX arrays cannot be written in place, which the "
                        "network's buffers and the optimizers need (see docs/array_api.md)")
    key = (raw.__name__, str(device))
    if key not in _MADE:
        _MADE[key] = ArrayAPIBackend(raw, None if source is None else device)
    return _MADE[key]


class ArrayAPIBackend(DeviceArrays):
    """The operations of the NumPy backend, each as standard calls on ``raw``."""

    name = "array_api"
    fuses_products = False

    def __init__(self, raw, device=None):
        self.raw, self.xp, self.device = raw, WithOut(raw), device

    def matmul(self, A, B, out):
        out[...] = self.raw.matmul(A, B)
        return out

    def matmul_add(self, A, B, out, alpha: float, beta: float):
        """out <- alpha A @ B + beta out, in the NumPy backend's order of operations."""
        return self._matmul_add_by_product(self.raw.matmul, A, B, out, alpha, beta)

    def axpy(self, a: float, x, y, scratch):
        y += x * a
        return y

    def rowsum(self, D, out):
        """1^T D, a product with ones as on NumPy (the same sum, in the same order)."""
        out[...] = self.raw.matmul(self.ones(D.shape[0], D.dtype), D)
        return out

    def workspaces(self, build, keep: int = 3) -> Workspaces:
        return Workspaces(build, keep)

    def relu_bias_(self, A, b) -> bool:
        return False

    def relu_backward_(self, G, Z, db) -> bool:
        return False

    def softmax_cross_entropy_(self, Z, y, eps: float):
        return None

    def adam_(self, p, g, m, v, scratch, *, w, beta2, step, scale, eps, keep=1.0,
              decay=0.0):
        """NumpyBackend.adam_'s operations in its order, as standard expressions."""
        if tuple(p.shape) != tuple(g.shape) or tuple(p.shape) != tuple(m.shape) \
                or tuple(p.shape) != tuple(v.shape):
            raise ValueError(f"g, m, v: expected the shape {tuple(p.shape)} of p")
        if decay:
            g += p * decay
        if keep != 1.0:
            p *= keep
        if w < 0.5:
            m += (g - m) * w
        else:
            m[...] = g - (g - m) * (1.0 - w)
        v *= beta2
        v += g * (1.0 - beta2) * g
        s = self.raw.sqrt(v) * scale + eps
        p += (m / s) * -step
