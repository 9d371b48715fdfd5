"""The epoch loop: minibatches, optimizer steps, evaluation, history, early stopping.

``fit`` trains an :class:`~manualnn.core.network.MLP` in place.  Everything that must survive a
restart (the epoch count, the history, the shuffling and dropout random states, the best
weights for early stopping) lives in a :class:`TrainState`, which ``fit`` hands to
``on_epoch_end`` after every completed epoch, so a caller can checkpoint it and a later
``fit`` can continue from it bit for bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manualnn import checks
from manualnn.checks import Array
from manualnn.core.losses import Loss
from manualnn.core.network import MLP
from manualnn.train import table
from manualnn.train.batching import Gather, batch_indices
from manualnn.train.evaluation import LOSS_BLOCK, evaluate
from manualnn.train.optimizer import Optimizer
from manualnn.train.schedules import Schedule
from manualnn.train.step import Step

Split = tuple[Any, Any]   # (X, y) of a validation or test split

__all__ = ["COLUMNS", "LOSS_BLOCK", "REGRESSION_COLUMNS", "TrainState", "TrainingDiverged",
           "columns_of", "evaluate", "fit"]

COLUMNS = ["epoch", "lr", "train_loss", "train_err", "val_loss", "val_err", "test_loss",
           "test_err", "seconds"]
# a regression's rows: its scores (train/metrics.py) in place of the error rates
REGRESSION_COLUMNS = ["epoch", "lr", "train_loss", "val_loss", "val_rmse", "val_mae", "val_r2",
                      "test_loss", "test_rmse", "test_mae", "test_r2", "seconds"]


def columns_of(row: dict) -> list[str]:
    """The history columns of a row: COLUMNS, or REGRESSION_COLUMNS for a regression's."""
    return REGRESSION_COLUMNS if "val_r2" in row else COLUMNS


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite; the message names the epoch and batch."""


@dataclass
class TrainState:
    """What a resumed run needs.  ``epoch`` counts completed epochs."""

    epoch: int = 0
    history: list = field(default_factory=list)
    shuffle_rng: np.random.Generator = field(default_factory=np.random.default_rng)
    best_loss: float = math.inf
    best_params: list | None = None
    bad_epochs: int = 0
    stopped_early: bool = False


def fit(net: MLP, X: Array, y: Array, loss: Loss, optimizer: Optimizer, *, epochs: int,
        batch_size: int, state: TrainState, shuffle: bool = True, schedule: Schedule | None = None,
        clip_norm: float | None = None, validation: Split | None = None, test: Split | None = None,
        patience: int = 0, callbacks: Iterable[Callable[[dict, Any], Any]] = (),
        on_epoch_end: Callable[[TrainState], Any] | None = None, log: Callable[[str], Any] = print,
        progress: bool = True, eval_chunk: int = 4096, step: Any = None,
        metrics: Any = None) -> TrainState:
    """Train ``net`` on X (m, n_1) and targets y until ``epochs`` epochs are complete.

    validation, test  optional (X, y) pairs evaluated after every epoch
    patience          > 0: stop when the validation loss has not improved for that many
                      epochs, and restore the best weights
    callbacks         callables ``f(row, net)``, row a dict of COLUMNS; a true result stops
    on_epoch_end      ``f(state)`` after each epoch (checkpointing)
    eval_chunk        rows per forward pass when evaluating (bounds its memory)
    step              the training step, which also evaluates (default ``Step(net, loss,
                      optimizer, clip_norm)``; a given step clips as it was built to);
                      ``distributed.DataParallelStep`` is one MPI rank's
    metrics           a regression's ``RegressionMetrics``: the rows then hold RMSE, MAE
                      and R^2 of the validation and test splits instead of error rates
    Raises :class:`TrainingDiverged` at the first non-finite loss (``ValueError`` instead
    when the batch itself holds a NaN or infinity), and ``ValueError``/``TypeError`` up
    front for X of the wrong shape or dtype or targets the loss does not accept.
    """
    X, y = _checked_inputs(net, X, y, loss, epochs, batch_size)
    if patience and validation is None:
        raise ValueError("patience: early stopping needs a validation split (val_fraction > 0)")
    splits = {"val": validation, "test": test}
    columns = table.keys(validation is not None, test is not None,
                         None if metrics is None else metrics.names)
    if state.epoch == 0 and not state.history:
        log(table.header(columns))
    gather = _training_set(net.ops, X, y)
    step = Step(net, loss, optimizer, clip_norm) if step is None else step
    while state.epoch < epochs and not state.stopped_early:
        start = time.perf_counter()
        bar = table.progress(math.ceil(X.shape[0] / batch_size),
                             f"epoch {state.epoch + 1}/{epochs}", progress)
        try:
            total, wrong = _train_epoch(step, gather, optimizer, state.epoch, batch_size,
                                        state.shuffle_rng if shuffle else None, schedule, bar)
        finally:
            bar.close()
        row = _epoch_row(step, state.epoch, optimizer.lr, (total, wrong, X.shape[0]), splits,
                         eval_chunk, metrics)
        _check_diverged(net, row)   # before anything saves this epoch's weights
        row["seconds"] = time.perf_counter() - start
        _close_epoch(net, state, row, patience, callbacks)
        log(table.row_text(row, columns))
        if on_epoch_end is not None:
            on_epoch_end(state)
    if patience and state.best_params is not None:
        net.set_params(state.best_params)
    return state


def _checked_inputs(net, X, y, loss, epochs, batch_size):
    """X and y checked once here (shapes, dtype, labels); a NaN in X is found when it makes
    the loss NaN.  Labels on a device are checked on the host."""
    checks.number(epochs, "epochs", 0, integer=True)
    checks.number(batch_size, "batch_size", 1, integer=True)
    ops = net.ops
    X = ops.float_input(X, "X", ndim=2, cols=net.layers[0], finite=False)
    if ops.np_dtype(X.dtype) != net.dtype:
        raise TypeError(f"X: expected {net.dtype} like the network, got {X.dtype}")
    native_y = not ops.host and ops.is_native(y)
    y = loss.targets(ops.to_numpy(y) if native_y else y, X.shape[0], net.layers[-1])
    return X, y


def _epoch_row(step, epoch, lr, train, splits, eval_chunk, metrics) -> dict:
    """The epoch's row of COLUMNS (REGRESSION_COLUMNS with ``metrics``) but ``seconds``:
    train = (sum of batch loss x rows, misclassified rows or None, m), and each split
    given evaluated by the step (and scored by ``metrics``); None for a split not given."""
    total, wrong, m = train
    row = {"epoch": epoch + 1, "lr": lr, "train_loss": float(total) / m}
    if metrics is None:
        row["train_err"] = None if wrong is None else int(wrong) / m
    for prefix, split in splits.items():
        ev = step.evaluate(*split, eval_chunk) if split is not None else (None, None)
        row[f"{prefix}_loss"] = ev[0]
        if metrics is None:
            row[f"{prefix}_err"] = ev[1]
            continue
        scores = metrics(step.net, *split, eval_chunk) if split is not None else {}
        row.update({f"{prefix}_{k}": scores.get(k) for k in metrics.names})
    return row


def _close_epoch(net, state, row, patience, callbacks) -> None:
    """Record the row, count the epoch, and let early stopping and the callbacks stop."""
    state.history.append(row)
    state.epoch += 1
    if patience:
        _early_stopping(net, state, row["val_loss"], patience)
    stop = any(callback(row, net) for callback in callbacks)
    state.stopped_early = state.stopped_early or bool(stop)


def _training_set(ops, X, y):
    """The batches' source: X and y themselves on the host, or moved to the backend's
    device once (a NaN or infinity in X is refused there, in one pass: a deferred loss
    check could not tell which batch held it)."""
    if ops.host:
        return Gather(X, y)
    X = ops.from_host(X)   # a device X given is used where it is
    if not bool(ops.xp.all(ops.xp.isfinite(X))):
        raise ValueError("X: expected finite values, got NaN or infinity")
    return Gather(X, ops.from_host(y), ops=ops)


def _train_epoch(step, gather, optimizer, epoch, batch_size, rng, schedule, bar):
    """One pass over the batches; returns (sum of batch loss x rows, misclassified rows).

    On the host each batch's loss is checked at once.  A GPU backend keeps the losses on
    the device (``check_every`` > 1): their running sum, NaN or infinite as soon as one
    of them is, is read every ``check_every`` steps and at the epoch's end, before any
    checkpoint of this epoch is written, so a diverged run still stops with the last good
    checkpoint on disk."""
    total, wrong, m = 0.0, 0, gather.m
    steps = math.ceil(m / batch_size)
    backend = step.net.ops
    every, ops = backend.check_every, None if backend.host else backend
    with np.errstate(over="ignore", invalid="ignore"):   # a diverging loss is caught below
        for b, rows in enumerate(batch_indices(m, batch_size, rng, ops)):
            Xb, yb = gather(rows)
            if schedule is not None:
                optimizer.lr = schedule.lr_at(epoch, b, steps)
            value, errors = step(Xb, yb)
            if every == 1 and not math.isfinite(value):
                if not np.isfinite(Xb).all():   # bad data, not a bad learning rate
                    raise ValueError(f"X: expected finite values, got NaN or infinity in "
                                     f"batch {b + 1} of epoch {epoch + 1}")
                _diverged(value, epoch, f"batch {b + 1}")
            total += value * Xb.shape[0]
            wrong = None if errors is None else wrong + errors
            if every > 1 and ((b + 1) % every == 0 or b + 1 == steps) \
                    and not math.isfinite(total):
                _diverged(float(total), epoch, f"batches {b + 1 - (b % every)} to {b + 1}")
            bar.update()
    return total, wrong


def _diverged(value, epoch, where):
    raise TrainingDiverged(
        f"training diverged: the loss is {value} at epoch {epoch + 1}, {where}; lower the "
        f"learning rate (the last completed epoch is {epoch})")


def _check_diverged(net, row) -> None:
    """The epoch's last updates can overflow the weights although every batch's loss was
    finite: refuse non-finite weights, or a non-finite validation or test loss."""
    epoch, xp = row["epoch"], net.ops.xp   # the weights may live on a device
    bad = [name for name, p in zip(net.param_names, net.params)
           if not bool(xp.all(xp.isfinite(p)))]
    if bad:
        raise TrainingDiverged(
            f"training diverged: the weights {', '.join(bad)} hold NaN or infinity after the "
            f"last update of epoch {epoch}; lower the learning rate (the last completed "
            f"epoch is {epoch - 1})")
    for key in ("val_loss", "test_loss"):
        if row[key] is not None and not math.isfinite(row[key]):
            raise TrainingDiverged(
                f"training diverged: the {key[:-5]} loss is {row[key]} after epoch {epoch}; "
                f"lower the learning rate (the last completed epoch is {epoch - 1})")


def _early_stopping(net, state, val_loss, patience):
    """Keep a copy of the best weights; stop after ``patience`` epochs without progress."""
    if val_loss < state.best_loss:
        state.best_loss, state.bad_epochs = val_loss, 0
        if state.best_params is None:
            state.best_params = [net.ops.copy(p) for p in net.params]
        else:
            for keep, p in zip(state.best_params, net.params):
                net.ops.xp.copyto(keep, p)
    else:
        state.bad_epochs += 1
        state.stopped_early = state.bad_epochs >= patience
