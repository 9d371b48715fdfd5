"""Mistakes, one per function (EXPECTED: id, and the layer where one is named)."""
import numpy as np

EXPECTED = {"softmax_regression_epoch": ("batch_slicing", None),
            "nn_epoch": ("stale_gradients", None),
            "backprop": ("hadamard_as_matmul", "L-1"),
            "backprop_bias": ("missing_transpose", "L")}


def probs(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    for s in range(0, len(X), batch):
        Xb, yb = X[s:s + batch], y[s:s + batch]
        S = probs(Xb @ theta)
        S[np.arange(len(yb)), yb] -= 1
        theta -= lr * Xb.T @ S / batch


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    dW1, dW2 = 0, 0
    for s in range(0, len(X), batch):
        Xb, yb = X[s:s + batch], y[s:s + batch]
        Z1 = np.maximum(Xb @ W1, 0)
        G2 = probs(Z1 @ W2)
        G2[np.arange(len(yb)), yb] -= 1
        G2 /= len(yb)
        G1 = (Z1 > 0) * (G2 @ W2.T)
        dW1 = dW1 + Xb.T @ G1
        dW2 = dW2 + Z1.T @ G2
        W1 -= lr * dW1
        W2 -= lr * dW2


def backprop(X, y, Ws, sigma, sigma_prime):
    Zs, As = [X], []
    for W in Ws[:-1]:
        As.append(Zs[-1] @ W)
        Zs.append(sigma(As[-1]))
    G = probs(Zs[-1] @ Ws[-1])
    G[np.arange(len(y)), y] -= 1
    G /= len(y)
    grads = [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        grads[i] = Zs[i].T @ G
        if i > 0:
            G = np.matmul(G @ Ws[i].T, sigma_prime(As[i - 1]))
    return grads


def backprop_bias(X, y, Ws, bs, sigma, sigma_prime):
    Zs, As = [X], []
    for W, b in zip(Ws[:-1], bs[:-1]):
        As.append(Zs[-1] @ W + b)
        Zs.append(sigma(As[-1]))
    G = probs(Zs[-1] @ Ws[-1] + bs[-1])
    G[np.arange(len(y)), y] -= 1
    G /= len(y)
    gW, gb = [None] * len(Ws), [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        gW[i] = G.T @ Zs[i]
        gb[i] = G.sum(axis=0)
        if i > 0:
            G = (G @ Ws[i].T) * sigma_prime(As[i - 1])
    return gW, gb
