"""The optimizers' base class: the parameters, ``lr``, the step count, weight decay and
its mask, the checks of gradients, the state saved with a checkpoint and its reload, and
the flush of state too small to matter.  The update rules are in ``optim`` (and
``sklearn_rules``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from manualnn import checks
from manualnn.backend import backend_for
from manualnn.checks import Array

__all__ = ["FLUSH_EVERY", "TINY", "Optimizer"]

FLUSH_EVERY = 32
TINY = {np.dtype(np.float32): 2.0 ** -90, np.dtype(np.float64): 2.0 ** -900}


class Optimizer:
    """Base class: holds the parameters, ``lr`` (settable, e.g. by a schedule), the step
    count ``t`` and the weight-decay settings; subclasses define ``_update``.
    """

    name = ""
    hyper: tuple[str, ...] = ()   # saved in the state's meta and checked on load
    state_names: tuple[str, ...] = ()   # per-parameter state arrays, saved as "name.i"
    l2 = True   # weight decay added to the gradient (False: decoupled, as AdamW)

    def __init__(self, params: Iterable[Array], lr: float, weight_decay: float = 0.0,
                 decay_mask: Sequence[bool] | None = None, backend: Any = "auto") -> None:
        params = list(params) if isinstance(params, (list, tuple)) else params
        self.ops = backend_for(params if isinstance(params, list) and params else [],
                               backend)
        self.params = _check_params(params, self.ops)
        self.lr = lr
        self.weight_decay = float(checks.number(weight_decay, "weight_decay", 0))
        self.decay_mask = _check_mask(decay_mask, len(self.params))
        self.t = 0
        self._fused: set[int] = set()   # weights update_product stepped in this step
        self._last_grads: list = []   # the arrays the last step checked (see _checked)
        self._scratch = [self.ops.empty_like(p) for p in self.params]
        self._decayed = {i: self.ops.empty_like(p) for i, p in enumerate(self.params)
                         if self.l2 and self._decays(i)}

    def rebind(self, params: Iterable[Array]) -> None:
        """Step ``params`` from now on, keeping the state: arrays of the same shapes and
        dtypes as before (a model's weights copied into a new buffer between two fits)."""
        new = _check_params(params, self.ops)
        if [(tuple(p.shape), p.dtype) for p in new] != \
                [(tuple(p.shape), p.dtype) for p in self.params]:
            raise ValueError("params: expected arrays of the shapes and dtypes this "
                             "optimizer was made for")
        self.params = new

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = float(checks.number(value, "lr", 0, low_open=True))

    def step(self, grads: Sequence[Array]) -> None:
        """Update every parameter in place from ``grads`` (same order, shapes and dtypes),
        except those ``update_product`` has already stepped."""
        if not self._checked(grads):
            _check_grads(grads, self.params)
            self._last_grads = [(g, g.shape, g.dtype) for g in grads]
        self._begin()
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if i not in self._fused:
                self._update(i, p, g)
        if self.t % FLUSH_EVERY == 0:
            self._flush_tiny()
        self._fused.clear()

    def _checked(self, grads) -> bool:
        """Whether ``grads`` are the very arrays the last step checked, with the same
        shapes and dtypes (the training step passes the network's own buffers every time;
        the full check costs about 10 us a step)."""
        last = self._last_grads
        return len(grads) == len(last) and all(
            a is b and a.shape == shape and a.dtype is dtype
            for a, (b, shape, dtype) in zip(grads, last))

    def update_product(self, i: int, Z: np.ndarray, D: np.ndarray, out: np.ndarray) -> bool:
        """Step ``params[i]``, of shape (n, p), by its gradient Z^T D (Z (m, n), D (m, p))
        now, as the first part of the coming ``step``, which then leaves it alone; the
        training step (``train.step.Step``) calls it from backward's hook.  ``out`` is
        the gradient's buffer.

        Here: the gradient goes into ``out`` and the usual update follows at once, while
        the weight (just read for G_i = D_i W_i^T) and its gradient are still in cache.
        An optimizer may instead fold the update into the product (``SGD``).
        """
        self._begin()
        self.ops.matmul(Z.T, D, out=out)
        self._update(i, self.params[i], out)
        self._fused.add(i)
        return True

    def _begin(self) -> None:
        """Count the step once: at its first fused weight, or in ``step`` if none was."""
        if not self._fused:
            self.t += 1

    def _flush_tiny(self) -> None:
        """Set state entries too small to matter (float32: below about 5e-35) to zero.

        A moment whose gradient stays zero (a dead relu unit) decays geometrically into
        the subnormal range, where every multiply costs about a hundred times more.
        Adding and subtracting c = 2^-90 (2^-900 in float64) is exact for entries far
        above c and rounds the tiny ones to 0, in two in-place passes; done every
        FLUSH_EVERY steps, entries can decay by 0.9^32 = 0.03 between flushes and stay
        normal.  Nothing changes but values far below anything an update can notice.
        """
        for a in self._state_arrays().values():
            c = TINY[self.ops.np_dtype(a.dtype)]
            a += c
            a -= c

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def _decays(self, i: int) -> bool:
        return self.weight_decay > 0 and self.decay_mask[i]

    def _l2_grad(self, i, p, g):
        """g + wd * p in a buffer of its own (the caller's g is left alone), or g itself."""
        if i not in self._decayed:
            return g
        d = self.ops.xp.multiply(p, self.weight_decay, out=self._decayed[i])
        d += g
        return d

    # -- state ------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict[str, np.ndarray], dict]:
        """(arrays, meta): copies of the state arrays named "m.0", "v.0", ... and the
        JSON-able scalars: name, t, lr, weight_decay, decay_mask and the hyperparameters.
        """
        arrays = {k: self.ops.to_numpy(a, copy=True) for k, a in self._state_arrays().items()}
        meta = {"name": self.name, "t": self.t, "lr": self.lr, **self._settings()}
        return arrays, meta

    def load_state_dict(self, arrays: Mapping[str, Array], meta: dict) -> None:
        """Restore ``state_dict()`` output into this optimizer (t, lr and the arrays).

        The hyperparameters in ``meta`` must equal this optimizer's: construct it with the
        saved ones.  Everything is checked before anything changes.
        """
        if not isinstance(meta, dict) or meta.get("name") != self.name:
            got = meta.get("name") if isinstance(meta, dict) else meta
            raise ValueError(f"meta['name']: expected {self.name!r}, got {got!r}")
        for key, mine in self._settings().items():
            if meta.get(key) != mine:
                raise ValueError(f"meta[{key!r}]: expected {mine!r} as this optimizer has, "
                                 f"got {meta.get(key)!r}; construct it with the saved value")
        t = checks.number(meta.get("t"), "meta['t']", 0, integer=True)
        lr = checks.number(meta.get("lr"), "meta['lr']", 0, low_open=True)
        targets = self._state_arrays()
        if not isinstance(arrays, dict) or set(arrays) != set(targets):
            got = sorted(arrays) if isinstance(arrays, dict) else type(arrays).__name__
            raise ValueError(f"arrays: expected the names {sorted(targets)}, got {got}")
        for key, target in targets.items():
            _check_like(arrays[key], target, f"arrays[{key!r}]", self.ops)
        for key, target in targets.items():
            self.ops.assign(target, arrays[key])
        self.t, self.lr = int(t), lr

    def state_nbytes(self) -> int:
        """Bytes of the optimizer's state arrays (what a checkpoint saves beside the
        weights): ``state_arrays_per_param`` arrays the size of the parameters."""
        return sum(a.nbytes for a in self._state_arrays().values())

    @classmethod
    def state_arrays_per_param(cls, **options: Any) -> int:
        """How many state arrays each parameter gets, from the options the class takes:
        for memory plans made before an optimizer (and its parameters) exists."""
        return len(cls.state_names)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {f"{s}.{i}": a for s in self.state_names for i, a in enumerate(getattr(self, s))}

    def _settings(self) -> dict:
        return {"weight_decay": self.weight_decay, "decay_mask": list(self.decay_mask),
                **{k: getattr(self, k) for k in self.hyper}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in {"lr": self.lr, **self._settings()}.items()
                         if k != "decay_mask")
        return f"{type(self).__name__}({args})"


def _check_params(params, ops) -> list:
    if isinstance(params, np.ndarray) or getattr(params, "ndim", None) is not None:
        raise TypeError("params: expected a list of arrays, got a single array")
    params = list(params)
    if not params:
        raise ValueError("params: expected at least one array, got an empty list")
    for i, p in enumerate(params):
        ops.weight_input(p, f"params[{i}]", tuple(getattr(p, "shape", ())))
        if isinstance(p, np.ndarray) and not p.flags.writeable:
            raise ValueError(f"params[{i}]: expected a writeable array, got a read-only one")
    if len({id(p) for p in params}) != len(params):   # it would be stepped twice
        raise ValueError("params: expected distinct arrays, got one array more than once")
    return params


def _check_mask(mask, n: int) -> list[bool]:
    if mask is None:
        return [True] * n
    mask = list(mask)
    if len(mask) != n or not all(isinstance(b, (bool, np.bool_)) for b in mask):
        raise ValueError(f"decay_mask: expected {n} booleans (one per parameter), got {mask!r}")
    return [bool(b) for b in mask]


def _check_grads(grads, params) -> None:
    """Length, type, shape and dtype only: cheap, and allocates no arrays."""
    if len(grads) != len(params):
        raise ValueError(f"grads: expected {len(params)} arrays (one per parameter), "
                         f"got {len(grads)}")
    for i, (p, g) in enumerate(zip(params, grads)):
        _check_like(g, p, f"grads[{i}]")


def _check_like(a, like, name: str, ops=None) -> None:
    """a has like's type, shape and dtype; with ``ops`` (a saved state read back) a NumPy
    array of like's shape and NumPy dtype may stand for a device array."""
    if type(a) is np.ndarray and type(like) is np.ndarray and a.shape == like.shape \
            and a.dtype == like.dtype:   # the common case, first: the step checks every grad
        return
    kind = np.ndarray if isinstance(like, np.ndarray) else type(like)
    if ops is not None and not ops.host and isinstance(a, np.ndarray) \
            and a.shape == tuple(like.shape) and a.dtype == ops.np_dtype(like.dtype):
        return
    if not isinstance(a, kind) or tuple(a.shape) != tuple(like.shape) or a.dtype != like.dtype:
        got = f"shape {tuple(a.shape)} and dtype {a.dtype}" if hasattr(a, "shape") else \
            type(a).__name__
        raise ValueError(f"{name}: expected shape {tuple(like.shape)} and dtype {like.dtype}, "
                         f"got {got}")
