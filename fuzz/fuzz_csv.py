"""atheris target: CSV tables (manualnn.data.userdata.load_csv through pyarrow, then the
column encoding fitted on the rows: manualnn.data.columns.ColumnEncoder)."""

import atheris
import numpy as np
from common import clear_or_raise, run, scratch

with atheris.instrument_imports(include=["manualnn"]):
    from manualnn.data.columns import ColumnEncoder
    from manualnn.data.userdata import load_csv


def target(data: bytes) -> None:
    try:
        ds = load_csv(scratch("input.csv", data), task="classification")
        X, _ = ColumnEncoder.fit(ds.table).transform(ds.table)
    except Exception as exc:  # noqa: BLE001
        clear_or_raise(exc)
        return
    assert np.isfinite(X).all() and len(ds.y_train) == len(X)


if __name__ == "__main__":
    run(target)
