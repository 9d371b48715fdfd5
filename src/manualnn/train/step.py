"""The training step: the one place that turns a batch into an update.

    value, grads = net.loss_and_grad(X, y, loss, hook=...)     forward, loss, backward
    optimizer.step(grads)                                       every weight not yet stepped

The step owns the wiring between the network and the optimizer, which know nothing of
each other: when nothing needs every gradient before the update (no clipping), backward's
hook lets the optimizer step W_i as soon as D_i is known, while W_i and its product are
in cache, and SGD folds its update into the gradient's product (one gemm with beta).
"""

from __future__ import annotations

from manualnn.checks import Array
from manualnn.core.losses import Loss
from manualnn.core.network import MLP
from manualnn.train import evaluation
from manualnn.train.optim import clip_grad_norm
from manualnn.train.optimizer import Optimizer


class Step:
    """``Step(net, loss, optimizer, clip_norm=None)(X, y)`` -> (the batch's mean loss, its
    misclassified rows or None where the loss does not classify).

    X (m, n_1) in the network's dtype and y checked by ``loss.targets``.  Where the loss
    is not finite nothing is updated and the value is returned for the caller to judge.
    With ``clip_norm`` every gradient is formed first, clipped to that global norm, and
    then stepped.
    """

    def __init__(self, net: MLP, loss: Loss, optimizer: Optimizer,
                 clip_norm: float | None = None) -> None:
        self.net, self.loss, self.optimizer, self.clip_norm = net, loss, optimizer, clip_norm
        self._hook = None if clip_norm else self._fused_update

    def __call__(self, X: Array, y: Array,
                 sample_weight: Array | None = None) -> tuple[float, int | None]:
        value, errors, grads = self.net.loss_and_grad(X, y, self.loss, sample_weight,
                                                      hook=self._hook, return_errors=True)
        if self.net.ops.finite(value):   # on a GPU: assumed, the loop reads it in batches
            if self.clip_norm:
                clip_grad_norm(grads, self.clip_norm)
            self.optimizer.step(grads)
        return value, errors

    def evaluate(self, X: Array, y: Array, chunk: int = 4096) -> tuple[float, float]:
        """(mean loss, error rate) of the network on X (m, n_1) and targets y, as
        ``evaluation.evaluate``: here all in this process."""
        return evaluation.evaluate(self.net, X, y, self.loss, chunk)

    def check(self) -> None:
        """Verify that every copy of the model is the same: one process holds one copy."""

    def _fused_update(self, i, Z, D) -> bool:
        return self.optimizer.update_product(self.net.weight_index(i), Z, D, self.net.dW[i])
