"""Tables from CSV and Parquet files, read through pyarrow (``pip install manualnn[tabular]``).

A :class:`Table` is named columns of one of three kinds, each with missing cells:

    number     float64 (m,), NaN where a cell is missing (integers, floats, decimals;
               a text column whose every cell is a number, such as " 3", counts too)
    boolean    float64 (m,) of 0 and 1, NaN where missing
    category   int64 codes (m,) into ``levels`` (the column's distinct strings, stripped
               of spaces), -1 where missing

Missing cells are the empty cell and pyarrow's null spellings (``NA``, ``N/A``, ``NaN``,
``null``, ...).  Reading keeps the Safety promises of every reader here: only a regular
file is read (a FIFO or a device is refused without waiting), its size and its cell
count are checked against a memory limit before anything grows with them, and every
fault is a :class:`DataError` naming the file, and the line (CSV) or row (Parquet) and
the column where there is one.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from manualnn.checks import DataError, FilePath
from manualnn.data.files import opened

KINDS = ("number", "boolean", "category")
EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CELL_BYTES = 32   # per cell at most: arrow's value and offset, float64, float32 and a mask
NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
MOSTLY_NUMBERS = 0.9   # a text column with this share of numbers has a typo, not categories
FLOAT32_MAX = float(np.finfo(np.float32).max)


def pyarrow() -> Any:
    """The pyarrow module, or a DataError naming the extra that brings it."""
    try:
        import pyarrow as pa
        import pyarrow.compute
    except ImportError:
        raise DataError("reading CSV and Parquet files needs pyarrow: pip install "
                        "'manualnn[tabular]'") from None
    return pa


@dataclass(eq=False)
class Column:
    """One column: ``kind`` one of :data:`KINDS`; ``values`` float64 (m,) (number,
    boolean) or int64 codes (m,) into ``levels`` (category); ``levels`` None otherwise."""

    name: str
    kind: str
    values: np.ndarray
    levels: list | None = None

    def missing(self) -> np.ndarray:
        """bool (m,): where the cells are missing."""
        return self.values < 0 if self.kind == "category" else np.isnan(self.values)

    def take(self, rows: np.ndarray) -> Column:
        return Column(self.name, self.kind, self.values[rows], self.levels)


@dataclass(eq=False)
class Table:
    """Columns of one length read from ``path``; ``where(i)`` says where data row i is."""

    path: str
    columns: list
    rows: int
    _raw: bytes | None = None   # a CSV's bytes: lines are counted only for a message
    _index: np.ndarray | None = None   # rows of the file, after take()

    @property
    def names(self) -> list:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise DataError(f"{self.path}: no column {name!r}; columns are {self.names}"[:300])

    def without(self, names: Iterable[str]) -> Table:
        return Table(self.path, [c for c in self.columns if c.name not in set(names)],
                     self.rows, self._raw, self._index)

    def take(self, rows: ArrayLike) -> Table:
        rows = np.asarray(rows, dtype=np.int64)
        index = rows if self._index is None else self._index[rows]
        return Table(self.path, [c.take(rows) for c in self.columns], len(rows), self._raw,
                     index)

    def where(self, i: int) -> str:
        """'line N' (CSV, counting the header as line 1) or 'row N' (Parquet) of data row i."""
        i = int(i if self._index is None else self._index[i])
        line = _csv_line(self._raw, i) if self._raw is not None else None
        return f"row {i + 1}" if line is None else f"line {line}"

    def fault(self, i: int, name: str, message: str) -> DataError:
        return DataError(f"{self.path}, {self.where(i)}, column {name!r}: {message}"[:400])


def is_table(path: FilePath) -> bool:
    """Whether ``path`` names a CSV or Parquet file (by its extension)."""
    return os.path.splitext(os.fspath(path))[1].lower() in EXTENSIONS


def read_table(path: FilePath, limit: int | None = None, types: dict | None = None) -> Table:
    """The :class:`Table` of a .csv or .parquet file.

    ``limit``: bytes the reading may use (None: no limit); the file's size, then its cells
    times :data:`CELL_BYTES`, are checked against it before the parse.  ``types``: column
    name -> kind, for a file read against a model's columns (a column the model takes as
    a category is read as text, so "1" stays "1").
    """
    path = os.fspath(path)
    kind = EXTENSIONS.get(os.path.splitext(path)[1].lower())
    if kind is None:
        raise ValueError(f"path: expected a .csv, .parquet or .pq file, got {path!r}")
    pa = pyarrow()
    raw = _read_bytes(path, limit)
    if kind == "csv":
        _check_need(path, 2 * len(raw) + _cell_bound(raw) * CELL_BYTES, limit)
        _check_utf8(raw, path)
        arrow = _parse_csv(pa, raw, path, types)
    else:
        arrow = _parse_parquet(pa, raw, path, limit)
    names = [str(n) for n in arrow.column_names]
    bad = [n for n in names if not n.strip()] or sorted({n for n in names if names.count(n) > 1})
    if bad:
        raise DataError(f"{path}: column names must be distinct and not empty, got "
                        f"{names}"[:300])
    if arrow.num_rows == 0:
        raise DataError(f"{path}: a header but no data rows")
    return _from_arrow(pa, arrow, names, Table(path, [], arrow.num_rows,
                                               raw if kind == "csv" else None), types)


def _from_arrow(pa, arrow, names, table: Table, types) -> Table:
    """``table`` with the columns ``names`` of the pyarrow table ``arrow``, each read as
    its type says (or as ``types`` asks)."""
    table.columns = [_column(pa, table, name, arrow.column(name), (types or {}).get(name))
                     for name in names]
    return table


def table_of(X: Any, types: dict, where: str = "X") -> Table:
    """The :class:`Table` of in-memory columns, read as :func:`read_table` reads a file's:
    ``X`` a pandas DataFrame, a pyarrow Table, a dict of column name -> 1-D array, or a
    2-D array (m, len(types)) whose columns are ``types``' names in order.  ``types``:
    column name -> kind (a model's columns); other columns are ignored.  A missing
    column or a cell of the wrong kind is a DataError naming the column."""
    pa = pyarrow()
    names = list(types)
    if hasattr(X, "columns") and not isinstance(X, pa.Table):   # a pandas DataFrame
        X = {str(n): X[n].to_numpy() for n in X.columns}
    elif isinstance(X, pa.Table):
        X = {str(n): X.column(n) for n in X.column_names}
    elif not isinstance(X, dict):
        X = np.asarray(X, dtype=object)
        if X.ndim != 2 or X.shape[1] != len(names):
            raise DataError(f"{where}: expected a DataFrame, a pyarrow Table, a dict of "
                            f"columns or a 2-D array of {len(names)} columns {names}"[:200]
                            + f", got an array of shape {X.shape}")
        X = dict(zip(names, X.T))
    lost = [n for n in names if n not in X]
    if lost:
        raise DataError(f"{where}: no column {lost[0]!r}; the model takes the columns "
                        f"{names}, got {list(X)}"[:300])
    arrays = {}
    for n in names:
        try:
            arrays[n] = X[n] if isinstance(X[n], (pa.Array, pa.ChunkedArray)) else \
                pa.array(np.asarray(X[n]), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise DataError(f"{where}: column {n!r}: expected a 1-D array of numbers, "
                            f"booleans or strings ({str(exc)[:100]})") from None
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise DataError(f"{where}: expected columns of one length above 0, got lengths "
                        f"{ {n: len(a) for n, a in arrays.items()} }"[:200])
    arrow = pa.table(arrays)
    return _from_arrow(pa, arrow, names, Table(where, [], arrow.num_rows), types)


def _read_bytes(path: str, limit) -> bytes:
    with opened(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise DataError(f"{path}: the file is empty")
        _check_need(path, size, limit)
        return f.read(size)


def _check_need(path, need: int, limit) -> None:
    if limit is not None and need > limit:
        raise DataError(f"{path}: reading it needs about {need / 2**20:.1f} MiB, more than "
                        f"the memory limit of {limit / 2**20:.1f} MiB (--max-memory)")


def _check_utf8(raw: bytes, path) -> None:
    """Refuse bytes that are not UTF-8 (naming the line), a megabyte at a time."""
    decoder, step = codecs.getincrementaldecoder("utf-8")(), 1 << 20
    for start in range(0, len(raw) + 1, step):
        try:
            decoder.decode(raw[start:start + step], final=start + step > len(raw))
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, start + exc.start) + 1
            raise DataError(f"{path}, line {line}: not UTF-8 text; expected a CSV "
                            f"file") from None


def _cell_bound(raw: bytes) -> int:
    """At least the number of cells: each ends in a comma or a line end."""
    return raw.count(b",") + raw.count(b"\n") + raw.count(b"\r") + 1


def _parse_csv(pa, raw: bytes, path, types):
    from pyarrow import csv as pcsv
    invalid = []

    def on_invalid(row):   # only the first is reported, with its line
        invalid.append(row)
        return "skip"
    column_types = {n: pa.string() for n, k in (types or {}).items() if k == "category"}
    try:
        arrow = pcsv.read_csv(
            pa.BufferReader(raw), read_options=pcsv.ReadOptions(use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(strings_can_be_null=True,
                                                column_types=column_types))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        text = str(exc)
        if "Empty CSV file" in text:
            raise DataError(f"{path}: expected a header line naming the columns, got none") \
                from None
        raise DataError(f"{path}: malformed CSV ({text.splitlines()[0][:150]})") from None
    if invalid:
        row = invalid[0]
        line = _csv_line(raw, row.number - 2) if row.number is not None else None
        where = f"line {line}" if line else "a row"
        raise DataError(f"{path}, {where}: expected {row.expected_columns} cells as in "
                        f"the header, got {row.actual_columns}")
    return arrow


def _parse_parquet(pa, raw: bytes, path, limit):
    import pyarrow.parquet as pq
    try:
        file = pq.ParquetFile(pa.BufferReader(raw))
        meta = file.metadata
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        _check_need(path, 2 * len(raw) + unpacked + meta.num_rows * meta.num_columns
                    * CELL_BYTES, limit)
        return file.read()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({str(exc)[:150]})") from None


def _column(pa, table: Table, name: str, arrow, want: str | None) -> Column:
    """The Column of one arrow column, its kind from its type (or ``want``)."""
    t = arrow.type
    if pa.types.is_dictionary(t):
        arrow, t = arrow.cast(t.value_type), t.value_type
    if pa.types.is_null(t):
        return Column(name, "number", np.full(len(arrow), np.nan))
    if pa.types.is_boolean(t) and want != "category":
        return Column(name, "boolean", _floats(arrow))
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        if want == "category":
            return _category(pa, name, arrow.cast(pa.string()))
        return _finite(table, Column(name, "number", _floats(arrow)))
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        raise DataError(f"{table.path}: column {name!r} is not UTF-8 text; expected a CSV "
                        f"or Parquet file of text and numbers")
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _text(pa, table, name, arrow, want)
    raise DataError(f"{table.path}: column {name!r} holds values of type {t}, which "
                    f"manualnn does not encode (numbers, booleans and text are); drop it "
                    f"with --drop-columns {name}")


def _floats(arrow) -> np.ndarray:
    import pyarrow as pa
    return np.asarray(arrow.cast(pa.float64()).to_numpy(zero_copy_only=False),
                      dtype=np.float64).copy()


def _finite(table: Table, col: Column) -> Column:
    """``col``, its numbers finite and within float32's range (the network's inputs)."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(np.abs(col.values) > FLOAT32_MAX)
    if bad.size:
        raise table.fault(bad[0], col.name, f"expected a finite number within float32's "
                                            f"range, got {col.values[bad[0]]}")
    return col


def _text(pa, table, name, arrow, want) -> Column:
    """A text column: numbers when every cell is one (and the model does not take it as a
    category); a typo when nearly every cell is; otherwise a category."""
    present = int(len(arrow) - arrow.null_count)
    numeric = pa.compute.match_substring_regex(arrow, NUMBER).fill_null(False)
    count = int(pa.compute.sum(numeric).as_py() or 0)
    if want != "category" and present and (count == present or want in ("number", "boolean")
                                           or count >= MOSTLY_NUMBERS * present):
        if count < present:
            i = int(np.flatnonzero(~numeric.to_numpy() & ~_nulls(arrow))[0])
            cell = arrow[i].as_py()
            raise table.fault(i, name, f"expected a number, got {cell[:60]!r}")
        trimmed = pa.compute.utf8_trim_whitespace(arrow)
        return _finite(table, Column(name, "number", _floats(trimmed.cast(pa.float64()))))
    return _category(pa, name, arrow)


def _nulls(arrow) -> np.ndarray:
    return np.asarray(arrow.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _category(pa, name, arrow) -> Column:
    """Codes into the distinct stripped strings; an empty string after stripping is missing."""
    stripped = pa.compute.utf8_trim_whitespace(arrow)
    stripped = pa.compute.if_else(pa.compute.equal(stripped, ""), None, stripped)
    encoded = stripped.dictionary_encode()
    if hasattr(encoded, "combine_chunks"):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return Column(name, "category", codes, [str(v) for v in encoded.dictionary.to_pylist()])


def _csv_line(raw: bytes, row: int) -> int | None:
    """The line (1-based, the header being line 1) where data row ``row`` (0-based, blank
    lines not counted) starts; counted only to word a message (None where Python's csv
    module cannot follow the file, as with cells over its field size limit)."""
    text = raw.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        next(reader, None)
        n, start = -1, reader.line_num + 1
        for cells in reader:
            if cells:
                n += 1
                if n == row:
                    return start
            start = reader.line_num + 1
    except csv.Error:
        return None
    return start
