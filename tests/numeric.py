"""A plain central-difference gradient, shared by tests that check against it."""

import numpy as np


def numerical_gradient(f, W, h=1e-4):
    """(f(W + h e_j) - f(W - h e_j)) / 2h for every entry j of W (changed and restored)."""
    g = np.zeros(W.shape)
    flat = W.reshape(-1)
    for j in range(flat.size):
        t = flat[j]
        flat[j] = t + h
        up = f()
        flat[j] = t - h
        down = f()
        flat[j] = t
        g.reshape(-1)[j] = (up - down) / (2 * h)
    return g
