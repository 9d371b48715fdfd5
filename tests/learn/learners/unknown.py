"""Wrong answers that match no catalogued mistake: scaled by 1.01, or a layer zeroed."""
import numpy as np

EXPECTED = {f: ("unknown", None) for f in ("softmax_loss", "softmax_regression_epoch",
                                           "nn_epoch", "backprop", "backprop_bias")}


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return 1.01 * np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y])


def probs(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    for s in range(0, len(X), batch):
        Xb, yb = X[s:s + batch], y[s:s + batch]
        S = probs(Xb @ theta)
        S[np.arange(len(yb)), yb] -= 1
        theta -= 1.01 * lr * Xb.T @ S / len(yb)


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    for s in range(0, len(X), batch):
        Xb, yb = X[s:s + batch], y[s:s + batch]
        Z1 = np.maximum(Xb @ W1, 0)
        G2 = probs(Z1 @ W2)
        G2[np.arange(len(yb)), yb] -= 1
        W2 -= lr * Z1.T @ G2 / len(yb)      # W1's update forgotten: its gradient is zero


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
        grads[i] = 1.01 * Zs[i].T @ G
        if i > 0:
            G = (G @ Ws[i].T) * sigma_prime(As[i - 1])
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
        gW[i] = Zs[i].T @ G
        gb[i] = G.sum(axis=0)
        if i > 0:
            G = (G @ Ws[i].T) * sigma_prime(As[i - 1])
    gW[0] = np.zeros_like(gW[0])
    return gW, gb
