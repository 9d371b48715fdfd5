"""Mistakes, one per function (EXPECTED: id, and the layer where one is named)."""
import numpy as np

EXPECTED = {"softmax_regression_epoch": ("missing_mean", None),
            "nn_epoch": ("no_max_subtraction", None),
            "backprop": ("gradient_ascent", None),
            "backprop_bias": ("double_mean", None)}


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    for s in range(0, len(X), batch):
        Xb, yb = X[s:s + batch], y[s:s + batch]
        E = np.exp(Xb @ theta - (Xb @ theta).max(axis=1, keepdims=True))
        S = E / E.sum(axis=1, keepdims=True)
        S[np.arange(len(yb)), yb] -= 1
        theta -= lr * Xb.T @ S


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    for s in range(0, len(X), batch):
        Xb, yb = X[s:s + batch], y[s:s + batch]
        Z1 = np.maximum(Xb @ W1, 0)
        E = np.exp(Z1 @ W2)
        G2 = E / np.sum(E, axis=1, keepdims=True)
        G2[np.arange(len(yb)), yb] -= 1
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1 / len(yb)
        W2 -= lr * Z1.T @ G2 / len(yb)


def probs(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def backprop(X, y, Ws, sigma, sigma_prime):
    Zs, As = [X], []
    for W in Ws[:-1]:
        As.append(Zs[-1] @ W)
        Zs.append(sigma(As[-1]))
    Iy = np.eye(Ws[-1].shape[1])[y]
    G = (Iy - probs(Zs[-1] @ Ws[-1])) / len(y)
    grads = [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        grads[i] = Zs[i].T @ G
        if i > 0:
            G = (G @ Ws[i].T) * sigma_prime(As[i - 1])
    return grads


def backprop_bias(X, y, Ws, bs, sigma, sigma_prime):
    m = len(y)
    Zs, As = [X], []
    for W, b in zip(Ws[:-1], bs[:-1]):
        As.append(Zs[-1] @ W + b)
        Zs.append(sigma(As[-1]))
    G = probs(Zs[-1] @ Ws[-1] + bs[-1])
    G[np.arange(m), y] -= 1
    G /= m
    gW, gb = [None] * len(Ws), [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        gW[i] = Zs[i].T @ G / m
        gb[i] = G.sum(axis=0) / m
        if i > 0:
            G = (G @ Ws[i].T) * sigma_prime(As[i - 1])
    return gW, gb
