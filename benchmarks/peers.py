"""The peers of the epoch benchmark: PyTorch eager on the CPU and scikit-learn's MLP.

Both start from manualnn's initial weights and see the batches in the same order, with
the same optimizer settings, so that a difference in time is a difference in the
engine.  Each is optional: a missing library makes its runner unavailable (with the
reason), not the benchmark fail.
"""

from __future__ import annotations

import warnings

import numpy as np
from runners import Config, split_params


def torch_available() -> str | None:
    """None when PyTorch imports, else the reason it does not."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        return f"PyTorch is not installed ({exc}); `make bench` installs torch==2.13.0"
    return None


def sklearn_available() -> str | None:
    """None when scikit-learn imports, else the reason it does not."""
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        return f"scikit-learn is not installed ({exc}); `pip install -e '.[bench]'`"
    return None


def torch_model(cfg: Config, seed: int, dtype="float32", device="cpu"):
    """(model, loss, optimizer): ``nn.Sequential`` of ``nn.Linear`` (bias as the config,
    manualnn's initial weights) and ReLU on ``device``, ``nn.CrossEntropyLoss``, and
    ``torch.optim.SGD`` / ``Adam`` with the config's settings."""
    import torch

    W, b = split_params(cfg, cfg.initial_params(seed, dtype))
    layers = []
    for i, w in enumerate(W):
        lin = torch.nn.Linear(*w.shape, bias=cfg.bias, dtype=getattr(torch, dtype),
                              device=device)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            if cfg.bias:
                lin.bias.copy_(torch.from_numpy(b[i]))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    params = model.parameters()
    opt = torch.optim.Adam(params, lr=cfg.lr) if cfg.optimizer == "adam" else \
        torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    return model, torch.nn.CrossEntropyLoss(), opt


class Torch:
    """PyTorch eager: ``nn.Sequential`` of ``nn.Linear`` (bias as the config) and ReLU,
    ``nn.CrossEntropyLoss``, ``torch.optim.SGD`` / ``Adam`` with the config's settings.

    The step is the idiomatic one: gather the batch by index from tensors in memory,
    ``zero_grad``, forward, loss, ``backward``, ``step``, and ``loss.item()`` kept for the
    epoch's mean loss (as ``fit`` keeps its own).
    """

    name = "PyTorch"

    def __init__(self, cfg: Config, X, y, seed: int, threads: int, dtype="float32"):
        import torch

        torch.set_num_threads(threads)
        self.torch, self.cfg = torch, cfg
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=dtype))
        self.y = torch.from_numpy(y.astype(np.int64))
        self.model, self.loss, self.opt = torch_model(cfg, seed, dtype)

    def prepare(self, order):
        self._order = self.torch.from_numpy(order)

    def epoch(self, order, epoch_seed):
        X, y, B, model, loss, opt = self.X, self.y, self.cfg.batch, self.model, self.loss, \
            self.opt
        order, total = self._order, 0.0
        for start in range(0, X.shape[0], B):
            rows = order[start:start + B]
            opt.zero_grad()
            value = loss(model(X[rows]), y[rows])
            value.backward()
            opt.step()
            total += value.item() * rows.shape[0]
        return total / X.shape[0]

    def params(self):
        out = []
        for lin in self.model[::2]:
            out.append(lin.weight.detach().numpy().T.copy())
            if self.cfg.bias:
                out.append(lin.bias.detach().numpy().copy())
        return out


class TorchCompile(Torch):
    """PyTorch with ``torch.compile``: the forward and loss compiled as one function
    (Inductor's C++ kernels; AOTAutograd compiles its backward); the optimizer's step
    runs eagerly (its compiled form, in PyTorch 2.13 on the CPU, gave Adam weights far
    from torch.optim's own, so it is not a like-for-like peer).  The first epoch (the
    warm-up) pays the compilation."""

    name = "torch.compile"

    def __init__(self, cfg: Config, X, y, seed: int, threads: int, dtype="float32"):
        super().__init__(cfg, X, y, seed, threads, dtype)
        torch, model, loss = self.torch, self.model, self.loss
        self._forward = torch.compile(lambda Xb, yb: loss(model(Xb), yb))

    def epoch(self, order, epoch_seed):
        X, y, B = self.X, self.y, self.cfg.batch
        order, total = self._order, 0.0
        for start in range(0, X.shape[0], B):
            rows = order[start:start + B]
            self.opt.zero_grad()
            value = self._forward(X[rows], y[rows])
            value.backward()
            self.opt.step()
            total += value.item() * rows.shape[0]
        return total / X.shape[0]


class Sklearn:
    """scikit-learn's ``MLPClassifier``: relu, ``solver`` sgd (constant learning rate,
    momentum as the config, no Nesterov) or adam, alpha 0, the config's batch size, one
    epoch per ``partial_fit`` call.

    scikit-learn has no option to drop the biases, so on configuration a it keeps them.
    It cannot be given a batch order either: with ``shuffle=False`` it takes the rows as
    they come, so ``prepare`` hands it the epoch's rows already permuted, before the clock
    starts (this favours scikit-learn: it does not pay for the gather the others pay).
    Its initial weights are manualnn's, set after one throw-away batch that builds its
    arrays; its optimizer state is then reset.
    """

    name = "scikit-learn"

    def __init__(self, cfg: Config, X, y, seed: int):
        from sklearn.neural_network import MLPClassifier

        self.cfg, self.X, self.y = cfg, X, y
        self.classes = np.unique(y)
        common = {"hidden_layer_sizes": tuple(cfg.layers[1:-1]), "activation": "relu",
                      "alpha": 0.0, "batch_size": cfg.batch, "learning_rate_init": cfg.lr,
                      "shuffle": False, "max_iter": 1, "early_stopping": False, "random_state": seed}
        if cfg.optimizer == "adam":
            self.clf = MLPClassifier(solver="adam", **common)
        else:
            self.clf = MLPClassifier(solver="sgd", learning_rate="constant",
                                     momentum=cfg.momentum, nesterovs_momentum=False,
                                     **common)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(X[:cfg.batch], y[:cfg.batch], classes=self.classes)
        W, b = split_params(cfg, cfg.initial_params(seed))
        for i, w in enumerate(W):
            self.clf.coefs_[i][...] = w
            self.clf.intercepts_[i][...] = b[i] if b is not None else 0.0
        del self.clf._optimizer   # a fresh one (zero momentum / moments) at the next call

    def prepare(self, order):
        self._Xp = np.take(self.X, order, axis=0)
        self._yp = np.take(self.y, order)

    def epoch(self, order, epoch_seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(self._Xp, self._yp)
        return self.clf.loss_

    def params(self):
        out = []
        for w, b in zip(self.clf.coefs_, self.clf.intercepts_):
            out += [w.copy(), b.copy()] if self.cfg.bias else [w.copy()]
        return out


def max_relative_difference(mine, theirs) -> float:
    """max over parameters of max|a - b| / max|b|: 0 when equal, ~1e-16 per rounding."""
    worst = 0.0
    for a, b in zip(mine, theirs):
        scale = float(np.abs(b).max()) or 1.0
        worst = max(worst, float(np.abs(a - b).max()) / scale)
    return worst
