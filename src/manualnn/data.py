"""Datasets: the IDX file format of MNIST and Fashion-MNIST.

An IDX file is a big-endian header, then the array: two zero bytes, a type code, the
number of dimensions d, d 32-bit sizes, then prod(sizes) items.  Files may be gzipped.
Every check that can fail names the file and what was wrong with it.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from .checks import DataError

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CHUNK = 1 << 24


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzip) into an array of its declared type and shape.

    Raises :class:`DataError` for a missing, truncated, over-long or corrupt file, before
    allocating more than the file actually holds.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        opener = gzip.open if gzipped else open
        with opener(path, "rb") as f:
            return _read_idx_stream(f, path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: expected an IDX file, got a directory") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt gzip data ({exc})") from None


def _read_idx_stream(f, path):
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
