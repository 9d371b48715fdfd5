"""Header checks for .npy and .npz files, before NumPy allocates what they declare.

``np.load`` allocates the array that a .npy header declares before it reads the data, so
a file of a hundred bytes that claims 10^12 floats costs a MemoryError, or terabytes of
address space.  :func:`check_sizes` reads only the headers (of the file, or of every
member of a .npz archive) and refuses a declared array larger than the bytes that can
stand behind it: the rest of a .npy file, or a .npz member's uncompressed size, which
itself may be at most :data:`MAX_RATIO` times its compressed size (deflate cannot do
better than about 1032 to 1).  What it cannot parse it leaves to ``np.load``, whose own
errors the callers turn into ``DataError``.  Callers load with ``allow_pickle=False``.
"""

from __future__ import annotations

import ast
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import numpy as np

from manualnn import atomic
from manualnn.checks import DataError, FilePath

MAGIC = b"\x93NUMPY"
MAX_RATIO = 1100
MAX_HEADER = 10_000        # np.load's own default limit on a header's length


def load(path: FilePath, pick: Callable[[Any, list[str]], Iterable[str]] | None = None) -> Any:
    """The array of a .npy file, or {name: array} for the members of a .npz archive that
    ``pick(path, names)`` chooses (all when None).  Headers are checked first, pickles are
    refused, and every fault is a DataError naming ``path``."""
    try:
        with atomic.open_regular(path, follow=True) as handle:   # a FIFO is refused
            check_sizes(handle, path)   # before np.load allocates what a header declares
            try:
                data = np.load(handle, allow_pickle=False)
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                raise DataError(f"{path}: not a readable NumPy file ({exc})") from None
            if not isinstance(data, np.lib.npyio.NpzFile):
                return data
            with data:
                return {key: _member(data, key, path)
                        for key in (pick(path, data.files) if pick else data.files)}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: expected a file, got a directory") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _member(archive, key, path):
    try:
        return archive[key]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: array {key!r} cannot be read ({exc})") from None


def check_sizes(handle: BinaryIO, path: FilePath) -> None:
    """Raise DataError when a header in the open binary file ``handle`` declares more data
    than the file can hold.  Leaves the file position where it was."""
    start = handle.tell()
    try:
        head = handle.read(len(MAGIC))
        handle.seek(start)
        if head == MAGIC:
            size = os.fstat(handle.fileno()).st_size - start
            _check_member(handle, size, path, "")
        elif head.startswith(b"PK"):
            _check_archive(handle, path)
    finally:
        handle.seek(start)


def _check_archive(handle, path) -> None:
    """Every member: stored or deflated (what np.savez writes), not encrypted, not
    claiming more than compression can give, and its .npy header within its size."""
    try:   # np.load would fail the same way, some of them with NotImplementedError
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({str(exc)[:80]})") from None
    with archive:
        for info in archive.infolist():
            name = info.filename[:80]
            if info.flag_bits & 0x1:
                raise DataError(f"{path}: member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise DataError(f"{path}: member {name!r} uses compression method "
                                f"{info.compress_type}; .npz files are stored or deflated")
            if info.file_size > MAX_RATIO * info.compress_size + 1024:
                raise DataError(f"{path}: member {name!r} claims {info.file_size} bytes from "
                                f"{info.compress_size} compressed bytes, more than "
                                f"compression can give")
            try:   # np.load reads any member that starts like a .npy file, named so or not
                with archive.open(info) as member:
                    if member.read(len(MAGIC)) == MAGIC:
                        with archive.open(info) as again:
                            _check_member(again, info.file_size, path, f" member {name!r}")
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error,
                    NotImplementedError, RuntimeError) as exc:   # the local header's flags
                if isinstance(exc, DataError):
                    raise
                raise DataError(f"{path}: member {name!r} is unreadable ({str(exc)[:80]})") \
                    from None


def _check_member(f, size: int, path, where: str) -> None:
    """``f`` positioned at a .npy magic string, ``size`` bytes in all from there.

    A header that NumPy would parse is parsed here the same way (``ast.literal_eval``,
    and for format versions 1 and 2 again without Python 2's ``L`` suffixes); one that
    cannot be parsed is refused here, since NumPy's own fallback parser can fail with
    exceptions (``tokenize.TokenError``) that are not errors about data.
    """
    f.read(len(MAGIC))
    version = f.read(2)
    if len(version) < 2 or version[0] not in (1, 2, 3):
        return   # np.load refuses it with a ValueError
    width = 2 if version[0] == 1 else 4
    raw = f.read(width)
    length = struct.unpack("<H" if width == 2 else "<I", raw)[0] if len(raw) == width else -1
    text = f.read(length) if 0 <= length <= MAX_HEADER else b""
    if len(text) != length:
        return   # too long or truncated: np.load says so
    header = _parse_header(text, version[0], path, where)
    if not (isinstance(header, dict) and isinstance(header.get("shape"), tuple)
            and all(isinstance(n, int) and n >= 0 for n in header["shape"])):
        return   # np.load refuses it with a ValueError
    try:
        dtype = np.lib.format.descr_to_dtype(header["descr"])
    except Exception as exc:   # noqa: BLE001 (np.load would fail the same way)
        raise DataError(f"{path}:{where} header has an unusable dtype description "
                        f"({type(exc).__name__}: {str(exc)[:80]})") from None
    shape = header["shape"]
    declared = math.prod(shape) * dtype.itemsize   # Python ints: no overflow
    available = size - len(MAGIC) - 2 - width - length
    if declared > available:
        raise DataError(f"{path}:{where} header declares an array of shape {shape} and "
                        f"dtype {dtype} ({declared} bytes), but only {max(available, 0)} "
                        f"bytes follow")


def _parse_header(text: bytes, major: int, path, where: str):
    attempts = [text.decode("utf8" if major == 3 else "latin1", "replace")]
    if major < 3:
        attempts.append(re.sub(r"\b(\d+)L\b", r"\1", attempts[0]))
    for attempt in attempts:
        try:
            return ast.literal_eval(attempt)
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            pass
    raise DataError(f"{path}:{where} header is not a Python literal: {attempts[0][:60]!r}")
