"""atheris target: model folders, as predict loads them (manualnn.io.rundir.load_run, then
a prediction).  An input is ``len(model.json)`` as 4 little-endian bytes, model.json, then
model.safetensors; make_corpus.py writes valid ones to start from."""

import os
import struct

import atheris
import numpy as np
from common import clear_or_raise, run, scratch

with atheris.instrument_imports(include=["manualnn"]):
    from manualnn.cli.predict import predict_files
    from manualnn.io.rundir import load_run

FOLDER = scratch("model")
os.makedirs(FOLDER, exist_ok=True)
INPUTS = scratch("inputs.npy")
np.save(INPUTS, np.linspace(-2, 2, 12).reshape(3, 4))


def target(data: bytes) -> None:
    n = struct.unpack("<I", data[:4])[0] if len(data) >= 4 else 0
    json_part, weights = data[4:4 + n], data[4 + n:]
    with open(os.path.join(FOLDER, "model.json"), "wb") as f:
        f.write(json_part)
    with open(os.path.join(FOLDER, "model.safetensors"), "wb") as f:
        f.write(weights)
    try:
        net, _, _ = load_run(FOLDER)
        if net.layers[0] == 4:
            predict_files(FOLDER, [INPUTS])
    except Exception as exc:  # noqa: BLE001
        clear_or_raise(exc)


if __name__ == "__main__":
    run(target)
