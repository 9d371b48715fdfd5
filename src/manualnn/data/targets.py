"""What a table's label columns mean: classes or values (``--task``), and their scaling.

``auto`` decides from the labels themselves and never makes a class per real number:

    booleans, text            classification (text with about one value per row: refused)
    real numbers              regression (any value that is not a whole number)
    whole numbers             classification up to :data:`FEW` distinct values; regression
                              from :data:`MANY`, or when most rows have their own value;
                              in between it cannot tell and refuses, naming ``--task``
    several label columns     regression (each a number or a boolean)

Regression targets are standardized on the training rows, ``(y - mean) / scale`` per
column, and the pair is saved with the model: predictions come back in the file's units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from manualnn.checks import DataError

if TYPE_CHECKING:
    from manualnn.data.tables import Column, Table

TASKS = ("auto", "classification", "regression")
FEW, MANY = 20, 100


def decide_task(table: Table, columns: list, task: str) -> str:
    """'classification' or 'regression' for label ``columns`` (Columns of ``table``)."""
    if task not in TASKS:
        raise ValueError(f"task: expected one of {list(TASKS)}, got {task!r}")
    names = ", ".join(repr(c.name) for c in columns)
    if len(columns) > 1 or task == "regression":
        if task == "classification":
            raise ValueError(f"label_column: classification takes one label column, got "
                             f"{names}; give --task regression for several targets")
        for c in columns:
            if c.kind == "category":
                raise DataError(f"{table.path}: label column {c.name!r} holds text; "
                                f"regression needs numbers (or --task classification)")
        return "regression"
    if task == "classification":
        return task
    col = columns[0]
    present = col.values[~col.missing()]
    k, m = len(np.unique(present)), len(present)
    if col.kind == "boolean":
        return "classification"
    if col.kind == "category":
        if k <= max(2, m // 2):
            return "classification"
        raise DataError(f"{table.path}: label column {col.name!r} has {k} distinct values "
                        f"in {m} rows, too many to be classes; give --task classification "
                        f"to train on them anyway")
    if (present != np.round(present)).any():
        return "regression"
    if k <= FEW:
        return "classification"
    if k >= MANY or k > m // 2:
        return "regression"
    raise DataError(f"{table.path}: label column {col.name!r} holds {k} distinct whole "
                    f"numbers in {m} rows: classes or values? give --task classification "
                    f"or --task regression")


def check_present(table: Table, columns: Sequence[Column]) -> None:
    """Refuse a missing label cell, naming its line and column."""
    for c in columns:
        missing = np.flatnonzero(c.missing())
        if missing.size:
            raise table.fault(missing[0], c.name, "expected a label, got a missing cell "
                                                  "(remove the row or choose another "
                                                  "--label-column)")


def class_labels(col: Column) -> tuple[np.ndarray, list]:
    """(codes int64 (m,) in [0, k), the k classes' values sorted: str, int, float or bool)
    of one label column with no missing cell."""
    if col.kind == "category":
        levels = col.levels or []
        used = np.unique(col.values)   # the level indices present, as the classes
        order = sorted(range(len(used)), key=lambda j: levels[used[j]])
        position = np.empty(len(levels), dtype=np.int64)
        position[used[order]] = np.arange(len(used))
        return position[col.values], [levels[used[j]] for j in order]
    values = col.values
    if col.kind == "boolean":
        values = values.astype(bool)
    elif (values == np.round(values)).all() and np.abs(values).max() < 2 ** 53:
        values = values.astype(np.int64)
    classes, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64), classes.tolist()


def fit_scale(Y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(mean (t,), scale (t,)) of targets Y (m, t): a constant target gets scale 1."""
    Y = np.asarray(Y)
    mean = Y.mean(axis=0)
    std = Y.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)
