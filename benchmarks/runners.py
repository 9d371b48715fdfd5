"""The two NumPy-side contestants of the epoch benchmark: the matmul-only bound and manualnn.

Every runner has the same face: ``prepare(order)`` does what is not timed (for the
bound, the gather), then ``epoch(order, epoch_seed)`` trains (or, for the bound, multiplies)
once through the rows of the training set in the given order, batch by batch, and
``params()`` returns the current weights as NumPy arrays in manualnn's layout
(W_i of shape (n_i, n_{i+1}), then b_i), for the equivalence check.
"""

from __future__ import annotations

import numpy as np

from manualnn import MLP, get_loss
from manualnn.train import TrainState, fit
from manualnn.train.optim import SGD, Adam


class Config:
    """One benchmark configuration: the network, the batch size and the optimizer."""

    def __init__(self, key, layers, batch, bias, optimizer, lr, momentum=0.0, init="auto"):
        self.key, self.layers, self.batch, self.bias = key, list(layers), batch, bias
        self.optimizer, self.lr, self.momentum, self.init = optimizer, lr, momentum, init

    @property
    def title(self) -> str:
        opt = {"sgd": f"SGD lr {self.lr}", "adam": f"Adam lr {self.lr}"}[self.optimizer]
        if self.momentum:
            opt = f"SGD lr {self.lr} momentum {self.momentum}"
        bias = "bias" if self.bias else "no bias"
        return f"{'-'.join(map(str, self.layers))}, batch {self.batch}, {bias}, {opt}"

    def initial_params(self, seed: int, dtype="float32") -> list:
        """The initial [W_1, b_1, ...] every contestant starts from (manualnn's init)."""
        net = MLP(self.layers, bias=self.bias, init=self.init, dtype="float32", rng=seed)
        return [p.astype(dtype) for p in net.params]


CONFIGS = {
    "a": Config("a", [784, 400, 10], 100, False, "sgd", 0.2, init="course"),
    "b": Config("b", [784, 100, 10], 100, True, "sgd", 0.1),
    "c": Config("c", [784, 1024, 1024, 10], 256, True, "sgd", 0.01, momentum=0.9),
    "d": Config("d", [784, 256, 256, 256, 10], 32, True, "adam", 1e-3),
}


def split_params(cfg: Config, params):
    """([W_1, ...], [b_1, ...] or None) from manualnn's flat parameter list."""
    if not cfg.bias:
        return list(params), None
    return list(params[::2]), list(params[1::2])


class Bound:
    """The matrix products of a training step alone, into buffers made once.

    Per batch: forward Z_{i+1} = Z_i W_i, backward dW_i = Z_i^T G_{i+1} and
    G_i = G_{i+1} W_i^T (no G_1), the same products as manualnn's step and nothing else:
    no bias, activation, loss or update.  The batches are contiguous slices of the data
    in the epoch's order, gathered before the clock starts (so the bound does not pay
    for the gather that the trainers pay: it errs on the low side).  G_{L+1} holds small
    random values, so that no product runs on denormals or garbage.
    """

    name = "matmul bound"

    def __init__(self, cfg: Config, X, y, seed: int):
        W, _ = split_params(cfg, cfg.initial_params(seed))
        self.cfg, self.X, self.W = cfg, X, W
        self._sets = {}
        self._rng = np.random.default_rng(seed)

    def _buffers(self, m):
        if m not in self._sets:
            n, t = self.cfg.layers, self.X.dtype
            Z = [None] + [np.empty((m, k), t) for k in n[1:]]
            G = [np.empty((m, k), t) for k in n]
            G[-1][...] = self._rng.standard_normal(G[-1].shape) * 0.01
            dW = [np.empty_like(w) for w in self.W]
            self._sets[m] = (Z, G, dW)
        return self._sets[m]

    def prepare(self, order):
        """The epoch's batches in order, as one contiguous copy (not timed)."""
        self._Xp = np.take(self.X, order, axis=0)

    def epoch(self, order, epoch_seed):
        Xp, B, W = self._Xp, self.cfg.batch, self.W
        L = len(W)
        for start in range(0, Xp.shape[0], B):
            Xb = Xp[start:start + B]
            Z, G, dW = self._buffers(Xb.shape[0])
            Z[0] = Xb
            for i in range(L):
                np.matmul(Z[i], W[i], out=Z[i + 1])
            for i in reversed(range(L)):
                np.matmul(Z[i].T, G[i + 1], out=dW[i])
                if i:
                    np.matmul(G[i + 1], W[i].T, out=G[i])

    def params(self):
        return None


class Manualnn:
    """manualnn as a user trains it: ``manualnn.train.fit`` for one epoch, with the
    optimizer of ``manualnn.train.optim`` and the softmax cross-entropy loss.

    ``fit`` shuffles with ``state.shuffle_rng``; each epoch gets a fresh generator seeded
    like the one that made ``order``, so the batches are exactly the other runners'.
    """

    name, backend = "manualnn", "auto"

    def __init__(self, cfg: Config, X, y, seed: int, dtype="float32"):
        self.cfg, self.X, self.y = cfg, X.astype(dtype, copy=False), y
        self.net = MLP(cfg.layers, bias=cfg.bias, init="zeros", dtype=dtype,
                       backend=self.backend)
        self.net.set_params(cfg.initial_params(seed, dtype))
        self.loss = get_loss("softmax_cross_entropy")
        if cfg.optimizer == "adam":
            self.opt = Adam(self.net.params, lr=cfg.lr, backend=self.net.ops)
        else:
            self.opt = SGD(self.net.params, lr=cfg.lr, momentum=cfg.momentum,
                           backend=self.net.ops)
        self.state = TrainState()

    def prepare(self, order):
        pass

    def epoch(self, order, epoch_seed):
        self.state.shuffle_rng = np.random.default_rng(epoch_seed)
        fit(self.net, self.X, self.y, self.loss, self.opt, epochs=self.state.epoch + 1,
            batch_size=self.cfg.batch, state=self.state, log=_quiet, progress=False)

    def params(self):
        return [p.copy() for p in self.net.params]


class ManualnnNumpy(Manualnn):
    """manualnn on the NumPy backend (``backend="numpy"``): what the fast backend of
    ``manualnn[fast]`` (SGD fused into a BLAS gemm; Adam, the relu layers and the loss as
    numba loops) is worth."""

    name, backend = "manualnn, NumPy only", "numpy"


def _quiet(*args, **kwargs):
    pass


def epoch_order(n: int, epoch_seed: int) -> np.ndarray:
    """The row order of one epoch: what ``fit`` draws from ``default_rng(epoch_seed)``."""
    return np.random.default_rng(epoch_seed).permutation(n)
