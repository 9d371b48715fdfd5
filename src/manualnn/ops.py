"""The array primitives the network calls, and the workspaces they write into.

This is the one module that knows which array library runs the math (NumPy).  The
network never calls NumPy for its matrix work directly: it asks for a workspace of
buffers for a batch of m rows once, then writes every product into those buffers with
``matmul`` and ``rowsum``, so a steady training step allocates no arrays.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

xp = np


def matmul(A, B, out):
    """out <- A @ B, shapes (m, n) @ (n, p) -> (m, p), written into ``out``."""
    return xp.matmul(A, B, out=out)


def rowsum(D, out):
    """out <- sum of the rows of D: (m, n) -> (n,), written into ``out``."""
    return xp.sum(D, axis=0, out=out)


def empty(shape, dtype):
    return xp.empty(shape, dtype=dtype)


class Workspaces:
    """A small least-recently-used cache of buffer sets, one set per batch size m.

    A training epoch needs at most two (the full batch and the last, shorter one), and
    evaluation one more for its chunks; ``build(m)`` makes the set for m rows.
    """

    def __init__(self, build, keep: int = 3):
        self._build, self._keep, self._sets = build, keep, OrderedDict()

    def get(self, m: int):
        sets = self._sets
        if m in sets:
            sets.move_to_end(m)
        else:
            sets[m] = self._build(m)
            while len(sets) > self._keep:
                sets.popitem(last=False)
        return sets[m]

    def clear(self):
        self._sets.clear()
