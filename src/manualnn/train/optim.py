"""The optimizers: SGD (momentum, Nesterov), Adam and AdamW, by name through
``get_optimizer`` (their base class is in ``optimizer``, gradient clipping in
``clipping``, learning-rate schedules in ``schedules``).

An optimizer updates a list of parameter arrays in place from a list of gradients of the
same shapes and dtypes: ``net.params`` and the ``grads`` of ``net.loss_and_grad``.  The
updates are PyTorch's ``torch.optim`` ones (SGD with dampening 0, Adam without amsgrad,
AdamW), operation for operation, so a float64 run follows PyTorch's to rounding.

A steady ``step`` allocates no arrays: the state buffers and one scratch buffer per
parameter (a second where an L2 weight decay needs the decayed gradient kept) are made at
construction, and every update is an in-place ufunc with ``out=``.  Scalars are Python
floats, so a float32 parameter stays float32.

Weight decay applies to every parameter unless ``decay_mask[i]`` is False (PyTorch's
default is to decay all); ``[True, False] * L`` exempts the biases of ``net.params``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from manualnn import checks
from manualnn.checks import Array
from manualnn.train.clipping import clip_grad_norm
from manualnn.train.optimizer import Optimizer

__all__ = ["OPTIMIZERS", "SGD", "Adam", "AdamW", "Optimizer", "clip_grad_norm",
           "get_optimizer"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD
    with dampening 0.  Per parameter, with d = g + wd * p (L2 decay, if any):

        buf <- d on the first step, else momentum * buf + d
        d   <- d + momentum * buf (nesterov) or buf (momentum > 0)
        p   <- p - lr * d
    """

    name, hyper, state_names = "sgd", ("momentum", "nesterov"), ("buf",)
    momentum_may_be_one = False

    def __init__(self, params: Iterable[Array], lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 decay_mask: Sequence[bool] | None = None, backend: Any = "auto") -> None:
        super().__init__(params, lr, weight_decay, decay_mask, backend)
        self.momentum = float(checks.number(momentum, "momentum", 0, 1,
                                            high_open=not self.momentum_may_be_one))
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov: expected True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov: expected momentum > 0 with nesterov=True, got momentum=0")
        self.nesterov = nesterov
        self.buf = [self.ops.zeros_like(p) for p in self.params] if self.momentum else []
        # the product form needs the plain gradient: not with nesterov, nor with L2 decay
        # under momentum (it enters the buffer); and a BLAS gemm that adds in place
        self._fusable = [self.ops.fuses_products and not nesterov and p.ndim == 2
                         and p.flags.c_contiguous and not (self.momentum and self._decays(i))
                         for i, p in enumerate(self.params)]

    @classmethod
    def state_arrays_per_param(cls, momentum: float = 0.0, **options: Any) -> int:
        return 1 if momentum else 0   # the momentum buffer, only with momentum

    def update_product(self, i: int, Z: Array, D: Array, out: Array) -> bool:
        """The SGD step by g = Z^T D as one BLAS gemm that adds into its output:

            no momentum   p <- (1 - lr wd) p - lr Z^T D      (L2 decay folded into beta)
            momentum      buf <- momentum buf + Z^T D (buf <- Z^T D on the first step),
                          then p <- p - lr buf (one axpy)

        which saves the passes that storing g and then reading it back would take.
        """
        if not self._fusable[i]:
            return super().update_product(i, Z, D, out)
        self._begin()
        p = self.params[i]
        if self.momentum:
            beta = self.momentum if self.t > 1 else 0.0
            self.ops.matmul_add(Z.T, D, self.buf[i], 1.0, beta)
            self.ops.axpy(-self.lr, self.buf[i], p, self._scratch[i])
        else:
            decay = self.weight_decay if self._decays(i) else 0.0
            self.ops.matmul_add(Z.T, D, p, -self.lr, 1.0 - self.lr * decay)
        self._fused.add(i)
        return True

    def _update(self, i, p, g):
        d, s = self._l2_grad(i, p, g), self._scratch[i]
        step = d
        if self.momentum:
            buf = self.buf[i]
            if self.t == 1:
                self.ops.xp.copyto(buf, d)
            else:
                buf *= self.momentum
                buf += d
            step = buf
            if self.nesterov:
                step = self.ops.xp.multiply(buf, self.momentum, out=s)
                step += d
        self.ops.axpy(-self.lr, step, p, s)


class Adam(Optimizer):
    """Adam with bias correction, as torch.optim.Adam (amsgrad off).  Per parameter, at
    step t, with g <- g + wd * p (L2 decay, if any):

        m <- m + (1 - beta1) (g - m)          (torch's lerp: beta1 m + (1 - beta1) g)
        v <- beta2 v + (1 - beta2) g^2
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    name, hyper, state_names = "adam", ("beta1", "beta2", "eps"), ("m", "v")

    def __init__(self, params: Iterable[Array], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
                 decay_mask: Sequence[bool] | None = None, backend: Any = "auto") -> None:
        super().__init__(params, lr, weight_decay, decay_mask, backend)
        self.beta1 = float(checks.number(beta1, "beta1", 0, 1, high_open=True))
        self.beta2 = float(checks.number(beta2, "beta2", 0, 1, high_open=True))
        self.eps = float(checks.number(eps, "eps", 0, low_open=True))
        self.m = [self.ops.zeros_like(p) for p in self.params]
        self.v = [self.ops.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        keep, g = self._decay(i, p, g)
        self.ops.adam_(p, g, self.m[i], self.v[i], self._scratch[i], w=1.0 - self.beta1,
                      beta2=self.beta2, step=self.lr / (1.0 - self.beta1 ** self.t),
                      scale=1.0 / math.sqrt(1.0 - self.beta2 ** self.t), eps=self.eps,
                      keep=keep)

    def _decay(self, i, p, g):
        """(keep, g): Adam's weight decay is L2, added to the gradient."""
        return 1.0, self._l2_grad(i, p, g)


class AdamW(Adam):
    """Adam with decoupled weight decay, as torch.optim.AdamW: first p <- p (1 - lr wd)
    for the decayed parameters, then the Adam step on the plain gradient.
    """

    name, l2 = "adamw", False

    def __init__(self, params: Iterable[Array], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.01,
                 decay_mask: Sequence[bool] | None = None, backend: Any = "auto") -> None:
        super().__init__(params, lr, beta1, beta2, eps, weight_decay, decay_mask, backend)

    def _decay(self, i, p, g):
        """(keep, g): AdamW's decay scales p by keep = 1 - lr wd inside the update."""
        return (1.0 - self.lr * self.weight_decay if self._decays(i) else 1.0), g


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def get_optimizer(name: str, params: Iterable[Array], **options: Any) -> Optimizer:
    """The optimizer ``name`` ("sgd", "adam", "adamw") over ``params``; options as the class
    takes them (SGD needs ``lr``)."""
    cls = OPTIMIZERS[checks.choice(name, "optimizer", OPTIMIZERS)]
    return checks.construct(cls, name, params, **options)
