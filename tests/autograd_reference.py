"""An independent forward pass and loss in autograd.numpy, for checking gradients.

Written from the definitions, not from manualnn's code: autograd differentiates it.
"""

import autograd.numpy as anp
from autograd import grad

C = (2 / anp.pi) ** 0.5

ACTIVATIONS = {
    "identity": lambda A: A,
    "relu": lambda A: anp.maximum(A, 0.0),
    "leaky_relu": lambda A: anp.where(A > 0, A, 0.01 * A),
    "tanh": anp.tanh,
    "sigmoid": lambda A: 1 / (1 + anp.exp(-A)),
    "softplus": lambda A: anp.logaddexp(0.0, A),
    "gelu": lambda A: 0.5 * A * (1 + anp.tanh(C * (A + 0.044715 * A ** 3))),
}


def loss_value(name, Z, y, w, smoothing=0.0):
    k = Z.shape[1]
    if name == "softmax_cross_entropy":
        lse = anp.log(anp.sum(anp.exp(Z - anp.max(Z, axis=1, keepdims=True)), axis=1)) \
            + anp.max(Z, axis=1)
        Q = (1 - smoothing) * anp.eye(k)[y] + smoothing / k
        rows = lse - anp.sum(Q * Z, axis=1)
    elif name == "mse":
        rows = anp.mean((Z - y) ** 2, axis=1)
    elif name == "huber":   # delta 1: squared within 1 of the target, linear beyond
        R = anp.abs(Z - y)
        rows = anp.mean(anp.where(R <= 1.0, R ** 2 / 2, R - 0.5), axis=1)
    else:
        rows = anp.mean(anp.logaddexp(0.0, Z) - y * Z, axis=1)
    if w is None:
        return anp.mean(rows)
    return anp.sum(rows * w) / anp.sum(w)


def gradients(params, X, y, w, activations, bias, loss, smoothing=0.0):
    """Gradients of the mean loss with respect to params [W1, (b1,) W2, ...]."""
    def f(params):
        Z, step = X, 2 if bias else 1
        for i, name in enumerate(activations):
            A = Z @ params[step * i]
            if bias:
                A = A + params[step * i + 1]
            Z = ACTIVATIONS[name](A)
        return loss_value(loss, Z, y, w, smoothing)
    return grad(f)(list(params))
