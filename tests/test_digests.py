"""Bitwise pins: a seed gives the same weights, to the last bit, through any re-layout.

A few whole trainings (the CLI's default recipe on digits, an SGD run in float64, the
estimators' fits) are reduced to a SHA-256 of their final parameters.  Floating-point
results depend on the BLAS kernel (a float32 product may round differently on another
CPU), on NumPy and on whether the compiled loops run, so the pins are kept per such
platform; on a platform with no pins the test checks that a second run of each training
gives the same bits (add that platform's pins with the command below).

    python tests/test_digests.py     # prints this platform's key and digests, to pin
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

from manualnn.backend import get_backend
from manualnn.backend.threads import blas_info, limit_threads
from manualnn.cli import experiment

PINS = {   # pinned 2026-12-01 before the re-layout (scipy's gemm and NumPy's gave these alike)
    "openblas Haswell, numpy 2.4, fast paths on": {
        "cli default recipe, digits, 3 epochs": "4357df7535f748d4a81be0d487f90c12",
        "cli sgd momentum float64, digits, 3 epochs": "01720da54cf934625c4a40bc1d1369e4",
        "cli sgd no bias float32, digits, 3 epochs": "41ea887fd828cb32efdfbe604c986681",
        "MLPClassifier adam": "2389ac5f2dce76df63bdae39f884880a",
        "MLPClassifier sgd": "32820e8247d1b4acb80b2ce4c3af2715",
        "MLPClassifier float32": "14403cd697eb9136862ea42801d3b636",
        "MLPRegressor adam": "e9908bba6b6ad08e23021b5bcc4a6a25"},
    "openblas Haswell, numpy 2.4, fast paths off": {
        "cli default recipe, digits, 3 epochs": "37ffe616b114d84f70ab869b900716c8",
        "cli sgd momentum float64, digits, 3 epochs": "a0a53ff6b22bb28bbf274e14dbdfc52e",
        "cli sgd no bias float32, digits, 3 epochs": "a0257394e4ed7f0ba98a67615cfae9e2",
        "MLPClassifier adam": "69c460183aa8e8a1ad9a8e2f60546063",
        "MLPClassifier sgd": "986dc61efb5c8149cc68103a0b57a1eb",
        "MLPClassifier float32": "75ef2a940537b292db7384d69151cf6f",
        "MLPRegressor adam": "e6a96235ef5665ca10095c7890bc2c95"},
}


def platform_key() -> str:
    info = blas_info()
    numpy = ".".join(np.__version__.split(".")[:2])
    return (f"{info['library']} {info['kernel']}, numpy {numpy}, "
            f"fast paths {'on' if get_backend().fuses_products else 'off'}")


def digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:32]


def _cli(tmp, **options):
    config = {"dataset": "digits", "epochs": 3, "out": str(tmp), **options}
    _, net, _ = experiment.run(config, log=lambda *a, **k: None, progress=False)
    return digest(net.params)


def _estimator(kind, **options):
    from sklearn.datasets import load_digits

    from manualnn import sklearn as est
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if kind == "regressor":
        model = est.MLPRegressor(hidden_layer_sizes=(24,), max_iter=4, random_state=0, **options)
        model.fit(X, y / 9.0)
    else:
        model = est.MLPClassifier(hidden_layer_sizes=(32,), max_iter=4, random_state=0,
                                  **options)
        model.fit(X, y)
    return digest(model.coefs_ + model.intercepts_)


CASES = {
    "cli default recipe, digits, 3 epochs": lambda tmp: _cli(tmp),
    "cli sgd momentum float64, digits, 3 epochs": lambda tmp: _cli(
        tmp, optimizer="sgd", momentum=0.9, lr=0.05, dtype="float64", dropout=0.0),
    "cli sgd no bias float32, digits, 3 epochs": lambda tmp: _cli(
        tmp, optimizer="sgd", momentum=0.0, lr=0.1, bias=False, hidden=[64]),
    "MLPClassifier adam": lambda tmp: _estimator("classifier"),
    "MLPClassifier sgd": lambda tmp: _estimator("classifier", solver="sgd"),
    "MLPClassifier float32": lambda tmp: _estimator("classifier", dtype="float32"),
    "MLPRegressor adam": lambda tmp: _estimator("regressor"),
}


def compute(tmp_path) -> dict:
    with limit_threads(1):
        return {name: case(tmp_path / str(i)) for i, (name, case) in enumerate(CASES.items())}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_pinned_trainings_end_with_the_pinned_weights(tmp_path):
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (digits, estimators)")
    key, got = platform_key(), compute(tmp_path / "a")
    if key in PINS:
        assert got == PINS[key]
    else:   # no pins for this BLAS kernel: at least every training is reproducible to the bit
        assert got == compute(tmp_path / "b"), f"{key}: the same seed gave other weights"


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        print(repr(platform_key()), ":", compute(Path(tmp)))
    sys.exit(0)
