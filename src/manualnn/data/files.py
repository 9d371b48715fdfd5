"""Data files for training: IDX and NPZ files, label encoding and splits.

An IDX file (the format of MNIST and Fashion-MNIST) is a big-endian header, then the
array: two zero bytes, a type code, the number of dimensions d, d 32-bit sizes, then
prod(sizes) items.  Files may be gzipped.  Every check that can fail names the file and
what was wrong with it.

Named datasets and user files are loaded by :mod:`manualnn.data.datasets`, downloads are
verified by :mod:`manualnn.data.download`, scaling lives in :mod:`manualnn.data.preprocess`,
and CSV and Parquet tables are read by :mod:`manualnn.data.tables`.
"""

from __future__ import annotations

import contextlib
import gzip as _gzip
import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import ArrayLike

from manualnn import atomic, checks
from manualnn.atomic import atomic_open
from manualnn.checks import DataError, FilePath, Seed
from manualnn.data import npyfile

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
_CHUNK = 1 << 24


@contextlib.contextmanager
def opened(path: str, what: str = "a file") -> Iterator[BinaryIO]:
    """``path`` opened for reading as a regular file (a link followed, as a user means
    it; a FIFO or device refused without waiting); a missing file, a folder or a denied
    permission is a DataError naming the file."""
    try:
        with atomic.open_regular(path, follow=True) as f:
            yield f
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: expected {what}, got a directory") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None


def as_path(value: Any, name: str = "path") -> str:
    """A file path as ``str`` (from ``str`` or ``os.PathLike``), or a TypeError naming it."""
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise TypeError(f"{name}: expected a file path, got {value!r}"[:200])
    return os.fspath(value)


# --------------------------------------------------------------------------- IDX files

def read_idx(path: FilePath) -> np.ndarray:
    """Read an IDX file (raw or gzip) into an array of its declared type and shape.

    Returns a native-byte-order array, e.g. uint8 (n, rows, cols) for an image file.
    Raises :class:`DataError` for a missing, unreadable, truncated, over-long or corrupt
    file, before allocating more than the file actually holds.
    """
    path = as_path(path)
    try:
        with opened(path, "an IDX file") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            size = os.fstat(raw.fileno()).st_size
            raw.seek(0)
            if not gzipped:
                return _read_idx_stream(raw, path, size)
            with _gzip.GzipFile(fileobj=raw) as f:   # at most ~1032 bytes per byte it reads
                return _read_idx_stream(f, path, size * 1100)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt gzip data ({exc})") from None


def _read_idx_stream(f, path, size: int):
    """The array of the IDX stream ``f``, which can hold at most ``size`` bytes in all."""
    head = f.read(4)
    if len(head) < 4 or head[:2] != b"\x00\x00":
        raise DataError(f"{path}: not an IDX file (bad magic number {head.hex() or 'empty'})")
    code, ndim = head[2], head[3]
    if code not in IDX_TYPES:
        raise DataError(f"{path}: unknown IDX type code 0x{code:02x}")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares zero dimensions")
    dims_bytes = f.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims_bytes)
    dtype = np.dtype(IDX_TYPES[code])
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if expected > size - 4 - 4 * ndim:   # refused before reading (or allocating) any of it
        raise DataError(f"{path}: truncated: header declares shape {shape} ({expected} data "
                        f"bytes), more than the file's {size} bytes can hold")
    # Read in bounded chunks so a header that lies about its size cannot make us
    # allocate gigabytes before we notice the file is short.
    chunks, have = [], 0
    while have < expected:
        chunk = f.read(min(_CHUNK, expected - have))
        if not chunk:
            raise DataError(f"{path}: truncated: header declares shape {shape} "
                            f"({expected} data bytes), file has {have}")
        chunks.append(chunk)
        have += len(chunk)
    if f.read(1):
        raise DataError(f"{path}: longer than its header declares (shape {shape})")
    data = np.frombuffer(b"".join(chunks), dtype=dtype).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: FilePath, array: ArrayLike, gzip: bool = False) -> None:
    """Write ``array`` (any shape with 1 to 255 dimensions) as an IDX file, atomically.

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (the IDX types).
    With ``gzip=True`` the file is gzip-compressed (with a fixed timestamp, so the same
    array always gives the same bytes).
    """
    as_path(path)
    arr = np.asarray(array)
    dtype = arr.dtype.newbyteorder("=") if arr.dtype.byteorder not in "=|" else arr.dtype
    if dtype not in _IDX_CODES:
        raise TypeError(f"array: expected dtype uint8, int8, int16, int32, float32 or "
                        f"float64 (the IDX types), got {arr.dtype}")
    if not 1 <= arr.ndim <= 255:
        raise ValueError(f"array: expected 1 to 255 dimensions, got shape {arr.shape}")
    if max(arr.shape) >= 1 << 32:
        raise ValueError(f"array: IDX sizes are 32-bit, got shape {arr.shape}")
    if not isinstance(gzip, bool):
        raise TypeError(f"gzip: expected True or False, got {gzip!r}")
    header = bytes([0, 0, _IDX_CODES[dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    body = np.ascontiguousarray(arr, dtype=dtype.newbyteorder(">")).tobytes()
    with atomic_open(path, "wb") as f:
        if gzip:
            with _gzip.GzipFile(filename="", fileobj=f, mode="wb", mtime=0) as z:
                z.write(header)
                z.write(body)
        else:
            f.write(header)
            f.write(body)


# --------------------------------------------------------------------------- user files

def _check_file(path: str) -> None:
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DataError(f"{path}: expected a file, got a directory")
    if os.path.getsize(path) == 0:
        raise DataError(f"{path}: the file is empty")


def read_npz(path: FilePath) -> dict[str, np.ndarray]:
    """The arrays ``X`` and ``y``, and ``X_test`` and ``y_test`` when present, of a .npz file.

    Loaded without pickle, so object arrays are refused.  Only presence is checked here;
    shapes and values are checked where a dataset is built from them.
    """
    path = as_path(path)
    _check_file(path)
    arrays = npyfile.load(path, pick=_npz_names)
    if not isinstance(arrays, dict):
        raise DataError(f"{path}: expected a .npz archive of named arrays X and y, "
                        f"got a single .npy array")
    return arrays


def _npz_names(path, names) -> list[str]:
    if "X" not in names or "y" not in names or ("X_test" in names) != ("y_test" in names):
        raise DataError(f"{path}: expected arrays X and y (and optionally both X_test and "
                        f"y_test), got {sorted(names)}")
    return ["X", "y"] + [k for k in ("X_test", "y_test") if k in names]


# --------------------------------------------------------------------------- labels

def encode_labels(y: ArrayLike, name: str = "y",
                  classes: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Map arbitrary label values to codes 0..k-1, as scikit-learn's LabelEncoder does.

    ``y`` is a 1-D array (m,) of numbers or strings.  Without ``classes`` the classes are
    the sorted unique values of ``y``; with ``classes`` (e.g. those of the training split)
    every value of ``y`` must be one of them.  Returns ``(codes int64 (m,), classes (k,))``.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array of labels, got shape {arr.shape}")
    if arr.dtype.kind not in "biufUS":
        raise DataError(f"{name}: expected numeric or string labels, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise DataError(f"{name}: expected finite labels, got NaN or infinity")
    if classes is None:
        classes, codes = np.unique(arr, return_inverse=True)
        return codes.astype(np.int64), classes
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0 or (classes[1:] <= classes[:-1]).any():
        raise ValueError(f"classes: expected sorted unique values (k,), got {classes!r}"[:200])
    if (arr.dtype.kind in "US") != (classes.dtype.kind in "US"):
        raise DataError(f"{name}: labels of dtype {arr.dtype} cannot match classes of dtype "
                        f"{classes.dtype}")
    codes = np.clip(np.searchsorted(classes, arr), 0, len(classes) - 1)
    unknown = classes[codes] != arr
    if unknown.any():
        raise DataError(f"{name}: label {arr[unknown][0].item()!r} is not one of the "
                        f"training classes {classes.tolist()[:20]}")
    return codes.astype(np.int64), classes


# --------------------------------------------------------------------------- splits

def stratified_split(y: ArrayLike, fraction: float, rng: Seed) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train (m - v,), held_out (v,))``, both sorted, with v = round(fraction m).

    Each class gets its share of the ``v`` held-out rows (largest remainders, then
    classes that keep at least one training row first), chosen at random by ``rng``
    (a ``numpy.random.Generator`` or an integer seed).  ``fraction`` 0 holds out nothing.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] == 0:
        raise ValueError(f"y: expected a non-empty 1-D array of labels, got shape {y.shape}")
    checks.number(fraction, "fraction", 0, 1, high_open=True)
    gen = checks.generator(rng)
    m = y.shape[0]
    n_val = int(np.rint(fraction * m))
    if fraction > 0 and not 1 <= n_val <= m - 1:
        raise ValueError(f"fraction: {fraction} of {m} rows leaves "
                         f"{n_val} rows held out and {m - n_val} for training; need at least 1 each")
    if n_val == 0:
        return np.arange(m), np.empty(0, np.int64)
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    quota = n_val * counts / m
    take = np.floor(quota).astype(np.int64)
    # Hand out the rows lost to rounding: largest remainder first, and prefer classes
    # that would still keep a training row.
    order = np.lexsort((-(quota - take), take + 1 >= counts))
    for c in order[: n_val - int(take.sum())]:
        take[c] += 1
    held = [gen.permutation(np.flatnonzero(codes == c))[:k] for c, k in enumerate(take)]
    held_out = np.sort(np.concatenate(held))
    mask = np.ones(m, dtype=bool)
    mask[held_out] = False
    return np.flatnonzero(mask), held_out


def train_val_split(X: ArrayLike, y: ArrayLike, fraction: float,
                    rng: Seed) -> tuple[Any, Any, Any, Any]:
    """Split rows into training and validation sets, stratified by class and seeded.

    ``X`` (m, ...) and ``y`` (m,) -> ``(X_train, y_train, X_val, y_val)``; with
    ``fraction`` 0 the validation pair is ``(None, None)``.  Rows keep their order.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X, y: expected X (m, ...) and y (m,) with the same m, got "
                         f"shapes {X.shape} and {y.shape}")
    train, val = stratified_split(y, fraction, rng)
    if val.size == 0:
        return X, y, None, None
    return X[train], y[train], X[val], y[val]
