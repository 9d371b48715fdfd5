"""The checkpoint's metadata, checked field by field before a resume uses any of it.

A checkpoint (``checkpoint.safetensors``) holds, beside its arrays, this JSON document:

    {"epoch": e, "history": [e rows of COLUMNS], "optimizer": {...},
     "shuffle_rng": {...}, "dropout_rng": {...}   (NumPy bit-generator states),
     "best_loss": number or null, "bad_epochs": n, "stopped_early": bool,
     "config": {option: value}                   (what a resume must find unchanged)}

A file edited by hand (or by an adversary) is refused with a DataError naming the file
and the field, never a traceback from deep inside NumPy or the loop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from manualnn.checks import DataError
from manualnn.train.loop import COLUMNS, REGRESSION_COLUMNS, columns_of

FIELDS = {"epoch", "history", "optimizer", "shuffle_rng", "dropout_rng", "best_loss",
          "bad_epochs", "stopped_early"}
OPTIONAL = {"config"}   # absent from checkpoints written before it was recorded
STATE_BITS = 128        # NumPy's bit generators keep states of at most 128 bits a number


def _fail(path, field: str, wanted: str, got) -> None:
    text = repr(got)
    raise DataError(f"{path}: field {field!r}: expected {wanted}, got "
                    f"{text if len(text) <= 80 else text[:77] + '...'}")


def _natural(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _number(x) -> bool:
    """A finite JSON number a float can hold (an int of 400 digits is none)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return math.isfinite(x) if isinstance(x, float) else x.bit_length() <= 1000


def check_info(info: Mapping[str, Any], path: str, rng_template: Mapping[str, Any]) -> None:
    """Every field of the metadata ``info``; ``rng_template`` a state of the bit generator
    the run uses (its structure, names and key set are what a saved state must have)."""
    if not isinstance(info, dict):
        _fail(path, "meta", "an object", info)
    missing, extra = sorted(FIELDS - set(info)), sorted(set(info) - FIELDS - OPTIONAL)
    if missing or extra:
        raise DataError(f"{path}: checkpoint metadata: missing fields {missing}, unexpected "
                        f"fields {extra}")
    epoch = info["epoch"]
    if not _natural(epoch):
        _fail(path, "epoch", "a non-negative integer", epoch)
    check_history(info["history"], epoch, path)
    if not isinstance(info["optimizer"], dict):
        _fail(path, "optimizer", "an object", info["optimizer"])
    for name in ("shuffle_rng", "dropout_rng"):
        _check_state(info[name], rng_template, name, path)
    best = info["best_loss"]
    if best is not None and not _number(best):
        _fail(path, "best_loss", "null or a finite number", best)
    if not _natural(info["bad_epochs"]):
        _fail(path, "bad_epochs", "a non-negative integer", info["bad_epochs"])
    if not isinstance(info["stopped_early"], bool):
        _fail(path, "stopped_early", "true or false", info["stopped_early"])
    if "config" in info and not isinstance(info["config"], dict):
        _fail(path, "config", "an object", info["config"])


def check_history(history, epoch: int, path) -> None:
    """``epoch`` rows, row i holding every column, its epoch i + 1 and numbers or nulls."""
    if not isinstance(history, list) or len(history) != epoch:
        _fail(path, "history", f"a list of {epoch} rows (one per epoch)", history)
    for i, row in enumerate(history):
        where = f"history[{i}]"
        columns = columns_of(row) if isinstance(row, dict) else COLUMNS
        if not isinstance(row, dict) or set(row) != set(columns):
            _fail(path, where, f"an object with the fields {COLUMNS} (or, for a "
                               f"regression, {REGRESSION_COLUMNS})", row)
        if row["epoch"] != i + 1 or not _natural(row["epoch"]):
            _fail(path, f"{where}.epoch", f"{i + 1}", row["epoch"])
        for key in columns[1:]:
            if row[key] is not None and not _number(row[key]):
                _fail(path, f"{where}.{key}", "null or a finite number", row[key])


def _check_state(value, template, field: str, path) -> None:
    """A bit-generator state shaped as ``template``: the same keys, names and flags, and
    numbers in [0, 2^128)."""
    if isinstance(template, dict):
        if not isinstance(value, dict) or set(value) != set(template):
            _fail(path, field, f"an object with the fields {sorted(template)}", value)
        for key, sub in template.items():
            _check_state(value[key], sub, f"{field}.{key}", path)
    elif isinstance(template, str):
        if value != template:
            _fail(path, field, repr(template), value)
    elif not (_natural(value) and value.bit_length() <= STATE_BITS):
        _fail(path, field, f"an integer in [0, 2^{STATE_BITS})", value)


def check_tensors(tensors: dict, param_names, path) -> None:
    """Only the weights (param.*), the optimizer's state (opt.*) and, under early
    stopping, all of the best weights (best.*)."""
    params = {f"param.{n}" for n in param_names}
    best = {f"best.{n}" for n in param_names}
    names = set(tensors)
    stray = sorted(n for n in names - params - best if not n.startswith("opt."))
    if stray or not params <= names or names & best not in (set(), best):
        raise DataError(f"{path}: the checkpoint's arrays are not this run's (expected "
                        f"{sorted(params)[:4]}..., optimizer states and perhaps best "
                        f"weights; unexpected {stray[:4]}, missing "
                        f"{sorted((params | (best if names & best else set())) - names)[:4]})")


def check_config(saved: dict, fixed: dict, folder) -> None:
    """Refuse a resume whose config.json was edited since the checkpoint: ``fixed`` (the
    options it now gives) must equal ``saved`` (those the checkpoint recorded).  An option
    the checkpoint recorded that is no longer fixed (``device``, which a resume may now
    change) is not compared: older checkpoints still resume."""
    changed = sorted(k for k in fixed if saved.get(k) != fixed[k])
    if changed:
        what = "; ".join(f"{k} {str(fixed.get(k))[:40]} (checkpoint: {str(saved.get(k))[:40]})"
                         for k in changed[:4])
        raise ValueError(f"resume: {folder}/config.json differs from what its checkpoint was "
                         f"trained with: {what}; restore config.json or start a new run")
