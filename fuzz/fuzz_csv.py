"""atheris target: CSV datasets (manualnn.data.datasets.load_csv, via manualnn.data.files.read_csv)."""

import atheris
import numpy as np
from common import clear_or_raise, run, scratch

with atheris.instrument_imports(include=["manualnn"]):
    from manualnn.data.datasets import load_csv


def target(data: bytes) -> None:
    try:
        ds = load_csv(scratch("input.csv", data))
    except Exception as exc:  # noqa: BLE001
        clear_or_raise(exc)
        return
    assert np.isfinite(ds.X_train).all() and len(ds.y_train) == len(ds.X_train)


if __name__ == "__main__":
    run(target)
