"""The course's homework-0 functions, with its signatures and semantics, on this engine.

For learners who wrote these by hand and want to compare: each function here is a thin
call into manualnn (``data.read_idx``, ``losses.SoftmaxCrossEntropy``, ``network.MLP``).
As in the course, no bias, relu, batches in order without shuffling, the gradient
averaged over each batch, arrays updated in place, and ``np.random.seed(0)`` for the
initial weights of ``train_nn``.
"""

from __future__ import annotations

import math

import numpy as np

from manualnn import checks
from manualnn.core.losses import SoftmaxCrossEntropy
from manualnn.core.network import MLP
from manualnn.data.files import read_idx

TABLE_HEAD = "| Epoch | Train Loss | Train Err | Test Loss | Test Err |"


def parse_mnist(image_file: str, label_file: str) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST-format IDX files: X float32 (n, rows * cols) scaled to [0, 1], y uint8 (n,)."""
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise checks.DataError(f"{image_file}: expected uint8 images of shape (n, rows, cols), "
                               f"got {images.dtype} of shape {images.shape}")
    if labels.shape != images.shape[:1] or labels.dtype != np.uint8:
        raise checks.DataError(f"{label_file}: expected {images.shape[0]} uint8 labels, "
                               f"got {labels.dtype} of shape {labels.shape}")
    X = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255)
    return X, labels


def softmax_loss(Z: np.ndarray, y: np.ndarray) -> float:
    """Mean over the m rows of log sum_j exp z_ij - z_{i, y_i}; Z (m, k), y (m,)."""
    return SoftmaxCrossEntropy()(Z, y)[0]


def softmax_regression_epoch(X: np.ndarray, y: np.ndarray, theta: np.ndarray, lr: float = 0.1,
                             batch: int = 100) -> None:
    """One SGD epoch of softmax regression h = X theta; theta (n, k) is updated in place."""
    _sgd_epoch(MLP.from_weights([theta]), X, y, lr, batch)


def nn_epoch(X: np.ndarray, y: np.ndarray, W1: np.ndarray, W2: np.ndarray, lr: float = 0.1,
             batch: int = 100) -> None:
    """One SGD epoch of the two-layer network relu(X W1) W2; W1 (n, d), W2 (d, k) in place."""
    _sgd_epoch(MLP.from_weights([W1, W2], activation="relu"), X, y, lr, batch)


def loss_err(h: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(softmax loss, fraction of rows whose arg-max is not y) for logits h (m, k)."""
    h = checks.float_array(h, "h", ndim=2)
    y = checks.labels(y, "y", h.shape[0], h.shape[1])
    return softmax_loss(h, y), float(np.mean(h.argmax(axis=1) != y))


def train_softmax(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray, y_te: np.ndarray,
                  epochs: int = 10, lr: float = 0.5, batch: int = 100) -> np.ndarray:
    """Train softmax regression from theta = 0, printing the course's table; returns theta."""
    theta = np.zeros((X_tr.shape[1], int(np.max(y_tr)) + 1), dtype=np.float32)
    net = MLP.from_weights([theta])
    _train(net, X_tr, y_tr, X_te, y_te, epochs, lr, batch)
    return theta


def train_nn(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray, y_te: np.ndarray,
             hidden_dim: int = 500, epochs: int = 10, lr: float = 0.5,
             batch: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Train relu(X W1) W2 from the course's start, printing its table; returns (W1, W2)."""
    n, k = X_tr.shape[1], int(np.max(y_tr)) + 1
    checks.number(hidden_dim, "hidden_dim", 1, integer=True)
    np.random.seed(0)
    W1 = np.random.randn(n, hidden_dim).astype(np.float32) / math.sqrt(hidden_dim)
    W2 = np.random.randn(hidden_dim, k).astype(np.float32) / math.sqrt(k)
    net = MLP.from_weights([W1, W2], activation="relu")
    _train(net, X_tr, y_tr, X_te, y_te, epochs, lr, batch)
    return W1, W2


def _train(net, X_tr, y_tr, X_te, y_te, epochs, lr, batch):
    checks.number(epochs, "epochs", 0, integer=True)
    print(TABLE_HEAD)
    for epoch in range(epochs):
        _sgd_epoch(net, X_tr, y_tr, lr, batch)
        train_loss, train_err = loss_err(net(X_tr), y_tr)
        test_loss, test_err = loss_err(net(X_te), y_te)
        print(f"| {epoch:>5} | {train_loss:>10.5f} | {train_err:>9.5f} "
              f"| {test_loss:>9.5f} | {test_err:>8.5f} |", flush=True)


def _sgd_epoch(net, X, y, lr, batch):
    """Plain SGD over the batches X[i:i + batch] in order: each W <- W - lr grad W."""
    X = checks.float_array(X, "X", ndim=2, cols=net.layers[0])
    if X.dtype != net.dtype:
        raise TypeError(f"X: expected {net.dtype} to match the weights, got {X.dtype}")
    loss = SoftmaxCrossEntropy()
    y = loss.targets(y, X.shape[0], net.layers[-1])
    checks.number(lr, "lr", 0, low_open=True)
    checks.number(batch, "batch", 1, integer=True)
    for start in range(0, X.shape[0], batch):
        _, grads = net.loss_and_grad(X[start:start + batch], y[start:start + batch], loss)
        for p, g in zip(net.params, grads):
            p -= lr * g
