"""scikit-learn's update rules, as variants of the optimizers in ``optim``, so that
``manualnn.sklearn``'s estimators follow scikit-learn's trajectories on this stack.

They differ from PyTorch's rules that ``optim`` follows in three ways:

- SGD's momentum is v <- mu v - lr g, p <- p + v (Nesterov: p <- p + mu v - lr g), which
  equals PyTorch's only while the learning rate stays constant (scikit-learn's
  'invscaling' and 'adaptive' schedules change it);
- Adam's epsilon sits outside the bias correction: p <- p - lr_t m / (sqrt(v) + eps) with
  lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t);
- the L2 penalty alpha / (2 s) ||W||^2 has a coefficient c = alpha / s that changes with
  the batch's rows s: the caller sets ``penalty = c`` before each step, and c p is added
  to the gradient of the parameters the decay mask marks (the coefficients).
  ``weight_decay`` (manualnn's addition) is decoupled, as in AdamW and SGDW: those
  parameters are first scaled by 1 - lr wd.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from manualnn.checks import Array
from manualnn.train.optim import SGD, Adam


class SklearnSGD(SGD):
    """scikit-learn's SGD (see the module docstring); never fused into backward."""

    name, l2, momentum_may_be_one = "sklearn_sgd", False, True   # as scikit-learn allows
    penalty = 0.0   # c, set by the caller before each step

    def __init__(self, params: Iterable[Array], lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 decay_mask: Sequence[bool] | None = None, backend: Any = "auto") -> None:
        super().__init__(params, lr, momentum, nesterov and momentum > 0, weight_decay,
                         decay_mask, backend)
        self._fusable = [False] * len(self.params)
        self._ahead = [np.empty_like(p) for p in self.params] if self.nesterov else []

    def _update(self, i, p, g):
        mark, a = self.decay_mask[i], self._scratch[i]
        if self.penalty and mark:
            self.ops.axpy(self.penalty, p, g, a)   # g <- g + c p, in g's own buffer
        if self.weight_decay and mark:
            p *= 1.0 - self.lr * self.weight_decay
        np.multiply(g, self.lr, out=a)
        if not self.momentum:
            p -= a
            return
        v = self.buf[i]
        v *= self.momentum
        v -= a
        if self.nesterov:
            b = np.multiply(v, self.momentum, out=self._ahead[i])
            b -= a
            p += b
        else:
            p += v


class SklearnAdam(Adam):
    """scikit-learn's Adam (see the module docstring): the penalty's gradient and the
    decoupled decay ride inside the one pass of the backend's Adam update."""

    name, l2 = "sklearn_adam", False
    penalty = 0.0   # c, set by the caller before each step

    def _update(self, i, p, g):
        mark = self.decay_mask[i]
        step = self.lr * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        self.ops.adam_(p, g, self.m[i], self.v[i], self._scratch[i], w=1 - self.beta1,
                       beta2=self.beta2, step=step, scale=1.0, eps=self.eps,
                       keep=1.0 - self.lr * self.weight_decay if mark else 1.0,
                       decay=self.penalty if mark else 0.0)
