"""The lecture's answers, and every catalogued mistake as the same code with one line changed.

Each function takes ``mistake``: None for the right answer, or a catalogue id, with a form
after a dot where one mistake is written in more than one way ("missing_transpose.W").
Every wrong line sits under the right one it replaces, behind ``if mistake == ...``, so
a reader sees each mistake next to the lecture's line.  ``layers`` (a set of the
lecture's 1-based i) limits a layer's mistake to those layers; None makes it everywhere.

    forward    Z_1 = X,   A_i = Z_i W_i (+ b_i),   Z_{i+1} = sigma(A_i)      i = 1..L-1
               S = softmax(A_L),   G_{L+1} = (S - I_y) / m
    backward   D_L = G_{L+1},   D_i = G_{i+1} o sigma'(A_i)                  i = L-1..1
               grad W_i = Z_i^T D_i,   grad b_i = sum of D_i's rows,   G_i = D_i W_i^T

X (m, n_1), W_i (n_i, n_{i+1}), b_i (n_{i+1},), Z_i and G_i (m, n_i), A_i and D_i
(m, n_{i+1}); y (m,) integer labels in 0..n_{L+1}-1.  The learner's functions of the
same names call these through :func:`solution`.  A test holds ``mistake=None`` equal to
manualnn's engine (core/) and to the course's module (simple_ml).
"""

from __future__ import annotations

import numpy as np

from manualnn.learn.driver import ACTIVATIONS


def softmax(Z, mistake=None):
    """S (m, k): each row of Z (m, k) exponentiated and normalised."""
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    if mistake == "no_max_subtraction":
        E = np.exp(Z)                                 # exp(1000) overflows: inf / inf
    return E / E.sum(axis=1, keepdims=True)


def one_hot(y, m, k, dtype, mistake=None):
    """I_y (m, k): row j is e_{y_j}."""
    I = np.zeros((m, k), dtype)
    if mistake == "wrong_one_hot.columns":
        I[:, y] = 1                                   # a 1 in every column that y names
    elif mistake == "wrong_one_hot.rows":
        I[y] = 1                                      # whole rows y_j, not entries (j, y_j)
    else:
        I[np.arange(m), y] = 1
    return I


def softmax_loss(Z, y, mistake=None):
    """The mean over the m rows of log sum_j exp z_ij - z_{i, y_i}; Z (m, k), y (m,)."""
    m, k = Z.shape
    Zc = Z - Z.max(axis=1, keepdims=True)            # the loss is the same for Z - c
    if mistake == "no_max_subtraction":
        Zc = Z                                        # log sum exp 1000 = log inf
    lse = np.log(np.exp(Zc).sum(axis=1))
    z_y = (one_hot(y, m, k, Z.dtype, mistake) * Zc).sum(axis=1)
    loss = (lse - z_y).sum() / m
    if mistake == "missing_mean":
        loss = (lse - z_y).sum()
    if mistake == "double_mean":
        loss = (lse - z_y).sum() / m / m
    return loss


def forward(X, Ws, bs, sigma):
    """([Z_1..Z_L], [A_1..A_L]): Z_1 = X, A_i = Z_i W_i (+ b_i), Z_{i+1} = sigma(A_i)."""
    Z, A = [X], []                       # Z[i - 1] is Z_i, A[i - 1] is A_i
    for i in range(1, len(Ws) + 1):
        A.append(Z[i - 1] @ Ws[i - 1] + (0 if bs is None else bs[i - 1]))
        if i < len(Ws):
            Z.append(sigma(A[i - 1]))
    return Z, A


def gradients(X, y, Ws, bs, sigma, sigma_prime, mistake=None, layers=None, m=None,
              update=None):
    """([grad W_1..grad W_L], [grad b_1..grad b_L] or None when ``bs`` is None).

    sigma and sigma_prime are element-wise callables of the pre-activation; ``m`` is the batch size the mean divides by (X's rows unless given); ``update(i, dW,
    db)`` is called as soon as grad W_i is formed (the epoch's premature update).
    """
    L, k = len(Ws), Ws[-1].shape[1]
    m = X.shape[0] if m is None else m
    Z, A = forward(X, Ws, bs, sigma)
    S, I = softmax(A[-1], mistake), one_hot(y, X.shape[0], k, X.dtype, mistake)
    G = (S - I) / m                                   # G_{L+1}
    if mistake == "missing_mean":
        G = S - I
    if mistake == "double_mean":
        G = (S - I) / m / m
    if mistake == "gradient_ascent":
        G = (I - S) / m
    dW, db = [None] * L, [None] * L
    for i in range(L, 0, -1):
        D = _delta(G, A, Z, i, L, sigma_prime, mistake if _at(i, layers) else None)
        dW[i - 1], db[i - 1] = _layer_grads(Z[i - 1], D, mistake if _at(i, layers) else None)
        if update is not None:
            update(i, dW[i - 1], db[i - 1])
        if i > 1:
            G = D @ Ws[i - 1].T                       # G_i = D_i W_i^T
            if mistake == "missing_transpose.W" and _at(i, layers):
                G = D @ Ws[i - 1]
    return dW, (None if bs is None else db)


def _at(i, layers):
    return layers is None or i in layers


def _delta(G, A, Z, i, L, sigma_prime, mistake):
    """D_i from G_{i+1}: sigma' at A_i = Z_i W_i for a hidden layer, nothing at the top."""
    if i == L:
        D = G                                         # the logits have no sigma
        if mistake == "extra_output_derivative":
            D = G * sigma_prime(A[L - 1])
        return D
    D = G * sigma_prime(A[i - 1])                     # D_i = G_{i+1} o sigma'(Z_i W_i)
    if mistake == "sigma_prime_of_output":
        D = G * sigma_prime(Z[i])                     # Z[i] is Z_{i+1} = sigma(Z_i W_i)
    if mistake == "wrong_layer_derivative.next":
        D = G * sigma_prime(A[i])                     # A_{i+1}: one layer up
    if mistake == "wrong_layer_derivative.prev":
        D = G * sigma_prime(A[i - 2])                 # A_{i-1}: one down (i = 1: A[-1])
    if mistake == "hadamard_as_matmul":
        D = G @ sigma_prime(A[i - 1])
    return D


def _layer_grads(Z, D, mistake):
    """grad W_i = Z_i^T D_i and grad b_i = the sum of D_i's rows."""
    dW = Z.T @ D
    if mistake == "missing_transpose.Z":
        dW = Z @ D
    if mistake == "missing_transpose.grad":
        dW = D.T @ Z                                  # (Z_i^T D_i)^T: n_{i+1} x n_i
    db = D.sum(axis=0)
    if mistake == "bias_grad_mean":
        db = D.mean(axis=0)
    if mistake == "bias_grad_wrong_axis":
        db = D.sum(axis=1)
    return dW, db


def epoch(X, y, Ws, lr, batch, activation="relu", mistake=None, layers=None):
    """One SGD epoch over the batches X[s:s + batch] in order, each W_i updated in place
    by W_i <- W_i - lr grad W_i (Ws = [theta] is softmax regression)."""
    n = X.shape[0]
    starts = range(0, n, batch)
    if mistake == "batch_slicing.drop_last":
        starts = range(0, n - n % batch, batch)       # the last short batch never seen
    if mistake == "batch_slicing.range_end":
        starts = range(0, n - batch, batch)
    carried = [0] * len(Ws)
    for s in starts:
        Xb, yb = X[s:s + batch], y[s:s + batch]
        if mistake == "labels_not_sliced":
            yb = y
        rows = batch if mistake == "batch_slicing.short_mean" else None   # / batch, always

        def now(i, dW, db):                           # W_i changed before G_i = D_i W_i^T
            if _at(i, layers):
                Ws[i - 1] -= lr * dW
        premature = mistake == "premature_update"
        dW, _ = gradients(Xb, yb, Ws, None, *ACTIVATIONS[activation], mistake, layers,
                          m=rows, update=now if premature else None)
        for i, W in enumerate(Ws, start=1):
            step = dW[i - 1]
            if mistake == "stale_gradients":
                carried[i - 1] = step = carried[i - 1] + dW[i - 1]   # never reset to 0
            if not (premature and _at(i, layers)):
                W -= lr * step


def solution(function, mistake=None, layers=None):
    """The learner's ``function`` (same signature), answered with ``mistake`` made."""
    if function == "softmax_loss":
        return lambda Z, y: softmax_loss(Z, y, mistake)
    if function == "softmax_regression_epoch":
        return lambda X, y, theta, lr, batch: epoch(X, y, [theta], lr, batch,
                                                    mistake=mistake, layers=layers)
    if function == "nn_epoch":
        return lambda X, y, W1, W2, lr, batch: epoch(X, y, [W1, W2], lr, batch, "relu",
                                                     mistake, layers)
    if function == "backprop":
        return lambda X, y, Ws, sigma, sigma_prime: gradients(
            X, y, Ws, None, sigma, sigma_prime, mistake, layers)[0]
    if function == "backprop_bias":
        return lambda X, y, Ws, bs, sigma, sigma_prime: gradients(
            X, y, Ws, bs, sigma, sigma_prime, mistake, layers)
    raise ValueError(f"function: expected one of the learner's functions, got {function!r}")
