"""Atomic file writes, and reads that take only regular files.

A write goes to a temporary file in the destination's folder, is flushed and fsync'd,
then renamed over the destination (rename within one file system is atomic on POSIX),
and the folder is fsync'd so the rename itself survives a crash: a reader sees the old
file or the new one, never half of one.

A read (:func:`open_regular`) opens without blocking, so that a FIFO cannot hang it, and
takes only a regular file; the fixed names of a run or model folder are opened without
following a symbolic link, so that a folder cannot make a reader use a file outside it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any, BinaryIO, Literal, overload

from manualnn.checks import DataError, FilePath

_PREFIX, _SUFFIX = ".{}.", ".tmp"   # the temporary file of "name": ".name.XXXXXXXX.tmp"


@contextlib.contextmanager
def atomic_open(path: FilePath, mode: str = "wb",
                perms: int | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the block ends without error.
    ``perms``: the file's permission bits (e.g. 0o600 for a secret, set before anything is
    written); None: a new file's, from the umask."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=_PREFIX.format(os.path.basename(path)), suffix=_SUFFIX,
                               dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_umask() if perms is None else perms)   # mkstemp makes 0600
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:   # ENOSPC names no file
            raise OSError(exc.errno, f"writing {path}: {exc.strerror or exc}") from exc
        raise
    fsync_dir(folder)


def _umask() -> int:
    """The process's umask (reading it means setting it: put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def is_leftover(entry: str, names: Iterable[str] | None = None) -> bool:
    """Whether the folder entry ``entry`` is the temporary file of a write (of one of
    ``names``; None: of any name)."""
    if names is None:
        return entry.startswith(".") and entry.endswith(_SUFFIX)
    return entry.endswith(_SUFFIX) and any(entry.startswith(_PREFIX.format(name))
                                           for name in names)


def remove_leftovers(folder: FilePath, names: Iterable[str]) -> None:
    """Delete the temporary files that writes of ``names`` in ``folder`` left behind when
    their process was killed (a write that completes leaves none)."""
    for entry in os.listdir(folder):
        if is_leftover(entry, names):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(folder, entry))


def check_target(path: FilePath, name: str) -> str:
    """``path`` as a string, if it may be written: absent or a regular file.  A link is
    refused (a rename would replace the link, not what it points to, and following it
    would write where the user did not name), and so is anything special."""
    path = os.fspath(path)
    if os.path.islink(path):
        raise ValueError(f"{name}: {path} is a symbolic link; give the path of a regular file")
    if os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"{name}: {path} exists and is not a regular file")
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise ValueError(f"{name}: the folder of {path} does not exist")
    return path


def write_bytes(path: FilePath, data: bytes, perms: int | None = None) -> None:
    with atomic_open(path, "wb", perms) as f:
        f.write(data)


def write_text(path: FilePath, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def fsync_dir(folder: FilePath) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@overload
def open_regular(path: FilePath, follow: bool = False,
                 missing_ok: Literal[False] = False) -> BinaryIO: ...


@overload
def open_regular(path: FilePath, follow: bool = False, *,
                 missing_ok: bool) -> BinaryIO | None: ...


def open_regular(path: FilePath, follow: bool = False, missing_ok: bool = False) -> BinaryIO | None:
    """``path`` opened for reading in binary mode; None where it does not exist and
    ``missing_ok``.  A symbolic link (unless ``follow``), a FIFO, a device or a folder is
    refused with a DataError naming the file, without waiting on it."""
    path = os.fspath(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise DataError(f"{path}: is a symbolic link; refused (a folder's own files "
                            "must be regular files in it)") from None
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return _regular(fd, path)


def _regular(fd: int, path):
    """The file object of ``fd`` if it is a regular file (blocking again), else DataError."""
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) \
                else "a socket" if stat.S_ISSOCK(mode) else "a device or special file"
            raise DataError(f"{path}: cannot be read: expected a regular file, got {kind}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_lock(path: FilePath) -> BinaryIO:
    """``path`` opened for appending (made if missing, never through a link), a regular
    file: the handle a lock is taken on."""
    path = os.fspath(path)
    flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        what = "is a symbolic link; refused" if exc.errno == errno.ELOOP else \
            f"cannot be opened ({exc.strerror or exc})"
        raise DataError(f"{path}: {what}") from None
    return _regular(fd, path)   # a read-only object over it: flock needs only the descriptor
