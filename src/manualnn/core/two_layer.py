"""The lecture's closed form for a two-layer network, written exactly as its two equations.

For X (m, n), W_1 (n, d), W_2 (d, k), labels y and S = softmax(sigma(X W_1) W_2):

    grad W_2 = sigma(X W_1)^T (S - I_y) / m
    grad W_1 = X^T (sigma'(X W_1) o ((S - I_y) W_2^T)) / m

This is the teaching version (it builds the one-hot I_y and allocates freely); the
general engine in ``network.py`` computes the same numbers for any depth.
"""

from __future__ import annotations

import numpy as np

from manualnn import checks
from manualnn.checks import Array
from manualnn.core.activations import Activation, get_activation
from manualnn.core.losses import softmax


def two_layer_gradients(X: Array, y: Array, W1: Array, W2: Array,
                        activation: str | Activation = "relu") -> tuple[Array, Array]:
    """Return (grad W_1 (n, d), grad W_2 (d, k)) of the mean softmax cross-entropy."""
    X = checks.float_array(X, "X", ndim=2)
    m, n = X.shape
    if not isinstance(W1, np.ndarray) or W1.ndim != 2:
        raise ValueError(f"W1: expected a 2-D array of shape ({n}, d), got {W1!r:.80}")
    W1 = checks.weight_array(W1, "W1", (n, W1.shape[1]))
    if not isinstance(W2, np.ndarray) or W2.ndim != 2:
        raise ValueError(f"W2: expected a 2-D array of shape ({W1.shape[1]}, k), got {W2!r:.80}")
    W2 = checks.weight_array(W2, "W2", (W1.shape[1], W2.shape[1]))
    k = W2.shape[1]
    y = checks.labels(y, "y", m, k)
    sigma = get_activation(activation)

    A = X @ W1
    H = sigma.value(A)
    S = softmax(H @ W2)
    I_y = np.eye(k, dtype=S.dtype)[y]
    grad_W2 = H.T @ (S - I_y) / m
    grad_W1 = X.T @ (sigma.derivative(A, H) * ((S - I_y) @ W2.T)) / m
    return grad_W1, grad_W2
