"""Element-wise activations sigma and their derivatives sigma'.

An activation turns the pre-activation A = Z_i W_i (+ b_i), shape (m, n_{i+1}), into
Z_{i+1} = sigma(A).  Backward needs D_i = G_{i+1} o sigma'(A).  Where sigma' is cheaper
from the output Z than from A (relu: Z > 0, tanh: 1 - Z^2, sigmoid: Z (1 - Z),
softplus: 1 - exp(-Z)), an activation says so with ``from_output = True`` and the network
then keeps only Z, overwriting A in place.

Two in-place hooks serve the training step without allocating:

- ``forward_(A)`` turns A into sigma(A) and returns the array holding it;
- ``backward_(G, A, Z)`` turns G into G o sigma'(A).  It may overwrite Z (and A):
  by the time backward reaches layer i, Z_{i+1} has already served for grad W_{i+1}.

The network calls them through ``forward_layer_`` (add the bias, then sigma) and
``backward_layer_`` (D, then b's gradient: the sum of D's rows), with the network's
backend; relu asks the backend for one pass each (the fast backend's compiled loops).

Every hook works on the arrays of any backend: ``namespace(A)`` is NumPy for NumPy arrays
and the array's own namespace otherwise (array type in, array type out).

Add your own with :func:`register_activation`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from manualnn import checks
from manualnn.backend import namespace
from manualnn.checks import Array, Backend


class Activation:
    """Base class: a value/derivative pair with default (allocating) in-place hooks.

    Subclasses define ``value(A)`` and ``derivative(A, Z)``, where Z = value(A); both take
    and return arrays of the same shape and dtype.
    """

    name = "activation"
    from_output = False

    def value(self, A: Array) -> Array:
        raise NotImplementedError

    def derivative(self, A: Array, Z: Array) -> Array:
        raise NotImplementedError

    def forward_(self, A: Array) -> Array:
        A[...] = self.value(A)
        return A

    def backward_(self, G: Array, A: Array, Z: Array) -> Array:
        G *= self.derivative(A, Z)
        return G

    def forward_layer_(self, A: Array, b: Array | None, H: Array, ops: Backend) -> Array:
        """A <- A + b (b None: no bias), then H <- sigma(A); H is A itself where
        ``from_output``.  Returns H.  ``ops`` is the network's backend."""
        if b is not None:
            A += b
        if self.from_output:
            return self.forward_(A)
        H[...] = self.value(A)
        return H

    def backward_layer_(self, G: Array, A: Array, Z: Array, db: Array | None,
                        ops: Backend) -> Array:
        """D = ``backward_(G, A, Z)``, and db <- the sum of D's rows (b's gradient; db None:
        no bias), through the backend ``ops``.  Returns D."""
        D = self.backward_(G, A, Z)
        if db is not None:
            ops.rowsum(D, out=db)
        return D

    def __repr__(self):
        return f"<activation {self.name}>"


class Identity(Activation):
    """sigma(a) = a; sigma'(a) = 1 (the usual output layer for logits)."""

    name, from_output = "identity", True

    def value(self, A: Array) -> Array:
        return namespace(A).astype(A, A.dtype, copy=True)   # CuPy 13's asarray has no copy=

    def derivative(self, A: Array, Z: Array) -> Array:
        return namespace(Z).ones_like(Z)

    def forward_(self, A: Array) -> Array:
        return A

    def backward_(self, G: Array, A: Array, Z: Array) -> Array:
        return G


class ReLU(Activation):
    """sigma(a) = max(a, 0); sigma'(a) = 1[Z > 0], read from the output."""

    name, from_output = "relu", True

    def value(self, A: Array) -> Array:
        return namespace(A).maximum(A, 0)

    def derivative(self, A: Array, Z: Array) -> Array:
        xp = namespace(Z)
        return xp.astype(Z > 0, Z.dtype)

    def forward_(self, A: Array) -> Array:
        return namespace(A).maximum(A, 0, out=A)

    def backward_(self, G: Array, A: Array, Z: Array) -> Array:
        # Z >= 0, so ceil(min(Z, 1)) is exactly the 0/1 mask, made in place without a
        # boolean temporary; both ufuncs are vectorized (np.sign is not: ~5x slower).
        xp = namespace(Z)
        xp.minimum(Z, 1, out=Z)
        xp.ceil(Z, out=Z)
        return xp.multiply(G, Z, out=G)

    def forward_layer_(self, A: Array, b: Array | None, H: Array, ops: Backend) -> Array:
        if b is not None and ops.relu_bias_(A, b):   # one compiled pass, on the fast backend
            return A
        return super().forward_layer_(A, b, H, ops)

    def backward_layer_(self, G: Array, A: Array, Z: Array, db: Array | None,
                        ops: Backend) -> Array:
        if ops.relu_backward_(G, Z, db):   # relu' and the bias's sums in one pass, likewise
            return G
        return super().backward_layer_(G, A, Z, db, ops)


class LeakyReLU(Activation):
    """sigma(a) = a for a > 0 else slope * a; sigma' = 1 or slope, read from the output."""

    name, from_output = "leaky_relu", True

    def __init__(self, slope: float = 0.01) -> None:
        self.slope = slope

    def value(self, A: Array) -> Array:
        return namespace(A).where(A > 0, A, A * self.slope)

    def derivative(self, A: Array, Z: Array) -> Array:
        xp = namespace(Z)
        return xp.where(Z > 0, xp.ones_like(Z), xp.full_like(Z, self.slope))


class Tanh(Activation):
    """sigma(a) = tanh(a); sigma'(a) = 1 - Z^2, read from the output."""

    name, from_output = "tanh", True

    def value(self, A: Array) -> Array:
        return namespace(A).tanh(A)

    def derivative(self, A: Array, Z: Array) -> Array:
        return 1 - Z * Z

    def forward_(self, A: Array) -> Array:
        return namespace(A).tanh(A, out=A)

    def backward_(self, G: Array, A: Array, Z: Array) -> Array:
        xp = namespace(Z)
        xp.square(Z, out=Z)
        xp.subtract(1, Z, out=Z)
        return xp.multiply(G, Z, out=G)


class Sigmoid(Activation):
    """sigma(a) = 1 / (1 + exp(-a)); sigma'(a) = Z (1 - Z), read from the output.

    Evaluated as exp(-|a|) over 1 + exp(-|a|) on the negative side, so exp never overflows.
    """

    name, from_output = "sigmoid", True

    def value(self, A: Array) -> Array:
        xp = namespace(A)
        E = xp.exp(-xp.abs(A))
        return xp.where(A >= 0, 1, E) / (1 + E)

    def derivative(self, A: Array, Z: Array) -> Array:
        return Z * (1 - Z)

    def backward_(self, G: Array, A: Array, Z: Array) -> Array:
        xp = namespace(Z)
        G *= Z
        xp.subtract(1, Z, out=Z)
        return xp.multiply(G, Z, out=G)


class Softplus(Activation):
    """sigma(a) = log(1 + exp(a)) = max(a, 0) + log1p(exp(-|a|));
    sigma'(a) = sigmoid(a) = 1 - exp(-Z), read from the output (as -expm1(-Z), exact near 0).
    """

    name, from_output = "softplus", True

    def value(self, A: Array) -> Array:
        xp = namespace(A)
        return xp.maximum(A, 0) + xp.log1p(xp.exp(-xp.abs(A)))

    def derivative(self, A: Array, Z: Array) -> Array:
        return -namespace(Z).expm1(-Z)


class GELU(Activation):
    """GELU, tanh form: sigma(a) = a (1 + tanh(u)) / 2 with u = c (a + k a^3),
    c = sqrt(2 / pi), k = 0.044715.  Since (1 + tanh(u)) / 2 = s = sigmoid(2u), it is
    evaluated as sigma(a) = a s, and sigma'(a) = s + a s (1 - s) 2 c (1 + 3 k a^2), from A.

    The sigmoid form keeps relative accuracy in the negative tail, where 1 + tanh(u)
    cancels (float32 would keep only about 1e-7 absolute).  Inside u, a is clipped to
    +-1e4: a^3 cannot overflow in float32, and s is already exactly 0 or 1 there.
    """

    name, from_output = "gelu", False
    c, k = math.sqrt(2 / math.pi), 0.044715

    def _s(self, A):
        xp = namespace(A)
        a = xp.clip(A, -1e4, 1e4)
        u2 = (2 * self.c) * (a + self.k * a * a * a)
        E = xp.exp(-xp.abs(u2))
        return xp.where(u2 >= 0, 1, E) / (1 + E), a

    def value(self, A: Array) -> Array:
        S, _ = self._s(A)
        return A * S

    def derivative(self, A: Array, Z: Array) -> Array:
        S, a = self._s(A)
        return S + a * S * (1 - S) * (2 * self.c) * (1 + 3 * self.k * a * a)


class FunctionActivation(Activation):
    """An activation made from two plain functions of the pre-activation A."""

    from_output = False

    def __init__(self, name: str, value: Callable[[Array], Array],
                 derivative: Callable[[Array], Array]) -> None:
        self.name, self._value, self._derivative = name, value, derivative

    def value(self, A: Array) -> Array:
        return self._value(A)

    def derivative(self, A: Array, Z: Array) -> Array:
        return self._derivative(A)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a for a in (Identity(), ReLU(), LeakyReLU(), Tanh(), Sigmoid(), Softplus(), GELU())
}


def register_activation(name: str, value: Callable[[Array], Array],
                        derivative: Callable[[Array], Array]) -> Activation:
    """Add an activation under ``name`` from ``value(A) -> sigma(A)`` and
    ``derivative(A) -> sigma'(A)``, both element-wise on arrays of shape (m, n).

    >>> import numpy as np
    >>> register_activation("swish", lambda A: A / (1 + np.exp(-A)),
    ...     lambda A: (1 + np.exp(-A) + A * np.exp(-A)) / (1 + np.exp(-A)) ** 2)
    <activation swish>
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name: expected a non-empty string, got {name!r}")
    if not callable(value) or not callable(derivative):
        raise TypeError("value, derivative: expected two callables of the pre-activation A")
    act = FunctionActivation(name, value, derivative)
    ACTIVATIONS[name] = act
    return act


def get_activation(spec: str | Activation, name: str = "activation") -> Activation:
    """Look up an activation by registered name, or pass an :class:`Activation` through."""
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str) and spec in ACTIVATIONS:
        return ACTIVATIONS[spec]
    raise ValueError(f"{name}: expected one of {sorted(ACTIVATIONS)}, got {spec!r}"
                     f"{checks.did_you_mean(spec, ACTIVATIONS)}")
