"""Right answers in matrix form: einsum, np.eye one-hots, new arrays, float32 inside.

nn_epoch takes relu' from the output (Z1 > 0): for relu that is the same as from the
input, so it is right."""
import numpy as np

EXPECTED = {f: "correct" for f in ("softmax_loss", "softmax_regression_epoch", "nn_epoch",
                                    "backprop", "backprop_bias")}


def softmax_loss(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y])


def probs(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    k = theta.shape[1]
    for Xb, yb in zip(np.array_split(X, range(batch, len(X), batch)),
                      np.array_split(y, range(batch, len(y), batch))):
        G = (probs(np.einsum("mn,nk->mk", Xb, theta)) - np.eye(k)[yb]) / len(Xb)
        theta[:] = theta - lr * np.einsum("mn,mk->nk", Xb, G)


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    for s in range(0, X.shape[0], batch):
        Xb, yb = X[s:s + batch].astype(np.float32), y[s:s + batch]
        Z1 = np.maximum(Xb @ W1.astype(np.float32), 0)
        G2 = probs(Z1 @ W2.astype(np.float32)) - np.eye(W2.shape[1], dtype=np.float32)[yb]
        G1 = (Z1 > 0) * (G2 @ W2.T.astype(np.float32))
        W1 -= lr * (Xb.T @ G1) / Xb.shape[0]
        W2 -= lr * (Z1.T @ G2) / Xb.shape[0]


def backprop(X, y, Ws, sigma, sigma_prime):
    Z, A = [X], []
    for W in Ws[:-1]:
        A.append(Z[-1] @ W)
        Z.append(sigma(A[-1]))
    G = (probs(Z[-1] @ Ws[-1]) - np.eye(Ws[-1].shape[1])[y]) / len(y)
    grads = []
    for Zi, Ai, W in zip(reversed(Z), reversed([None] + A), reversed(Ws)):
        grads.append(np.einsum("mi,mj->ij", Zi, G))
        if Ai is not None:
            G = np.einsum("mj,ij->mi", G, W) * sigma_prime(Ai)
    return grads[::-1]


def backprop_bias(X, y, Ws, bs, sigma, sigma_prime):
    Z, A = [X], []
    for W, b in zip(Ws, bs):
        A.append(Z[-1] @ W + b)
        Z.append(sigma(A[-1]))
    G = (probs(A[-1]) - np.eye(Ws[-1].shape[1])[y]) / len(y)
    gW, gb = [], []
    for i in reversed(range(len(Ws))):
        gW.insert(0, Z[i].T @ G)
        gb.insert(0, np.ones(len(y)) @ G)
        G = (G @ Ws[i].T) * sigma_prime(A[i - 1]) if i else None
    return gW, gb
