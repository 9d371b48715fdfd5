"""A network's mean loss and error rate on a whole split, in fixed blocks of rows: what
the loop reports after every epoch and what ``Step.evaluate`` runs on one process.

Below both ``loop.py`` and ``step.py``, which each need it.
"""

from __future__ import annotations

import math

import numpy as np

from manualnn.checks import Array
from manualnn.core.losses import Loss
from manualnn.core.network import MLP

__all__ = ["LOSS_BLOCK", "evaluate"]

LOSS_BLOCK = 512   # rows per forward pass and partial sum of an evaluation


def evaluate(net: MLP, X: Array, y: Array, loss: Loss, chunk: int = 4096) -> tuple[float, float]:
    """(mean loss, error rate) of ``net`` on X (m, n_1) and targets y, without dropout.

    The error compares the arg-max of each output row with the label (or with the arg-max
    of a one-hot target row).  Runs at most ``chunk`` rows at a time: memory stays bounded.
    The rows go through in fixed blocks of :data:`LOSS_BLOCK` (fewer only when ``chunk``
    is smaller) and the blocks' losses are added exactly (fsum), so the result does not
    depend on ``chunk`` >= LOSS_BLOCK: the memory free at the time cannot move early
    stopping.  X and y may be arrays of the network's device: the labels are checked and
    each block's outputs scored on the host.
    """
    ops = net.ops
    native_y = not ops.host and ops.is_native(y)
    y = loss.targets(ops.to_numpy(y) if native_y else y, X.shape[0], net.layers[-1])
    block = min(chunk, LOSS_BLOCK)   # a product's last bits may depend on its rows: fixed
    sums, wrong = [], 0
    with np.errstate(over="ignore", invalid="ignore"):   # a diverged model: its loss says so
        for start in range(0, X.shape[0], block):
            stop = min(start + block, X.shape[0])   # the standard's slices stop in range
            Z = ops.to_numpy(net(X[start:stop, ...]))   # (rows, k), on the host
            yb = y[start:stop]
            labels = yb if yb.ndim == 1 else yb.argmax(axis=1)
            wrong += int(np.count_nonzero(Z.argmax(axis=1) != labels))
            sums.append(loss.value_and_grad_(Z, yb)[0] * Z.shape[0])
    return math.fsum(sums) / X.shape[0], wrong / X.shape[0]
