"""atheris target: the IDX reader (raw and gzip), manualnn.data.files.read_idx."""

import atheris
import numpy as np
from common import clear_or_raise, run, scratch

with atheris.instrument_imports(include=["manualnn"]):
    from manualnn.data.files import read_idx


def target(data: bytes) -> None:
    try:
        X = read_idx(scratch("input.idx", data))
    except Exception as exc:  # noqa: BLE001 (the rule decides)
        clear_or_raise(exc)
        return
    assert isinstance(X, np.ndarray) and X.nbytes <= len(data) * 1100


if __name__ == "__main__":
    run(target)
