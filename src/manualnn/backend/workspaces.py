"""Workspaces: the buffers of a training step, made once per batch size and reused."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class Workspaces:
    """A small least-recently-used cache of buffer sets, one set per batch size m.

    A training epoch needs at most two (the full batch and the last, shorter one), and
    evaluation one more for its chunks; ``build(m)`` makes the set for m rows.
    """

    def __init__(self, build: Callable[[int], Any], keep: int = 3) -> None:
        self._build, self._keep = build, keep
        self._sets: OrderedDict[int, Any] = OrderedDict()
        self._last_m: int | None = None
        self._last: Any = None

    def get(self, m: int) -> Any:
        """The set of buffers for m rows, made on first use."""
        if m == self._last_m:   # the common case, a run of equal batches: no reordering
            return self._last
        sets = self._sets
        if m in sets:
            sets.move_to_end(m)
        else:
            sets[m] = self._build(m)
            while len(sets) > self._keep:
                sets.popitem(last=False)
        self._last_m, self._last = m, sets[m]
        return self._last

    def clear(self) -> None:
        self._sets.clear()
        self._last_m, self._last = None, None
