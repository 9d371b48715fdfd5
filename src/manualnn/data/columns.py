"""A table's feature columns as one matrix of numbers, fitted on the training rows only.

Each column becomes one or more columns of X, in the table's order:

    number, boolean   its value, a missing cell replaced by the training median;
                      plus an indicator column (1 where missing) when the training rows
                      had missing cells
    category          one column per training category (one-hot); plus a column for
                      "missing" when the training rows had missing cells.  A category
                      the training rows never had is all zeros, and counted.

The fitted state is plain JSON (:meth:`ColumnEncoder.to_json`), stored in model.json, and
applied here in NumPy by every command (and by ONNX's ai.onnx.ml operators after
``export``).  Medians and categories are one NumPy call each (``np.median``, the codes'
levels), so no other library is needed to fit them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from manualnn.checks import DataError
from manualnn.data.tables import KINDS, Table, table_of


class ColumnEncoder:
    """``ColumnEncoder.fit(table)``, then ``transform(table)`` -> (X (m, width), unseen)."""

    def __init__(self, specs: list) -> None:
        self.specs = specs

    @classmethod
    def fit(cls, table: Table) -> ColumnEncoder:
        """Learn each column's median or categories from ``table`` (the training rows)."""
        specs = []
        for col in table.columns:
            missing = col.missing()
            if missing.all():
                raise DataError(f"{table.path}: column {col.name!r} has no values in the "
                                f"training rows; drop it with --drop-columns {col.name}")
            if col.kind == "category":
                used = np.unique(col.values[~missing])
                specs.append({"name": col.name, "kind": "category",
                              "categories": sorted(col.levels[i] for i in used),
                              "missing": bool(missing.any())})
            else:
                specs.append({"name": col.name, "kind": col.kind,
                              "median": float(np.median(col.values[~missing])),
                              "indicator": bool(missing.any())})
        return cls(specs)

    @property
    def width(self) -> int:
        """Columns of X: n_1, the network's inputs."""
        return sum(_width(s) for s in self.specs)

    def types(self) -> dict:
        """Column name -> kind, for reading a file against this encoder."""
        return {s["name"]: s["kind"] for s in self.specs}

    def feature_names(self) -> list:
        """The name of each column of X: ``bill_length_mm``, ``bill_length_mm (missing)``,
        ``island=Biscoe``, ``island (missing)``."""
        names = []
        for s in self.specs:
            if s["kind"] == "category":
                names += [f"{s['name']}={c}" for c in s["categories"]]
                names += [f"{s['name']} (missing)"] * s["missing"]
            else:
                names += [s["name"]] + [f"{s['name']} (missing)"] * s["indicator"]
        return names

    def transform(self, table: Table,
                  dtype: DTypeLike = np.float32) -> tuple[np.ndarray, dict[str, int]]:
        """(X ``dtype`` (m, width), unseen: column name -> rows whose category (or missing
        cell) the training rows never had)."""
        X = np.zeros((table.rows, self.width), dtype=dtype)
        unseen, j = {}, 0
        for s in self.specs:
            col = table.column(s["name"])
            if s["kind"] == "category":
                count = _one_hot(X[:, j:j + _width(s)], col, s, table)
                if count:
                    unseen[s["name"]] = count
            else:
                _number(X[:, j:j + _width(s)], col, s, table)
            j += _width(s)
        return X, unseen

    def transform_columns(self, X: Any, dtype: DTypeLike = np.float32,
                          where: str = "X") -> tuple[np.ndarray, dict[str, int]]:
        """:meth:`transform` of in-memory columns (a DataFrame, a pyarrow Table, a dict of
        name -> 1-D array, or a 2-D array in the columns' order; see
        :func:`~manualnn.data.tables.table_of`), read as a file of them would be."""
        return self.transform(table_of(X, self.types(), where), dtype)

    def to_json(self) -> list:
        return [dict(s) for s in self.specs]

    @classmethod
    def from_json(cls, data: Any, where: str) -> ColumnEncoder:
        """The encoder that :meth:`to_json` gave; every field checked (DataError naming
        ``where``, the file it came from)."""
        if not isinstance(data, list) or not data or len(data) > 100_000:
            raise DataError(f"{where}: columns: expected a non-empty list, got "
                            f"{str(data)[:60]}")
        specs, names = [], set()
        for s in data:
            ok = isinstance(s, dict) and isinstance(s.get("name"), str) and \
                s.get("kind") in KINDS and s["name"] not in names
            ok = ok and (_category_ok(s) if s["kind"] == "category" else _number_ok(s))
            if not ok:
                raise DataError(f"{where}: columns: not a column manualnn wrote: "
                                f"{str(s)[:100]}")
            names.add(s["name"])
            specs.append(dict(s))
        return cls(specs)


def _width(s) -> int:
    if s["kind"] == "category":
        return len(s["categories"]) + s["missing"]
    return 1 + s["indicator"]


def _number_ok(s) -> bool:
    m = s.get("median")
    return set(s) == {"name", "kind", "median", "indicator"} and isinstance(
        s["indicator"], bool) and isinstance(m, (int, float)) and not isinstance(
        m, bool) and math.isfinite(m) and abs(m) < 3e38


def _category_ok(s) -> bool:
    cats = s.get("categories")
    return set(s) == {"name", "kind", "categories", "missing"} and isinstance(
        s["missing"], bool) and isinstance(cats, list) and all(
        isinstance(c, str) for c in cats) and len(set(cats)) == len(cats) and bool(
        cats or s["missing"])


def _number(out, col, s, table) -> None:
    if col.kind == "category":   # a Parquet column of text where numbers were
        raise DataError(f"{table.path}: column {s['name']!r}: expected numbers as at "
                        f"training, got text")
    missing = np.isnan(col.values)
    out[:, 0] = np.where(missing, s["median"], col.values)
    if s["indicator"]:
        out[:, 1] = missing


def _one_hot(out, col, s, table) -> int:
    """Fill ``out`` (m, categories [+ 1]) with 0/1; returns the rows left all zero."""
    if col.kind != "category":
        raise DataError(f"{table.path}: column {s['name']!r}: expected text (categories) "
                        f"as at training, got {col.kind}s")
    index = {c: i for i, c in enumerate(s["categories"])}
    # the file's own levels -> the training categories' positions (-1: never seen)
    lookup = np.array([index.get(level, -1) for level in col.levels] + [-1], dtype=np.int64)
    pos = lookup[col.values]   # code -1 (missing) takes the appended -1
    missing = col.values < 0
    if s["missing"]:
        pos[missing] = len(s["categories"])
    rows = np.flatnonzero(pos >= 0)
    out[rows, pos[rows]] = 1
    return int(np.count_nonzero(pos < 0))


def unseen_lines(unseen: dict) -> list:
    """One line per column with categories the training rows never had (all-zero)."""
    return [f"column {name!r}: {count} rows with a category unseen at training (encoded "
            f"as none of the categories)" for name, count in unseen.items()]
