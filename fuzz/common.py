"""What every fuzz target shares: a scratch folder, the rule for errors, and fast stubs.

The rule: an input either works or raises the project's own clear error (DataError,
ValueError or TypeError with a message).  Anything else propagates out of the target,
and atheris (libFuzzer) reports it as a crash with the input that caused it.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["manualnn"]):
    from manualnn.checks import DataError

SCRATCH = tempfile.mkdtemp(prefix="manualnn-fuzz-")
CLEAR = (DataError, ValueError, TypeError)


def scratch(name: str, blob: bytes | None = None) -> str:
    """A path in the scratch folder, holding ``blob`` when given."""
    path = os.path.join(SCRATCH, name)
    if blob is not None:
        with open(path, "wb") as f:
            f.write(blob)
    return path


def clear_or_raise(exc: BaseException) -> None:
    """Swallow a clear project error; re-raise anything else (a finding)."""
    if isinstance(exc, CLEAR) and len(str(exc)) > 10:
        return
    raise exc


def run(target) -> None:
    """Start libFuzzer on ``target(data: bytes)`` with this process's arguments."""
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
