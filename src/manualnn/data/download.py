"""Verified downloads: fetch a file from a list of mirrors, check its digest, rename it in.

The bytes stream into a temporary file in the destination's folder while their digest is
computed; only a complete file with the expected digest is renamed over the destination
(see :mod:`manualnn.atomic`), so an interrupted, truncated or tampered download never
leaves a file that a later run would trust.  A mirror that fails (HTTP error, timeout,
short body, wrong digest) is reported and the next one is tried.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from typing import Any

from manualnn import checks
from manualnn.atomic import atomic_open
from manualnn.checks import DataError, FilePath
from manualnn.data.files import as_path

ALGORITHMS = {"sha256": 64, "md5": 32}   # name -> length of the hex digest
DEFAULT_TIMEOUT = 30.0                   # seconds without progress before a mirror fails
MAX_BYTES = 1 << 30                      # no dataset file here comes near 1 GiB
USER_AGENT = "manualnn"
_CHUNK = 1 << 20

log = logging.getLogger(__name__)


class _MirrorFailed(Exception):
    """One mirror did not give a good copy; the message says why."""


def parse_checksum(checksum: str, name: str = "checksum") -> tuple[str, str]:
    """``"sha256:<hex>"``, ``"md5:<hex>"`` or bare hex -> ``(algorithm, lower-case hex)``.

    A bare digest is taken by its length: 64 hex digits SHA-256, 32 MD5.
    """
    if not isinstance(checksum, str):
        raise TypeError(f"{name}: expected a string such as 'sha256:<hex>', got {checksum!r}")
    algorithm, sep, digest = checksum.strip().lower().rpartition(":")
    if not sep:
        by_length = {n: a for a, n in ALGORITHMS.items()}
        algorithm = by_length.get(len(digest), "")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"{name}: expected 'sha256:<64 hex digits>' or 'md5:<32 hex digits>', "
                         f"got {checksum!r}")
    if len(digest) != ALGORITHMS[algorithm] or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{name}: expected {ALGORITHMS[algorithm]} hex digits for "
                         f"{algorithm}, got {checksum!r}")
    return algorithm, digest


def file_digest(path: FilePath, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in chunks."""
    checks.choice(algorithm, "algorithm", ALGORITHMS)
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def download_file(urls: Any, dest: FilePath, checksum: str, timeout: float = DEFAULT_TIMEOUT,
                  max_bytes: int = MAX_BYTES) -> str:
    """Download one file to ``dest`` from the first of ``urls`` that serves a good copy.

    ``urls`` are full http(s) URLs of the same file, tried in order; ``checksum`` is
    what :func:`parse_checksum` takes.  Creates ``dest``'s folder if needed and returns
    ``dest``.  Raises :class:`DataError` naming the file, and for each mirror why it
    failed (for a wrong digest: the expected and the actual one).
    """
    urls = check_urls(urls, "urls")
    algorithm, expected = parse_checksum(checksum)
    checks.number(timeout, "timeout", 0, low_open=True)
    checks.number(max_bytes, "max_bytes", 1, integer=True)
    dest = as_path(dest, "dest")
    folder = os.path.dirname(os.path.abspath(dest))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{folder}: cannot create the download folder ({exc})") from None
    failures = []
    for url in urls:
        log.info("downloading %s -> %s", url, dest)
        try:
            _fetch(url, dest, algorithm, expected, timeout, max_bytes)
            return dest
        except _MirrorFailed as exc:
            log.warning("%s: %s", url, exc)
            failures.append(f"{url}: {exc}")
    raise DataError(f"{os.path.basename(dest)}: no mirror gave a good copy (nothing was "
                    f"kept):\n  " + "\n  ".join(failures))


def check_urls(urls: Any, name: str) -> list[str]:
    """A non-empty list of http:// or https:// URLs (a single string is one URL)."""
    if isinstance(urls, str):
        urls = [urls]
    try:
        urls = list(urls)
    except TypeError:
        raise TypeError(f"{name}: expected a list of URLs, got {urls!r}") from None
    if not urls:
        raise ValueError(f"{name}: expected at least one URL, got none")
    for url in urls:
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"{name}: expected http:// or https:// URLs, got {url!r}")
    return urls


def _fetch(url, dest, algorithm, expected, timeout, max_bytes) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise _MirrorFailed(f"refused: {declared} bytes is over the {max_bytes} limit")
            # atomic_open deletes the temporary file when anything below raises.
            with atomic_open(dest, "wb") as f:
                got, actual = _stream(response, f, algorithm, max_bytes)
                if declared is not None and declared.isdigit() and got != int(declared):
                    raise _MirrorFailed(f"truncated: got {got} of {declared} bytes")
                if actual != expected:
                    raise _MirrorFailed(f"checksum mismatch: expected {algorithm} "
                                        f"{expected}, got {actual} ({got} bytes)")
    except urllib.error.HTTPError as exc:
        raise _MirrorFailed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _MirrorFailed(f"cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise _MirrorFailed(f"timed out after {timeout} s without data") from None
    except (OSError, http.client.HTTPException) as exc:
        raise _MirrorFailed(f"{type(exc).__name__}: {exc}") from None


def _stream(response, f, algorithm, max_bytes) -> tuple[int, str]:
    h = hashlib.new(algorithm)
    got = 0
    while chunk := response.read(_CHUNK):
        got += len(chunk)
        if got > max_bytes:
            raise _MirrorFailed(f"refused: more than the {max_bytes}-byte limit")
        h.update(chunk)
        f.write(chunk)
    return got, h.hexdigest()
