"""Learning-rate schedules: constant, step, cosine, and a linear warm-up around any of them.

A schedule maps training progress to a learning rate; the epoch loop sets
``optimizer.lr = schedule.lr_at(epoch, step, steps_per_epoch)`` before every step.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from manualnn import checks

# the learning rates a schedule may reach, as natural logarithms: positive normal floats
LOG_LOWEST, LOG_HIGHEST = math.log(sys.float_info.min), math.log(sys.float_info.max)


class Schedule:
    """A learning rate as a function of training progress; constant at ``base_lr`` here.

    ``lr_at(epoch, step, steps_per_epoch)``: epoch counts from 0 and step is the index of
    the batch within it (0 .. steps_per_epoch - 1).  Set ``optimizer.lr`` from it before
    each step (or once per epoch with step 0).  Progress in epochs is
    t = epoch + step / steps_per_epoch.
    """

    options: tuple[str, ...] = ()   # what a run's configuration gives the class, by name

    def __init__(self, base_lr: float) -> None:
        self.base_lr = float(checks.number(base_lr, "base_lr", 0, low_open=True))

    def lr_at(self, epoch: int, step: int = 0, steps_per_epoch: int = 1) -> float:
        spe = checks.number(steps_per_epoch, "steps_per_epoch", 1, integer=True)
        checks.number(epoch, "epoch", 0, integer=True)
        checks.number(step, "step", 0, spe - 1, integer=True)
        return self._lr(int(epoch), int(step), int(spe))

    def _lr(self, epoch: int, step: int, spe: int) -> float:
        return self.base_lr

    def log_range(self, epochs: int, spe: int) -> tuple[float, float]:
        """(log of the lowest, log of the highest) learning rate over ``epochs`` epochs of
        ``spe`` steps, as natural logarithms, so a rate beyond float's range (or 0) is
        told rather than overflowed into (-inf for 0)."""
        return math.log(self.base_lr), math.log(self.base_lr)

    def check_range(self, epochs: int, spe: int, options: str = "its options") -> None:
        """ValueError when the rate leaves the positive normal floats within ``epochs``
        epochs of ``spe`` steps (it would become 0 or overflow mid-run); ``options`` names
        what sets it, for the message."""
        low, high = self.log_range(epochs, spe)
        if LOG_LOWEST <= low and high <= LOG_HIGHEST:
            return
        shown = [_shown(v) for v in (low, high)]
        raise ValueError(f"lr: this schedule ({options}) takes the learning rate from "
                         f"{shown[0]} to {shown[1]} within {epochs} epochs; it must stay "
                         f"between {sys.float_info.min:.3g} and {sys.float_info.max:.3g}")

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class ConstantSchedule(Schedule):
    """lr = base_lr throughout."""


class StepSchedule(Schedule):
    """lr = base_lr * gamma^(epoch // step_size), per epoch, as torch's StepLR."""

    options = ("step_size", "gamma")

    def __init__(self, base_lr: float, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(base_lr)
        self.step_size = int(checks.number(step_size, "step_size", 1, integer=True))
        self.gamma = float(checks.number(gamma, "gamma", 0, low_open=True))

    def _lr(self, epoch, step, spe):
        return self.base_lr * self.gamma ** (epoch // self.step_size)

    def log_range(self, epochs: int, spe: int) -> tuple[float, float]:
        last = math.log(self.gamma) * ((epochs - 1) // self.step_size)   # monotonic
        return math.log(self.base_lr) + min(0.0, last), math.log(self.base_lr) + max(0.0, last)


class CosineSchedule(Schedule):
    """lr = min_lr + (base_lr - min_lr) (1 + cos(pi t / total_epochs)) / 2, per step.

    t = epoch + step / steps_per_epoch, held at total_epochs afterwards (lr stays min_lr).
    With steps_per_epoch = 1 (or step 0) it is torch's CosineAnnealingLR stepped per epoch
    with T_max = total_epochs, eta_min = min_lr.  A run gives total_epochs its epochs.
    """

    options = ("min_lr",)

    def __init__(self, base_lr: float, total_epochs: float, min_lr: float = 0.0) -> None:
        super().__init__(base_lr)
        self.total_epochs = float(checks.number(total_epochs, "total_epochs", 0, low_open=True))
        self.min_lr = float(checks.number(min_lr, "min_lr", 0, self.base_lr))

    def _lr(self, epoch, step, spe):
        t = min(epoch + step / spe, self.total_epochs)
        cos = (1.0 + math.cos(math.pi * t / self.total_epochs)) / 2
        return self.min_lr + (self.base_lr - self.min_lr) * cos

    def log_range(self, epochs: int, spe: int) -> tuple[float, float]:
        # falling: its last step is its lowest
        last = self._lr(epochs - 1, spe - 1, spe)
        return math.log(last) if last > 0 else -math.inf, math.log(self.base_lr)


class Warmup(Schedule):
    """Linear warm-up over another schedule: lr = inner(t) * min(1, (t + 1/spe) / warmup).

    The factor rises per step from 1 / (warmup_epochs spe) to 1 at the last warm-up step,
    so no step has lr 0; the inner schedule keeps its own clock (its epochs count from the
    start of training, not from the end of warm-up).
    """

    def __init__(self, inner: Schedule, warmup_epochs: float) -> None:
        if not isinstance(inner, Schedule):
            raise TypeError(f"inner: expected a Schedule, got {type(inner).__name__}")
        self.inner, self.base_lr = inner, inner.base_lr
        self.warmup_epochs = float(checks.number(warmup_epochs, "warmup_epochs", 0,
                                                 low_open=True))

    def _lr(self, epoch, step, spe):
        factor = min(1.0, (epoch + (step + 1) / spe) / self.warmup_epochs)
        return self.inner._lr(epoch, step, spe) * factor

    def log_range(self, epochs: int, spe: int) -> tuple[float, float]:
        # bounds: the smallest factor on the lowest rate
        low, high = self.inner.log_range(epochs, spe)
        return low + math.log(min(1.0, 1 / (spe * self.warmup_epochs))), high


def _shown(log_value: float) -> str:
    """A rate given by its natural logarithm, as text even where no float holds it."""
    if log_value == -math.inf:
        return "0"
    if not LOG_LOWEST <= log_value <= LOG_HIGHEST:
        return f"about 1e{log_value / math.log(10):+.0f}"
    return f"{math.exp(log_value):.3g}"


SCHEDULES = {"constant": ConstantSchedule, "step": StepSchedule, "cosine": CosineSchedule}


def get_schedule(name: str, base_lr: float, warmup_epochs: float = 0, **options: Any) -> Schedule:
    """The schedule ``name`` ("constant", "step", "cosine") from ``base_lr``, wrapped in a
    linear ``Warmup`` when warmup_epochs > 0; options as the class takes them."""
    cls = SCHEDULES[checks.choice(name, "schedule", SCHEDULES)]
    warmup_epochs = checks.number(warmup_epochs, "warmup_epochs", 0)
    schedule = checks.construct(cls, name, base_lr, **options)
    return Warmup(schedule, warmup_epochs) if warmup_epochs > 0 else schedule
