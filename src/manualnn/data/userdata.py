"""Your own data as a :class:`~manualnn.data.dataset.Dataset`: .npz arrays and tables.

``load_npz``: arrays X, y (and X_test, y_test); ``load_table``: a CSV or Parquet file,
its label columns decoded here (classes or regression targets, see data.targets) and its
feature columns kept for a ColumnEncoder fitted on the training rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from manualnn.checks import DataError, FilePath
from manualnn.data.dataset import Dataset, flat32
from manualnn.data.files import encode_labels, read_npz
from manualnn.data.tables import read_table
from manualnn.data.targets import check_present, class_labels, decide_task


def load_npz(path: FilePath, task: str = "auto") -> Dataset:
    """A :class:`Dataset` from a .npz file holding X (m, d) or (m, rows, cols), y (m,), and
    optionally X_test and y_test.  Labels of any values are encoded to 0..k-1; real-valued
    y (m,) or (m, t) is a regression target (see data.targets for ``task``)."""
    arrays = read_npz(path)
    return _user_dataset(os.fspath(path), arrays["X"], arrays["y"],
                         arrays.get("X_test"), arrays.get("y_test"), task)


def load_csv(path: FilePath, label_column: str | list[str] | None = None, task: str = "auto") -> Dataset:
    """A :class:`Dataset` (no test split) from a CSV file; see :func:`load_table`."""
    return load_table(path, label_column, (), task)


def load_table(path: FilePath, label_column: str | list[str] | None = None,
               drop_columns: str | Sequence[str] = (), task: str = "auto",
               memory_limit: int | None = None, types: dict | None = None) -> Dataset:
    """A :class:`Dataset` (no test split) from a CSV or Parquet file.

    The labels are ``label_column`` (a name or a list of names), else the column named
    ``label``, else the last one; ``drop_columns`` are left out; every other column is a
    feature, kept in ``table`` for a ColumnEncoder.  A missing label is refused.
    ``memory_limit`` and ``types`` (a model's column kinds) are read_table's.
    """
    path = os.fspath(path)
    names = _names(label_column, "label_column")
    drop = _names(drop_columns, "drop_columns") or []
    table = read_table(path, memory_limit, types)
    for name in [*(names or []), *drop]:
        table.column(name)   # a DataError naming the columns there are
    if names is None:
        kept = [n for n in table.names if n not in drop]
        names = ["label" if "label" in kept else (kept or [""])[-1]]
    overlap = sorted(set(names) & set(drop))
    if overlap:
        raise ValueError(f"drop_columns: {overlap} are label columns")
    features = table.without([*names, *drop])
    if not features.columns:
        raise DataError(f"{path}: expected feature columns besides the label column(s) "
                        f"{names}, got columns {table.names}"[:300])
    labels = [table.column(n) for n in names]
    check_present(table, labels)
    kind = decide_task(table, labels, task)
    name = os.path.splitext(os.path.basename(path))[0]
    if kind == "regression":
        Y = np.stack([c.values for c in labels], axis=1)
        return Dataset(name, None, Y, None, None, list(names), None, None, kind, features,
                       label_columns=names)
    y, classes = class_labels(labels[0])
    return Dataset(name, None, y, None, None, [str(c) for c in classes], None, classes,
                   kind, features, label_columns=names)


def _names(value, name):
    """None, or a list of column names from a name or a list of them."""
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) and v
                                                         for v in values):
        raise TypeError(f"{name}: expected a column name or a list of them, got {value!r}"
                        [:200])
    if len(set(values)) != len(values):
        raise ValueError(f"{name}: expected distinct names, got {list(values)}"[:200])
    return list(values)


def _user_dataset(path, X, y, X_test, y_test, task="auto") -> Dataset:
    X = _user_features(X, f"{path}: X")
    y, y_test = _text_labels(y, f"{path}: y"), _text_labels(y_test, f"{path}: y_test")
    if _is_regression(y, task, path):
        return _regression_arrays(path, X, y, X_test, y_test)
    y, classes = encode_labels(y, f"{path}: y")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"{path}: y has {y.shape[0]} labels for the {X.shape[0]} rows of X")
    if X_test is not None:
        X_test = _user_features(X_test, f"{path}: X_test")
        if X_test.shape[1:] != X.shape[1:]:
            raise DataError(f"{path}: X_test rows have shape {X_test.shape[1:]}, X rows "
                            f"{X.shape[1:]}")
        y_test, _ = encode_labels(y_test, f"{path}: y_test", classes)
        if y_test.shape[0] != X_test.shape[0]:
            raise DataError(f"{path}: y_test has {y_test.shape[0]} labels for the "
                            f"{X_test.shape[0]} rows of X_test")
    image_shape = tuple(X.shape[1:]) if X.ndim == 3 else None
    name = os.path.splitext(os.path.basename(path))[0]
    return Dataset(name, flat32(X), y, None if X_test is None else flat32(X_test), y_test,
                   [str(c) for c in classes.tolist()], image_shape, classes.tolist())


def _text_labels(y, name):
    """Labels of bytes (dtype S) as text: decoded as UTF-8 here, or refused, rather than
    found unsavable in model.json after an epoch."""
    if y is None or np.asarray(y).dtype.kind != "S":
        return y
    try:
        return np.char.decode(y, "utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{name}: expected labels of UTF-8 text or numbers, got bytes that "
                        f"are not UTF-8") from None


def _is_regression(y, task, path) -> bool:
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task: expected one of ['auto', 'classification', 'regression'], "
                         f"got {task!r}")
    y = np.asarray(y)
    if task != "auto":
        return task == "regression"
    return y.dtype.kind == "f" and (y.ndim == 2 or bool(
        (np.isfinite(y) & (y != np.round(y))).any()))


def _regression_arrays(path, X, y, X_test, y_test) -> Dataset:
    """A regression Dataset from arrays: targets float64 (m, t), finite."""
    def targets(Y, rows, name):
        Y = np.asarray(Y)
        if Y.dtype.kind not in "biuf" or Y.ndim not in (1, 2) or Y.shape[0] != rows:
            raise DataError(f"{path}: {name}: expected numeric targets ({rows},) or ({rows}, "
                            f"t), got {Y.dtype} of shape {Y.shape}")
        Y = Y.reshape(rows, -1).astype(np.float64)
        if not np.isfinite(Y).all() or Y.shape[1] == 0:
            raise DataError(f"{path}: {name}: expected finite targets, got NaN or infinity")
        return Y
    Y = targets(y, X.shape[0], "y")
    if X_test is not None:
        X_test = _user_features(X_test, f"{path}: X_test")
        y_test = targets(y_test, X_test.shape[0], "y_test")
        if X_test.shape[1:] != X.shape[1:] or y_test.shape[1] != Y.shape[1]:
            raise DataError(f"{path}: X_test, y_test have shapes {X_test.shape}, "
                            f"{y_test.shape}; X, y have {X.shape}, {Y.shape}")
    names = ["y"] if Y.shape[1] == 1 else [f"y{j}" for j in range(Y.shape[1])]
    name = os.path.splitext(os.path.basename(path))[0]
    return Dataset(name, flat32(X), Y, None if X_test is None else flat32(X_test), y_test,
                   names, tuple(X.shape[1:]) if X.ndim == 3 else None, None, "regression")


def _user_features(X, name) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise DataError(f"{name}: expected numeric features, got dtype {X.dtype}")
    if X.ndim not in (2, 3) or X.shape[0] == 0 or X[0].size == 0:
        raise DataError(f"{name}: expected a non-empty array (m, d) or images (m, rows, "
                        f"cols), got shape {X.shape}")
    # Check after the cast to float32: a float64 value beyond float32's range overflows.
    with np.errstate(over="ignore"):
        X = X.astype(np.float32)
    if not np.isfinite(X).all():
        raise DataError(f"{name}: expected finite values (within float32 range), got NaN or "
                        f"infinity")
    return X
