"""atheris target: .npy and .npz files, as predict reads them (manualnn.cli.predict.read_array)
and as a dataset (manualnn.data.datasets.load_npz)."""

import atheris
import numpy as np
from common import clear_or_raise, run, scratch

with atheris.instrument_imports(include=["manualnn"]):
    from manualnn.cli.predict import read_array
    from manualnn.data.datasets import load_npz


def target(data: bytes) -> None:
    path = scratch("input.npz", data)
    try:
        X = read_array(path)
        assert X.ndim == 2 and X.dtype.kind in "biuf"
    except Exception as exc:  # noqa: BLE001
        clear_or_raise(exc)
    try:
        ds = load_npz(path)
        assert ds.X_train.dtype == np.float32 and np.isfinite(ds.X_train).all()
    except Exception as exc:  # noqa: BLE001
        clear_or_raise(exc)


if __name__ == "__main__":
    run(target)
