"""--max-memory: sizes, the training estimate against tracemalloc, refusals, and the
evaluation and prediction chunks that a limit splits instead of refusing."""

import json
import tracemalloc

import numpy as np
import pytest

from manualnn.cli import experiment, main, memory
from manualnn.cli.predict import predict_files
from manualnn.io import rundir


@pytest.mark.parametrize("text, size", [("4096", 4096), ("512K", 512 << 10), ("800m", 800 << 20),
                                        ("1.5G", 3 << 29), ("2GiB", 2 << 30), ("1 TB", 1 << 40),
                                        ("100B", 100), ("3 KB", 3 << 10), (123, 123)])
def test_sizes(text, size):
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text, error", [("", ValueError), ("-1", ValueError),
                                         ("1e9", ValueError), ("0", ValueError),
                                         ("12 apples", ValueError), (1.5, TypeError),
                                         (True, TypeError), (None, TypeError),
                                         ("5iB", ValueError), ("5 i", ValueError)])
def test_bad_sizes_are_named(text, error):
    with pytest.raises(error, match="max_memory"):
        memory.parse_size(text)


def test_the_default_limit_is_half_of_what_is_available(monkeypatch):
    assert memory.available_memory() > 0          # Linux: /proc/meminfo
    monkeypatch.setattr(memory, "available_memory", lambda: 8 << 30)
    assert memory.resolve_limit(None) == 4 << 30 and memory.resolve_limit("1G") == 1 << 30
    monkeypatch.setattr(memory, "available_memory", lambda: None)
    assert memory.resolve_limit(None) is None     # unknown: nothing is refused


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memory")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(1500, 64)).astype(np.float32), rng.integers(0, 10, 1500)
    np.savez(folder / "m.npz", X=X[:1200], y=y[:1200], X_test=X[1200:], y_test=y[1200:])
    # a first run imports what a run imports: the measured runs then see only their own
    for optimizer in ("adamw", "sgd"):   # sgd loads the BLAS calls of ``blas``
        experiment.run({"dataset": str(folder / "m.npz"), "hidden": [4], "epochs": 1,
                        "optimizer": optimizer, "out": str(folder / f"warm-up-{optimizer}")},
                       log=quiet, progress=False)
    return folder


def quiet(*args, **kwargs):
    pass


@pytest.mark.parametrize("options", [
    {"hidden": [512, 256], "batch_size": 256, "optimizer": "adamw", "dropout": 0.2},
    {"hidden": [1024], "batch_size": 64, "optimizer": "sgd", "dropout": 0.0},
    {"hidden": [256, 256], "batch_size": 1000, "activation": "gelu", "dtype": "float64",
     "early_stopping": 2, "val_fraction": 0.2},
])
def test_the_estimate_is_within_a_sane_factor_of_the_measured_peak(data, tmp_path, options,
                                                                   monkeypatch):
    seen, plan = [], memory.plan_training
    monkeypatch.setattr(memory, "plan_training", lambda *a, **k: seen.append(plan(*a, **k))
                        or seen[-1])
    monkeypatch.setattr(rundir.RunDir, "write_curves", lambda self, history: None)
    config = {"dataset": str(data / "m.npz"), "epochs": 1, "out": str(tmp_path / "r"),
              **options}
    tracemalloc.start()
    try:
        experiment.run(config, log=quiet, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = seen[0][0]
    assert 1.0 <= estimate / peak <= 2.0, (estimate, peak)


def test_a_run_over_the_limit_is_refused_with_one_line(data, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--dataset", str(data / "m.npz"), "--hidden", "512,256",
                 "--max-memory", "3M", "--epochs", "1", "--out", str(out), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "max_memory: training needs about" in lines[0]
    assert "more than the limit of 3.0 MiB" in lines[0] and "[64, 512, 256, 10]" in lines[0]
    assert not (out / "checkpoint.safetensors").exists()


def test_a_network_too_big_for_any_machine_is_refused_before_allocation(data, tmp_path,
                                                                        capsys):
    """The default limit (half the available memory) stops a 10^10-wide layer."""
    tracemalloc.start()
    try:
        code = main(["train", "--dataset", str(data / "m.npz"), "--hidden", "10000000000",
                     "--out", str(tmp_path / "r"), "--quiet"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 2 and "max_memory: training needs about" in capsys.readouterr().err
    assert peak < 20_000_000   # the dataset (1500 x 64), not the network


def test_resume_takes_the_limit_of_its_own_command_line(data, tmp_path, capsys):
    out = tmp_path / "r"
    args = ["train", "--dataset", str(data / "m.npz"), "--hidden", "16", "--epochs", "1",
            "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert main(["train", "--resume", str(out), "--max-memory", "100K", "--quiet"]) == 2
    assert "more than the limit of 100.0 KiB" in capsys.readouterr().err
    # and a limit saved by the first machine does not follow the run to the next one
    out2 = tmp_path / "r2"
    assert main([*args[:-3], "--out", str(out2), "--max-memory", "50M", "--quiet"]) == 0
    config = json.loads((out2 / "config.json").read_text())
    config["max_memory"] = 100_000   # as if the first machine had been tight
    (out2 / "config.json").write_text(json.dumps(config))
    assert main(["train", "--resume", str(out2), "--epochs", "2", "--quiet"]) == 0, \
        capsys.readouterr().err


def test_a_tight_limit_splits_evaluation_instead_of_refusing(data, tmp_path, monkeypatch):
    """The same weights with and without the limit; only the evaluation chunks shrink."""
    from manualnn.train import evaluation
    chunks, evaluate = [], evaluation.evaluate
    monkeypatch.setattr(evaluation, "evaluate", lambda *a: chunks.append(a[4]) or evaluate(*a))
    sizes = {"itemsize": 4, "batch": 128, "rows": 1200, "eval_sizes": [300],
             "activations": ["relu", "identity"], "optimizer_states": 2, "dropout": True}
    limit = memory.training_bytes([64, 256, 10], chunk=64, **sizes, data_bytes=800_000)
    assert limit < memory.training_bytes([64, 256, 10], chunk=4096, **sizes)
    base = {"dataset": str(data / "m.npz"), "hidden": [256], "epochs": 2, "val_fraction": 0}
    _, free, _ = experiment.run({**base, "out": str(tmp_path / "a")}, log=quiet,
                                     progress=False)
    assert set(chunks) == {4096}
    chunks.clear()
    _, tight, _ = experiment.run({**base, "out": str(tmp_path / "b"), "max_memory": limit},
                                      log=quiet, progress=False)
    assert chunks and max(chunks) < 300, chunks
    assert all(np.array_equal(p, q) for p, q in zip(free.params, tight.params))


def test_prediction_and_evaluation_are_split_to_fit(data, tmp_path, monkeypatch, capsys):
    from manualnn.core.network import MLP
    out = tmp_path / "r"
    # float64: a float32 BLAS product may round a row differently with the number of rows
    # (OpenBLAS's Haswell kernels do), which would show in the 6th printed digit
    assert main(["train", "--dataset", str(data / "m.npz"), "--hidden", "32", "--epochs", "1",
                 "--dtype", "float64", "--out", str(out), "--quiet"]) == 0
    X = np.load(data / "m.npz")["X_test"]
    np.save(tmp_path / "x.npy", X)
    free = predict_files(out, [tmp_path / "x.npy"])
    rows, forward = [], MLP._forward
    monkeypatch.setattr(MLP, "_forward", lambda self, X, train: rows.append(len(X))
                        or forward(self, X, train))
    tight = predict_files(out, [tmp_path / "x.npy"], max_memory="400K")
    assert tight == free and len(rows) > 1 and max(rows) < len(X), rows
    with pytest.raises(ValueError, match="max_memory: prediction needs about .* even one row"):
        predict_files(out, [tmp_path / "x.npy"], max_memory="10K")
    rows.clear()
    capsys.readouterr()
    assert main(["evaluate", str(out), "--max-memory", "820K"]) == 0
    assert "accuracy" in capsys.readouterr().out and len(rows) > 1 and max(rows) < 300


@pytest.mark.parametrize("size, text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"),
                                        (5 << 20, "5.0 MiB"), (9000 << 40, "9000.0 TiB")])
def test_sizes_are_described_in_the_largest_unit_below_1024(size, text):
    assert memory.describe(size) == text
