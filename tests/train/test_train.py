"""The training system: determinism, resume, divergence, early stopping, run folders."""

import csv
import os

import numpy as np
import pytest

from manualnn import MLP, get_loss
from manualnn.cli import experiment
from manualnn.cli.config import RunConfig
from manualnn.io.rundir import RunDir, load_run
from manualnn.io.serialize import load_model
from manualnn.train import TrainingDiverged, TrainState, evaluate, fit
from manualnn.train.optim import SGD


@pytest.fixture
def blobs(tmp_path):
    """A small 3-class problem as a user .npz file, with a test split."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=3, size=(3, 6))
    y = rng.integers(0, 3, 300)
    X = centers[y] + rng.normal(size=(300, 6))
    path = tmp_path / "blobs.npz"
    np.savez(path, X=X[:240], y=y[:240], X_test=X[240:], y_test=y[240:])
    return str(path)


def config(data, out, **options):
    base = {"dataset": data, "hidden": [16, 8], "epochs": 4, "batch_size": 32,
            "out": str(out), "lr": 0.01, "warmup_epochs": 0}
    return {**base, **options}


def quiet(*args, **kwargs):
    pass


def interrupt_after(lines):
    """A log function that raises KeyboardInterrupt at its ``lines + 1``-th line."""
    seen = []

    def log(text):
        seen.append(text)
        if len(seen) > lines:
            raise KeyboardInterrupt
    return log


def weights(folder):
    net, _, _ = load_model(folder)
    return net.params


def history(folder):
    with open(os.path.join(folder, "history.csv")) as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def test_a_run_writes_its_folder_and_learns(blobs, tmp_path):
    folder, net, (loss, err) = experiment.run(config(blobs, tmp_path / "run", epochs=8),
                                              log=quiet)
    for name in ("model.safetensors", "model.json", "checkpoint.safetensors", "history.csv",
                 "config.json", "curves.png"):
        assert os.path.isfile(os.path.join(folder, name)), name
    assert err < 0.1 and loss < 0.6
    rows = history(folder)
    assert [int(r["epoch"]) for r in rows] == list(range(1, 9))
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    loaded, meta, pre = load_run(folder)
    assert meta["classes"] == ["0", "1", "2"] and meta["epoch"] == 8
    X = np.load(blobs)["X_test"]
    np.testing.assert_array_equal(loaded(pre.transform(X)), net(pre.transform(X)))


@pytest.mark.parametrize("options", [{}, {"dropout": 0.3, "optimizer": "sgd", "nesterov": True},
                                     {"shuffle": False, "schedule": "step", "step_size": 1}])
def test_the_same_seed_gives_bitwise_identical_runs(blobs, tmp_path, options):
    a = experiment.run(config(blobs, tmp_path / "a", **options), log=quiet)[0]
    b = experiment.run(config(blobs, tmp_path / "b", **options), log=quiet)[0]
    assert all(np.array_equal(p, q) for p, q in zip(weights(a), weights(b)))
    assert history(a) == history(b)
    c = experiment.run(config(blobs, tmp_path / "c", seed=1, **options), log=quiet)[0]
    assert not all(np.array_equal(p, q) for p, q in zip(weights(a), weights(c)))


@pytest.mark.parametrize("options", [{"dropout": 0.2}, {"optimizer": "sgd", "momentum": 0.9},
                                     {"early_stopping": 3, "val_fraction": 0.2}])
def test_resume_finishes_with_the_same_weights(blobs, tmp_path, options, monkeypatch):
    from manualnn.io import rundir
    monkeypatch.setattr(rundir, "SAVE_SECONDS", 0)   # every epoch saved: epoch 2's too
    straight = experiment.run(config(blobs, tmp_path / "straight", epochs=5, **options),
                              log=quiet)[0]
    part = config(blobs, tmp_path / "part", epochs=5, **options)
    with pytest.raises(KeyboardInterrupt):   # killed while epoch 3 is being reported
        experiment.run(part, log=interrupt_after(3))
    assert len(history(part["out"])) == 2
    resumed = experiment.run(part, resume_dir=part["out"], log=quiet)[0]
    assert all(np.array_equal(p, q) for p, q in zip(weights(straight), weights(resumed)))
    assert history(straight) == history(resumed)


def test_divergence_stops_at_the_first_bad_batch_and_keeps_the_last_epoch(blobs, tmp_path):
    out = tmp_path / "div"
    # one fine epoch, then a learning rate that overflows float32
    cfg = config(blobs, out, optimizer="sgd", momentum=0.0, lr=0.01, schedule="step",
                 step_size=1, gamma=1e36, epochs=3)
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf) at epoch 2, batch \d+; "
                                                r".*the last completed epoch is 1"):
        experiment.run(cfg, log=quiet)
    net, meta, _ = load_run(str(out))
    assert all(np.isfinite(p).all() for p in net.params)
    assert meta["epoch"] == 1 and len(history(str(out))) == 1


def test_early_stopping_restores_the_best_weights(blobs, tmp_path):
    seen = []
    cfg = config(blobs, tmp_path / "es", epochs=60, lr=0.05, early_stopping=2,
                 val_fraction=0.3, label_smoothing=0.0, dropout=0.0)
    folder = experiment.run(cfg, log=seen.append)[0]
    rows = history(folder)
    assert len(rows) < 60, "the validation loss must stop improving on this tiny problem"
    val = [float(r["val_loss"]) for r in rows]
    best = int(np.argmin(val))
    assert len(rows) - 1 - best == 2
    # the model left behind is the best epoch's: its validation loss is the best one
    from manualnn.core.losses import get_loss
    from manualnn.data.files import train_val_split
    from manualnn.train import evaluate
    loaded, _, pre = load_run(folder)
    data = np.load(blobs)
    ss = np.random.SeedSequence(0).spawn(4)
    _, _, Xv, yv = train_val_split(data["X"].astype(np.float32), data["y"], 0.3,
                                   np.random.default_rng(ss[0]))
    assert evaluate(loaded, pre.transform(Xv), yv, get_loss("softmax_cross_entropy"))[0] == \
        pytest.approx(val[best], rel=1e-6)


def test_callbacks_can_stop_training(blobs, tmp_path):
    from manualnn.core.losses import get_loss
    from manualnn.core.network import MLP
    from manualnn.train import TrainState, fit
    from manualnn.train.optim import SGD
    data = np.load(blobs)
    X, y = data["X"].astype(np.float32), data["y"]
    net = MLP([6, 5, 3], rng=0)
    calls = []
    state = fit(net, X, y, get_loss("softmax_cross_entropy"), SGD(net.params, 0.1), epochs=10,
                batch_size=50, state=TrainState(shuffle_rng=np.random.default_rng(0)),
                callbacks=[lambda row, n: calls.append(row["epoch"]) or row["epoch"] == 3],
                log=quiet)
    assert calls == [1, 2, 3] and state.epoch == 3


def test_the_last_short_batch_is_a_mean_over_its_rows(blobs):
    """10 rows in batches of 4: the third step uses the mean over its 2 rows."""
    from manualnn.core.losses import get_loss
    from manualnn.core.network import MLP
    from manualnn.train import TrainState, fit
    from manualnn.train.optim import SGD
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
    net, ref = MLP([3, 2], dtype="float64", rng=0), MLP([3, 2], dtype="float64", rng=0)
    loss = get_loss("softmax_cross_entropy")
    fit(net, X, y, loss, SGD(net.params, 0.5), epochs=1, batch_size=4, shuffle=False,
        state=TrainState(), log=quiet)
    for s in (slice(0, 4), slice(4, 8), slice(8, 10)):
        _, grads = ref.loss_and_grad(X[s], y[s], loss)
        for p, g in zip(ref.params, grads):
            p -= 0.5 * g
    for p, q in zip(net.params, ref.params):
        np.testing.assert_allclose(p, q, rtol=1e-14)


def test_a_second_training_in_the_same_folder_is_refused(tmp_path):
    first = RunDir(tmp_path / "locked")
    try:
        with pytest.raises(ValueError, match="another training is running in"):
            RunDir(tmp_path / "locked")
    finally:
        first.close()
    RunDir(tmp_path / "locked").close()


def test_a_finished_run_folder_is_not_overwritten(blobs, tmp_path):
    cfg = config(blobs, tmp_path / "done", epochs=1)
    experiment.run(cfg, log=quiet)
    with pytest.raises(ValueError, match="already holds a run; continue it with --resume"):
        experiment.run(cfg, log=quiet)
    with pytest.raises(ValueError, match="holds no checkpoint to resume from"):
        experiment.run(cfg, resume_dir=str(tmp_path / "nothing"), log=quiet)


@pytest.mark.parametrize("options, message", [
    ({"epochs": 0}, r"epochs: expected a value in \[1, 1000000000\]"),
    ({"lr": 0.0}, r"lr: expected a value in \(0, inf\]"),
    ({"val_fraction": 1.0}, r"val_fraction: expected a value in \[0, 1\)"),
    ({"early_stopping": 2, "val_fraction": 0.0}, "early_stopping: needs a validation split"),
    ({"batch_size": 0}, r"batch_size: expected a value in \[1, inf\]"),
    ({"clip_norm": -1.0}, r"clip_norm: expected a value in \(0, inf\]"),
    ({"weight_decay": -0.1}, "weight_decay: expected a value >= 0"),
    ({"colour": "red"}, r"config: unknown options \['colour'\]"),
    ({"hidden": [16, 0]}, r"hidden: expected a list of positive integer widths, got \[16, 0\]"),
    ({"layers": [784]}, r"layers: expected a list of at least 2 positive integer widths"),
])
def test_impossible_hyperparameters_are_refused_up_front(options, message):
    with pytest.raises(ValueError, match=message):
        RunConfig.from_dict(options)


def test_fit_and_evaluate_reject_bad_labels_and_data_before_training():
    """Checked once at the boundary: labels out of range would otherwise index past the
    logits in the compiled loss (a crash, not an error), and a NaN in X would read as a
    diverging learning rate."""
    net = MLP([4, 5, 3], rng=0)
    X = np.random.default_rng(0).random((20, 4)).astype(np.float32)
    loss = get_loss("softmax_cross_entropy")

    def train(X, y):
        fit(net, X, y, loss, SGD(net.params, 0.1), epochs=1, batch_size=5,
            state=TrainState(), log=lambda *a: None)

    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 3\), got values from 0 to"):
        train(X, np.r_[np.zeros(19, int), 10**9])
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 3\)"):
        evaluate(net, X, np.full(20, -1), loss)
    with pytest.raises(ValueError, match="X: expected 4 columns"):
        train(X[:, :3], np.zeros(20, int))
    with pytest.raises(TypeError, match="X: expected float32 like the network, got float64"):
        train(X.astype(np.float64), np.zeros(20, int))
    X[7, 2] = np.nan
    with pytest.raises(ValueError, match="X: expected finite values, got NaN or infinity in "
                                         "batch 2 of epoch 1"):
        fit(net, X, np.zeros(20, int), loss, SGD(net.params, 0.1), epochs=1, batch_size=5,
            shuffle=False, state=TrainState(), log=lambda *a: None)
