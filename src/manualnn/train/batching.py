"""Mini-batches: one epoch's shuffled row indices, a batch's rows gathered into buffers made
once per batch size, and the batches of several arrays at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from manualnn import checks
from manualnn.checks import Array, Backend


def batch_indices(m: int, batch_size: int, rng: np.random.Generator | None = None,
                  ops: Backend | None = None) -> Iterator[np.ndarray]:
    """One epoch of mini-batches: yields index arrays that together cover ``range(m)``.

    With ``rng`` (a ``numpy.random.Generator`` or seed) the order is shuffled, else it
    is 0..m-1 in order.  Every batch has ``batch_size`` rows except the last, which
    keeps the remainder.  The order is drawn on the host (the same on every backend) and,
    with a backend ``ops``, moved to its device once: the batches are slices of it there.
    """
    checks.number(m, "m", 1, integer=True)
    checks.number(batch_size, "batch_size", 1, integer=True)
    order = np.arange(m) if rng is None else checks.generator(rng).permutation(m)
    if ops is not None:
        order = ops.from_host(order)
    for start in range(0, m, batch_size):
        yield order[start:min(start + batch_size, m)]


class Gather:
    """The rows of a batch of each array, copied into buffers made once per size.

    ``Gather(X, y)(rows)`` is ``(X[rows], y[rows])`` (None stays None), written over the
    previous batch's copies: a view that lives only until the next call.  ``rows`` are
    valid row numbers (from ``batch_indices`` or a permutation), so the copy runs as
    ``np.take(mode="clip")``, twice as fast on shuffled rows as fancy indexing or the
    default mode, which copy through a temporary.

    With a backend ``ops`` the arrays are that backend's (the training set moved to its
    device once) and so are the buffers: the rows are gathered on the device.
    """

    def __init__(self, *arrays: Array, ops: Backend | None = None) -> None:
        self.arrays, self.m = arrays, int(arrays[0].shape[0])   # m rows in each array
        self._buffers: dict = {}
        self._ops = ops

    def __call__(self, rows: Array) -> tuple:
        n = int(rows.shape[0])
        if self._ops is not None:
            return self._gather(rows, n)
        if n not in self._buffers:
            self._buffers[n] = [None if a is None else np.empty((n,) + a.shape[1:], a.dtype)
                                for a in self.arrays]
        return tuple(a if a is None else np.take(a, rows, axis=0, out=out, mode="clip")
                     for a, out in zip(self.arrays, self._buffers[n]))

    def _gather(self, rows, n):
        ops = self._ops
        if n not in self._buffers:
            self._buffers[n] = [None if a is None else
                                ops.empty((n,) + tuple(a.shape[1:]), a.dtype)
                                for a in self.arrays]
        return tuple(a if a is None else ops.take_rows(a, rows, out)
                     for a, out in zip(self.arrays, self._buffers[n]))


class Batches:
    """One epoch's mini-batches of several arrays (None stays None): in order as slices
    (no copy), or, given a permutation ``order``, its rows gathered (``Gather``)."""

    def __init__(self, *arrays: Array, batch_size: int) -> None:
        self.arrays, self.size = arrays, batch_size
        self._gather = Gather(*arrays)

    def __call__(self, order: Array | None = None) -> Iterator[Any]:
        n = len(self.arrays[0])
        for start in range(0, n, self.size):
            if order is not None:
                yield self._gather(order[start:start + self.size])
            else:
                rows = slice(start, min(start + self.size, n))
                yield tuple(None if a is None else a[rows] for a in self.arrays)
