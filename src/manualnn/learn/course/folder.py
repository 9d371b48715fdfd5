"""The course folder: a secret key and the course's settings (``manualnn course new``).

    COURSE_DIR/key           64 hex digits (32 random bytes), mode 0600, never printed
    COURSE_DIR/course.json   the functions graded, their weights and each submission's limits

course.json is meant to be edited by the teacher (weights, time and memory limits), so it
is validated on every read, like a run's config.json: an unknown field, a function that
is not one of the exercises, a negative weight or a missing one is refused, named.  The
key is read only where a variant is derived (the parent process); a key file that other
users may read, or that is a link, is refused.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import stat

from manualnn import atomic
from manualnn.checks import DataError
from manualnn.io.tensorfile import read_json

KEY, SETTINGS = "key", "course.json"
FORMAT = "manualnn-course/1"
KEY_BYTES = 32
MAX_SETTINGS = 64 * 1024
DEFAULT_TIMEOUT = 20.0     # seconds of wall time for one submission's whole check
DEFAULT_MEMORY_MB = 1024   # its address space
FIELDS = {"format", "functions", "weights", "timeout", "memory_mb"}


@dataclasses.dataclass(frozen=True)
class Course:
    """A course folder, read and validated.  ``key`` is left out of repr: a traceback or
    a log line that shows a Course never shows the secret."""

    path: str
    functions: tuple
    weights: dict
    timeout: float
    memory_mb: int
    key: bytes = dataclasses.field(repr=False)

    @property
    def max_points(self) -> float:
        return float(sum(self.weights.values()))


def exercises() -> tuple:
    """The functions a course may grade: the checker's (learn/catalogue)."""
    from manualnn.learn.course.adapter import FUNCTIONS
    return FUNCTIONS


def new_course(path, functions=None, weights=None) -> Course:
    """Make the course folder ``path`` (absent or empty) with a fresh random key.
    ``functions``: names of exercises (default: all of them); ``weights``: {name: points}
    (default 1 each)."""
    path = os.fspath(path)
    functions = list(exercises()) if functions is None else list(functions)
    weights = {f: 1 for f in functions} if weights is None else dict(weights)
    settings = {"format": FORMAT, "functions": functions, "weights": weights,
                "timeout": DEFAULT_TIMEOUT, "memory_mb": DEFAULT_MEMORY_MB}
    check_settings(settings, "course")   # before anything is made on disk
    if os.path.islink(path):
        raise ValueError(f"course_dir: {path} is a symbolic link; give a folder's own path")
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise ValueError(f"course_dir: {path} exists and is not a folder")
        if os.listdir(path):
            raise ValueError(f"course_dir: {path} is not empty; a new course needs an empty "
                             "or absent folder (a course's key is never replaced)")
    else:
        os.makedirs(path)
    key = secrets.token_bytes(KEY_BYTES)
    atomic.write_bytes(os.path.join(path, KEY), key.hex().encode("ascii") + b"\n", perms=0o600)
    write_settings(path, settings)
    return open_course(path)


def write_settings(path, settings: dict) -> None:
    text = json.dumps(settings, indent=2) + "\n"
    atomic.write_text(atomic.check_target(os.path.join(path, SETTINGS), "course.json"), text)


def open_course(path) -> Course:
    """The course in folder ``path``: its settings validated, its key read."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise ValueError(f"course_dir: {path} is not a folder (make one with "
                         "'manualnn course new')")
    file = os.path.join(path, SETTINGS)
    settings = read_json(file, MAX_SETTINGS)
    if settings is None:
        raise DataError(f"{path}: not a course folder (no {SETTINGS})")
    check_settings(settings, file)
    return Course(path, tuple(settings["functions"]),
                  {f: float(settings["weights"][f]) for f in settings["functions"]},
                  float(settings["timeout"]), int(settings["memory_mb"]), read_key(path))


def check_settings(s, where: str) -> None:
    """Refuse settings that are not exactly what course.json may hold, naming the field."""
    if not isinstance(s, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(s).__name__}")
    if set(s) != FIELDS:
        raise DataError(f"{where}: missing fields {sorted(FIELDS - set(s))}, unexpected "
                        f"fields {sorted(set(s) - FIELDS)}")
    if s["format"] != FORMAT:
        raise DataError(f"{where}: format: expected {FORMAT!r}, got {s['format']!r}"[:200])
    _check_functions(s["functions"], where)
    _check_weights(s["weights"], s["functions"], where)
    if not _number(s["timeout"]) or not 0 < s["timeout"] <= 3600:
        raise DataError(f"{where}: timeout: expected seconds in (0, 3600], "
                        f"got {s['timeout']!r}"[:200])
    if not _number(s["memory_mb"]) or s["memory_mb"] != int(s["memory_mb"]) \
            or not 64 <= s["memory_mb"] <= 1024 * 1024:
        raise DataError(f"{where}: memory_mb: expected a whole number of megabytes from 64 "
                        f"to 1048576, got {s['memory_mb']!r}"[:200])


def _check_functions(functions, where: str) -> None:
    known = exercises()
    if not isinstance(functions, list) or not functions:
        raise DataError(f"{where}: functions: expected a non-empty list of names among "
                        f"{', '.join(known)}, got {functions!r}"[:300])
    unknown = [f for f in functions if f not in known]
    if unknown:
        raise DataError(f"{where}: functions: unknown {unknown!r}; expected names among "
                        f"{', '.join(known)}"[:300])
    if len(set(functions)) != len(functions):
        raise DataError(f"{where}: functions: {functions!r} names one twice"[:300])


def _check_weights(weights, functions, where: str) -> None:
    if not isinstance(weights, dict) or set(weights) != set(functions):
        got = sorted(weights) if isinstance(weights, dict) else weights
        raise DataError(f"{where}: weights: expected one number for each of "
                        f"{', '.join(functions)}, got {got!r}"[:300])
    for name, w in weights.items():
        if not _number(w) or w < 0 or w > 1e6:
            raise DataError(f"{where}: weights: {name}: expected a number of points from 0 "
                            f"to 1e6, got {w!r}"[:200])
    if not sum(weights.values()) > 0:
        raise DataError(f"{where}: weights: expected at least one weight above 0, all are 0")


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def read_key(path) -> bytes:
    """The course's secret key.  A link, a special file, a file other users may read or
    write, or anything but 64 hex digits is refused (the message never shows the key)."""
    file = os.path.join(path, KEY)
    with atomic.open_regular(file) as f:
        mode = os.fstat(f.fileno()).st_mode
        raw = f.read(4 * KEY_BYTES)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DataError(f"{file}: other users may read or change the course's key (mode "
                        f"{stat.S_IMODE(mode):04o}); run 'chmod 600 {file}'")
    text = raw.strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise DataError(f"{file}: expected {2 * KEY_BYTES} hexadecimal digits (the course's "
                        "key, as 'manualnn course new' writes it)")
    return key
