"""The run folder: what a training writes, and how it is read back and resumed.

    RUN_DIR/config.json             every option of the run
    RUN_DIR/model.safetensors       the weights (and preprocessing arrays)  } serialize.py
    RUN_DIR/model.json              architecture, classes, preprocessing    }
    RUN_DIR/checkpoint.safetensors  weights, optimizer state, RNG states, history: --resume
    RUN_DIR/history.csv             one row per epoch
    RUN_DIR/curves.png              loss and error against epoch
    RUN_DIR/.lock                   held while a training runs in the folder

Every file is written atomically, the model before the checkpoint: after a crash at any
moment the folder holds the checkpoint of the last saved epoch e (if any) and a complete
model of epoch e or of a later one, which a resume recomputes bit for bit.  Epochs are
saved at most every :data:`SAVE_SECONDS` (a table's epoch takes milliseconds, its files'
fsyncs longer), and always the first and the last.  A crash before the
first checkpoint leaves a folder that a new ``train --out`` may reuse.  Temporary files
that a crash leaves behind are removed by the next training that takes the lock.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from manualnn import atomic, checks
from manualnn.checks import DataError, FilePath
from manualnn.core.network import MLP
from manualnn.io import checkpoint, serialize, tensorfile
from manualnn.train.loop import COLUMNS, REGRESSION_COLUMNS, TrainState, columns_of
from manualnn.train.optimizer import Optimizer

if TYPE_CHECKING:   # loaded by load_run only: a run folder's writer needs no preprocessing
    from manualnn.data.preprocess import Preprocessor

CHECKPOINT, CONFIG, HISTORY, CURVES = ("checkpoint.safetensors", "config.json", "history.csv",
                                       "curves.png")
MAX_CONFIG = 1 << 20   # bytes; a config.json is a few hundred
SAVE_SECONDS = 1.0     # between two saved epochs at least (the first and last: always)
# files only a training writes (under the lock): their leftover temporaries can go
LOCK = ".lock"
TRAINING_FILES = (CHECKPOINT, CONFIG, HISTORY, CURVES, serialize.MODEL_FILE,
                  serialize.CONFIG_FILE)


class RunDir:
    """A run folder, locked against a second training for as long as this object lives."""

    def __init__(self, path: FilePath, resume: bool = False,
                 config_keys: Iterable[str] | None = None, fixed: dict | None = None) -> None:
        """``config_keys``: the fields of a run's config.json, by which a folder that a
        training left before its first checkpoint is told from anyone else's folder;
        ``fixed``: the options that each checkpoint records, for a resume to compare."""
        self.path, self.fixed = os.fspath(path), fixed
        self.epochs: int | None = None     # the run's last epoch
        self._saved: float | None = None   # when an epoch was last saved (monotonic s)
        if resume and not os.path.lexists(self.file(CHECKPOINT)):
            raise ValueError(f"resume: {self.path} holds no checkpoint to resume from (its "
                             f"training stopped before the end of its first epoch); start "
                             f"again with --out {self.path}")
        if not resume and os.path.lexists(self.file(CHECKPOINT)):
            raise ValueError(f"out: {self.path} already holds a run; continue it with "
                             f"--resume {self.path} or choose another --out")
        if not resume and os.path.isdir(self.path):
            _check_reusable(self.path, config_keys)
        self._created = not os.path.exists(self.path)
        os.makedirs(self.path, exist_ok=True)
        self._lock = _lock(self.file(LOCK), self.path)
        atomic.remove_leftovers(self.path, TRAINING_FILES)   # of a training that was killed

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def close(self) -> None:
        """Release the lock; a folder made here that holds nothing else (the run failed
        before writing anything: an unknown dataset, a refused memory plan) goes too."""
        if self._lock is None:
            return
        self._lock.close()
        self._lock = None
        if self._created and os.listdir(self.path) == [LOCK]:
            os.unlink(self.file(LOCK))
            os.rmdir(self.path)

    # -- config ------------------------------------------------------------------------
    def write_config(self, config: dict) -> None:
        atomic.write_text(self.file(CONFIG), json.dumps(config, indent=2, sort_keys=True) + "\n")

    def read_config(self) -> dict:
        return read_config(self.path)

    # -- checkpoints -------------------------------------------------------------------
    def save_epoch(self, net: MLP, optimizer: Optimizer, state: TrainState, meta: dict,
                   arrays: dict) -> None:
        """Model, history, then checkpoint: each atomically, in that order, so that a
        checkpoint of epoch e always comes with a model of epoch e (or a later one).  An
        epoch less than SAVE_SECONDS after the last saved one is not saved, unless it is
        the last (``self.epochs``) or early stopping ends the run there."""
        now = time.monotonic()
        last = state.stopped_early or (self.epochs is not None and state.epoch >= self.epochs)
        if self._saved is not None and now - self._saved < SAVE_SECONDS and not last:
            return
        self._saved = now
        opt_arrays, opt_meta = optimizer.state_dict()
        host = net.ops.to_numpy   # files hold host arrays: a GPU's checkpoint resumes anywhere
        tensors = {f"param.{n}": host(p) for n, p in zip(net.param_names, net.params)}
        tensors.update({f"opt.{n}": a for n, a in opt_arrays.items()})
        if state.best_params is not None:
            tensors.update({f"best.{n}": host(p)
                            for n, p in zip(net.param_names, state.best_params)})
        info = {"epoch": state.epoch, "history": state.history, "optimizer": opt_meta,
                "shuffle_rng": state.shuffle_rng.bit_generator.state,
                "dropout_rng": net.rng.bit_generator.state,
                "best_loss": state.best_loss if math.isfinite(state.best_loss) else None,
                "bad_epochs": state.bad_epochs, "stopped_early": state.stopped_early}
        if self.fixed is not None:
            info["config"] = self.fixed
        self.save_model(net, state, meta, arrays)
        tensorfile.save_arrays(self.file(CHECKPOINT), tensors, info)

    def save_model(self, net: MLP, state: TrainState, meta: dict, arrays: dict) -> None:
        """The model (the best weights so far under early stopping) and history.csv."""
        model = net
        if state.best_params is not None:
            model = net.copy()
            model.set_params(state.best_params)
        serialize.save_model(self.path, model, {**meta, "epoch": state.epoch}, arrays)
        atomic.write_text(self.file(HISTORY), history_csv(state.history))

    def load_checkpoint(self, net: MLP, optimizer: Optimizer, state: TrainState) -> None:
        """Restore weights, optimizer, RNG states and history saved by ``save_epoch``.
        Every field is checked first: a tampered file is a DataError naming it, and a
        config.json edited since (``fixed`` differs from the saved options) is refused."""
        path = self.file(CHECKPOINT)
        tensors, info = tensorfile.load_arrays(path)
        checkpoint.check_info(info, path, state.shuffle_rng.bit_generator.state)
        if self.fixed is not None and "config" in info:
            checkpoint.check_config(info["config"], self.fixed, self.path)
        checkpoint.check_tensors(tensors, net.param_names, path)
        try:
            net.set_params([tensors[f"param.{n}"] for n in net.param_names])
            optimizer.load_state_dict({k[4:]: v for k, v in tensors.items()
                                       if k.startswith("opt.")}, info["optimizer"])
            if f"best.{net.param_names[0]}" in tensors:
                state.best_params = [
                    net.ops.from_host(checks.weight_array(tensors[f"best.{n}"], f"best.{n}",
                                                          tuple(p.shape)).copy())
                    for n, p in zip(net.param_names, net.params)]
            state.shuffle_rng.bit_generator.state = info["shuffle_rng"]
            net.rng.bit_generator.state = info["dropout_rng"]
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise DataError(f"{path}: not a checkpoint of this run ({exc})") from None
        state.epoch, state.history = info["epoch"], [dict(r) for r in info["history"]]
        best = info["best_loss"]
        state.best_loss = math.inf if best is None else float(best)
        state.bad_epochs, state.stopped_early = info["bad_epochs"], info["stopped_early"]

    def write_curves(self, history: list) -> str | None:
        """curves.png from the history; None when matplotlib is not installed."""
        from manualnn.io.plots import plot_curves
        return plot_curves(history, self.file(CURVES))


def check_output(path: FilePath, name: str) -> str:
    """``path`` if a command may write its output there: what ``atomic.check_target``
    allows (no link, no special file), and not one of a run or model folder's own files
    (its model.json, config.json, history.csv...), which only a training writes."""
    path = atomic.check_target(path, name)
    folder, base = os.path.split(os.path.abspath(path))
    own = base in (*TRAINING_FILES, LOCK) and any(
        os.path.lexists(os.path.join(folder, f)) for f in (CONFIG, serialize.MODEL_FILE,
                                                           serialize.CONFIG_FILE))
    if own:
        raise ValueError(f"{name}: {path} is a file of the run or model folder "
                         f"{folder}; writing it would damage the run: choose another name")
    return path


def read_config(path: FilePath) -> dict:
    file = os.path.join(path, CONFIG)
    config = tensorfile.read_json(file, MAX_CONFIG)
    if config is None:
        raise DataError(f"{path}: not a run folder (no {CONFIG})")
    if not isinstance(config, dict):
        raise DataError(f"{file}: expected a JSON object")
    return config


def _check_reusable(path, config_keys) -> None:
    """A new run may take an empty folder, or one that a training of ours left before its
    first checkpoint: its lock and temporary files, its config.json (written before
    anything else), maybe a first model.  Anything else is refused, named."""
    entries = sorted(os.listdir(path))
    ours = set(TRAINING_FILES) | {LOCK}
    left = [e for e in entries if e != LOCK and not atomic.is_leftover(e)]
    if not left:
        return
    ok = set(left) <= ours and CONFIG in left
    if ok and config_keys is not None:
        try:
            ok = set(read_config(path)) == set(config_keys)
        except DataError:
            ok = False
    if not ok:
        shown = ", ".join(entries[:6]) + (f" and {len(entries) - 6} more" if len(entries) > 6
                                          else "")
        raise ValueError(f"out: {path} is not empty and holds no unfinished run of manualnn "
                         f"(it has {shown}); choose another --out or empty it")


def history_csv(history: list) -> str:
    out = io.StringIO()
    columns = columns_of(history[0]) if history else COLUMNS
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return out.getvalue()


def read_history(path: FilePath) -> list:
    """The rows of a run's history.csv as dicts of COLUMNS (REGRESSION_COLUMNS for a
    regression's; floats, None where empty),
    epoch an int.  Only the folder's own regular file is read, at most MAX_CONFIG * 64
    bytes (a row is about 100); its rows are checked as a checkpoint's history is (each
    epoch the count from 1, every number finite)."""
    file = os.path.join(path, HISTORY)
    if os.path.islink(file) or not os.path.isfile(file):
        raise DataError(f"{path}: not a run folder with a history (no regular {HISTORY})")
    try:
        with open(file, encoding="utf-8", newline="") as f:
            text = f.read(MAX_CONFIG * 64 + 1)
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: not a history written by manualnn (not UTF-8 text: "
                        f"{exc.reason} at byte {exc.start})") from None
    if len(text) > MAX_CONFIG * 64:
        raise DataError(f"{file}: too big for a history")
    rows = []
    try:
        for raw in csv.DictReader(io.StringIO(text)):
            columns = REGRESSION_COLUMNS if "val_r2" in raw else COLUMNS
            row = {k: None if raw[k] in ("", None) else float(raw[k]) for k in columns}
            rows.append({**row, "epoch": int(raw["epoch"])})   # "inf", "1.5": no int
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{file}: not a history written by manualnn ({exc})"[:200]) from None
    checkpoint.check_history(rows, len(rows), file)
    return rows


def _lock(path, folder):
    """An exclusive, non-blocking lock on ``path``; refused when another process holds it."""
    import fcntl
    handle = atomic.open_lock(path)   # kept open: the lock lives as long as the run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ValueError(f"out: another training is running in {folder} (it holds "
                         f"{os.path.basename(path)}); wait for it or choose another folder") \
            from None
    return handle


def load_run(path: FilePath, backend: Any = "auto") -> tuple[MLP, dict, Preprocessor]:
    """The trained model of a run folder: (net, meta, preprocessor), all validated; the
    network on ``backend`` (whichever one trained it)."""
    from manualnn.data.preprocess import Preprocessor
    net, meta, arrays = serialize.load_model(path, backend=backend)
    prefix = "preprocess."
    try:
        pre = Preprocessor.from_arrays(meta.get("preprocess", "none"),
                                       {k[len(prefix):]: v for k, v in arrays.items()
                                        if k.startswith(prefix)})
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: the model's preprocessing is unusable ({exc})") from None
    classes = meta.get("classes")
    if classes is None and meta.get("task") == "regression":   # MLPRegressor.save names none
        k = net.layers[-1]
        classes = meta["classes"] = ["target"] if k == 1 else [f"target_{j}" for j in range(k)]
    if not isinstance(classes, list) or len(classes) != net.layers[-1]:
        raise DataError(f"{path}: model.json lists {classes!r} as classes, expected "
                        f"{net.layers[-1]} names for the {net.layers[-1]} outputs")
    if pre.n_features not in (None, net.layers[0]):
        raise DataError(f"{path}: preprocessing is fitted for {pre.n_features} features, "
                        f"the network takes {net.layers[0]}")
    shape = meta.get("image_shape")   # predict resizes pictures to it: bounded by n_1
    if shape is not None and not (isinstance(shape, list) and len(shape) == 2 and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
            and shape[0] * shape[1] == net.layers[0]):
        raise DataError(f"{path}: model.json gives image_shape {str(shape)[:80]}, expected "
                        f"[rows, cols] with rows x cols = {net.layers[0]} inputs")
    for key, count in (("input_range", 2), ("background", 1)):   # predict's pictures
        value = meta.get(key)
        values = value if isinstance(value, list) else [value]
        if value is not None and not (len(values) == count and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in values) and values == sorted(values)):
            raise DataError(f"{path}: model.json gives {key} {str(value)[:60]}, expected "
                            f"{'[low, high]' if count == 2 else 'a number'}")
    model_parts(meta, path, net.layers)
    _check_range(net, pre, meta.get("input_range"), path)
    return net, meta, pre


def model_parts(meta: dict, path: FilePath, layers: list[int]) -> Any:
    """What a table's or a regression's model adds to model.json, checked: a namespace of
    task ("classification" or "regression"), encoder (a ColumnEncoder, or None for
    arrays), label_columns (a table's, or None) and target ((mean (t,), scale (t,)) of a
    regression: 0 and 1 where they were not standardized; None for classes), for a
    network of widths ``layers``."""
    import types

    from manualnn.data.columns import ColumnEncoder
    task = meta.get("task", "classification")
    if task not in ("classification", "regression"):
        raise DataError(f"{path}: model.json gives task {str(task)[:40]!r}, expected "
                        f"'classification' or 'regression'")
    encoder = None if meta.get("columns") is None else \
        ColumnEncoder.from_json(meta["columns"], f"{path}/model.json")
    labels = meta.get("label_columns")
    if labels is not None and not (isinstance(labels, list) and labels and all(
            isinstance(n, str) for n in labels)):
        raise DataError(f"{path}: model.json gives label_columns {str(labels)[:60]}, "
                        f"expected a list of column names")
    outputs = layers[-1]
    target: tuple | None = None
    if task == "regression" and not {"target_mean", "target_scale"} & set(meta):
        target = (np.zeros(outputs), np.ones(outputs))   # a model saved by manualnn.sklearn
    elif task == "regression":
        target = tuple(np.asarray(meta.get(k), dtype=object) for k in ("target_mean",
                                                                       "target_scale"))
        ok = all(a.shape == (outputs,) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and abs(v) < 1e30 for v in a) for a in target) and all(v > 0 for v in target[1])
        if not ok:
            raise DataError(f"{path}: model.json's target_mean and target_scale must be "
                            f"{outputs} finite numbers each (scales > 0)")
        target = tuple(a.astype(np.float64) for a in target)
    if encoder is not None and encoder.width != layers[0]:
        raise DataError(f"{path}: model.json's columns encode to {encoder.width} inputs, "
                        f"the network takes {layers[0]}")
    return types.SimpleNamespace(task=task, encoder=encoder, label_columns=labels,
                                 target=target)


def _check_range(net, pre, value_range, path) -> None:
    """Refuse, once at load, a model whose numbers overflow its dtype on the inputs it was
    made for: preprocessing (shift, scale) that is not finite and positive in the dtype
    (1e-300 is 0 in float32), or outputs that are not finite at the ends and middle of
    the training inputs' range (0..1 where none is recorded)."""
    dtype = net.dtype
    lo, hi = value_range or (0.0, 1.0)
    X = np.repeat(np.array([[lo], [(lo + hi) / 2], [hi]]), net.layers[0], axis=1)
    with np.errstate(all="ignore"):
        fits = pre.kind == "none" or bool(
            np.isfinite(pre.shift.astype(dtype)).all() and np.isfinite(
                pre.scale.astype(dtype)).all() and (pre.scale.astype(dtype) > 0).all())
        X = pre.transform(X, dtype) if fits else X
        if not (fits and np.isfinite(X).all()):
            raise DataError(f"{path}: the model's preprocessing ({pre.kind}) overflows "
                            f"{dtype.name} on inputs in {lo:g}..{hi:g} (its shift or scale "
                            f"is beyond {dtype.name}'s range)")
        Z = net(X)
    net.release()
    if not np.isfinite(Z).all():
        raise DataError(f"{path}: the model's outputs overflow {dtype.name} on inputs at "
                        f"{lo:g}, {(lo + hi) / 2:g} and {hi:g} (its weights are too large "
                        f"to give finite outputs)")
