"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The data goes to a temporary file in the destination's folder, is flushed and fsync'd,
then renamed over the destination (rename within one file system is atomic on POSIX),
and the folder is fsync'd so the rename itself survives a crash.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

_PREFIX, _SUFFIX = ".{}.", ".tmp"   # the temporary file of "name": ".name.XXXXXXXX.tmp"


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb"):
    """Open a temporary file that replaces ``path`` when the block ends without error."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=_PREFIX.format(os.path.basename(path)), suffix=_SUFFIX,
                               dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_umask())   # mkstemp makes 0600; a new file honours the umask
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


def remove_leftovers(folder, names) -> None:
    """Delete the temporary files that writes of ``names`` in ``folder`` left behind when
    their process was killed (a write that completes leaves none)."""
    for entry in os.listdir(folder):
        if entry.endswith(_SUFFIX) and any(entry.startswith(_PREFIX.format(name))
                                           for name in names):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(folder, entry))


def check_target(path, name: str) -> str:
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


def write_bytes(path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def write_text(path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def fsync_dir(folder) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
