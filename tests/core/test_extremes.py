"""Numerical extremes at the level of the network and the command line.

Losses and activations alone are tested at the float32 edges in test_activations_losses.py;
here: a whole network with 1e4..1e6-scale logits against a float64 autograd reference,
the in-place hooks the training step uses at the edges of both float types, NaN and
infinity in the data refused up front by ``train`` and ``predict``, and a diverging
learning rate stopped by the command with one line and the last good model kept.
"""

import numpy as np
import pytest

from autograd_reference import gradients, loss_value
from cli_helpers import blobs as make_blobs
from cli_helpers import one_line
from manualnn import ACTIVATIONS, get_activation, get_loss
from manualnn.backend import get_backend
from manualnn.cli import main
from manualnn.core.network import MLP
from manualnn.io.rundir import load_run


def _huge_logit_net(dtype, scale, seed=0):
    """tanh hidden units (bounded by 1) into an output layer scaled so logits reach
    ``scale``; the biases shift them further."""
    net = MLP([6, 8, 4], "tanh", dtype=dtype, rng=seed)
    rng = np.random.default_rng(seed)
    net.W[1][...] = rng.choice([-1.0, 1.0], size=net.W[1].shape) * (scale / 8)
    net.b[1][...] = rng.uniform(-scale, scale, 4)
    return net


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [1e4, 1e6])
def test_huge_logits_give_finite_loss_and_the_float64_reference_gradient(dtype, scale):
    net = _huge_logit_net(dtype, scale)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 6)).astype(dtype)
    y = rng.integers(0, 4, 16)
    Z = net(X)
    assert np.abs(Z).max() > scale / 4, "the test needs logits of the stated scale"
    loss = get_loss("softmax_cross_entropy")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grads = net.loss_and_grad(X, y, loss)
    params64 = [p.astype(np.float64) for p in net.params]
    X64 = X.astype(np.float64)
    expected = gradients(params64, X64, y, None, ["tanh", "identity"], True,
                         "softmax_cross_entropy")
    ref_value = float(loss_value("softmax_cross_entropy", net.copy(dtype="float64")(X64), y,
                                 None))
    assert np.isfinite(value) and value == pytest.approx(ref_value, rel=1e-6)
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for name, g, e in zip(net.param_names, grads, expected):
        assert g.dtype == np.dtype(dtype) and np.isfinite(g).all(), name
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * np.abs(e).max(), err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_training_step_at_huge_logits_stays_finite(dtype):
    """An SGD step from saturated softmax rows: the gradient is bounded by the inputs."""
    from manualnn.train.optim import SGD
    net = _huge_logit_net(np.dtype(dtype).name, 1e6)
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((32, 6)).astype(dtype), rng.integers(0, 4, 32)
    opt = SGD(net.params, lr=1e-3)
    loss = get_loss("softmax_cross_entropy", label_smoothing=0.1)
    for _ in range(3):
        value, grads = net.loss_and_grad(X, y, loss)
        assert np.isfinite(value) and all(np.isfinite(g).all() for g in grads)
        opt.step(grads)


def _edges(dtype):
    info = np.finfo(dtype)
    limit = float(np.log(info.max))         # exp overflows beyond this
    values = [-info.max, -info.max / 2, -1e30, -1e4, -limit - 1, -limit, -20.0, -1.0,
              -info.tiny, -0.0, 0.0, info.smallest_subnormal, info.tiny, 1.0, 20.0, limit,
              limit + 1, 1e4, 1e30, info.max / 2, info.max]
    return np.array(values, dtype=dtype).reshape(3, 7)


@pytest.mark.parametrize("backend", ["numpy", "auto"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_in_place_training_hooks_are_finite_at_the_edges(name, dtype, backend):
    """forward_layer_ and backward_layer_ (what a training step calls) at the edges of
    float32 and float64, with a zero bias and floating-point errors raised: no overflow, no
    NaN, dtype kept (relu's compiled loops included, where numba is installed)."""
    act = get_activation(name)
    A = _edges(dtype)
    b, db = np.zeros(A.shape[1], dtype), np.empty(A.shape[1], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        Z = act.forward_layer_(A.copy(), b, np.empty_like(A), get_backend(backend))
        D = act.backward_layer_(np.ones_like(A), A.copy(), Z.copy(), db, get_backend(backend))
    assert Z.dtype == dtype and D.dtype == dtype and db.dtype == dtype
    assert np.isfinite(Z).all() and np.isfinite(D).all(), (Z, D)
    np.testing.assert_array_equal(Z, act.value(A))
    np.testing.assert_array_equal(D, act.derivative(A, act.value(A)))
    np.testing.assert_array_equal(db, D.sum(axis=0))   # three rows: the same sums


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "gelu", "tanh"])
def test_float32_values_near_the_exp_limit_match_float64(name):
    """Stable formulas are accurate, not only finite: float32 against float64 where both
    exist (|a| up to 100, past exp's float32 limit of 88.7).  Absolute tolerance 2e-7:
    GELU's tanh form loses the relative digits of its tiny negative tail in 1 + tanh(u)."""
    act = get_activation(name)
    A = np.linspace(-100, 100, 2001)
    Z32, Z64 = act.value(A.astype(np.float32)), act.value(A)
    np.testing.assert_allclose(Z32, Z64, rtol=2e-6, atol=2e-7)
    D32 = act.derivative(A.astype(np.float32), Z32)
    np.testing.assert_allclose(D32, act.derivative(A, Z64), rtol=1e-5, atol=2e-6)


# -- the command line ----------------------------------------------------------------------
@pytest.fixture
def blobs(tmp_path):
    return (tmp_path, *make_blobs(300, 5))


@pytest.mark.parametrize("where, bad", [("X", np.nan), ("X", np.inf), ("X_test", -np.inf),
                                        ("X", 1e39)])
def test_train_refuses_non_finite_data_up_front(blobs, capsys, where, bad):
    folder, X, y = blobs
    arrays = {"X": X[:240].copy(), "y": y[:240], "X_test": X[240:].copy(), "y_test": y[240:]}
    arrays[where][7, 2] = bad
    np.savez(folder / "bad.npz", **arrays)
    out = folder / "run"
    assert main(["train", "--dataset", str(folder / "bad.npz"), "--hidden", "4", "--out",
                 str(out), "--quiet"]) == 2
    line = one_line(capsys)
    assert f"{where}: expected finite values" in line and "NaN or infinity" in line
    assert not (out / "checkpoint.safetensors").exists()


def test_predict_refuses_non_finite_inputs(blobs, capsys):
    folder, X, y = blobs
    np.savez(folder / "ok.npz", X=X, y=y)
    out = folder / "run"
    assert main(["train", "--dataset", str(folder / "ok.npz"), "--hidden", "4", "--epochs",
                 "1", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    inputs = X[:3].copy()
    inputs[1, 0] = np.nan
    np.save(folder / "x.npy", inputs)
    assert main(["predict", str(out), str(folder / "x.npy")]) == 2
    assert "INPUT: expected finite values, got NaN or infinity" in one_line(capsys)


def test_a_diverging_run_stops_with_one_line_and_keeps_the_last_good_model(blobs, capsys):
    folder, X, y = blobs
    np.savez(folder / "ok.npz", X=X, y=y)
    out = folder / "div"
    # one good epoch at lr 0.01, then the step schedule multiplies it by 1e36
    code = main(["train", "--dataset", str(folder / "ok.npz"), "--hidden", "8", "--epochs",
                 "3", "--optimizer", "sgd", "--momentum", "0", "--lr", "0.01", "--schedule",
                 "step", "--step-size", "1", "--gamma", "1e36", "--warmup-epochs", "0",
                 "--batch-size", "32", "--out", str(out), "--quiet"])
    assert code == 2
    line = one_line(capsys)
    assert "training diverged: the loss is" in line and "at epoch 2, batch " in line
    assert "the last completed epoch is 1" in line
    net, meta, _ = load_run(out)
    assert meta["epoch"] == 1 and all(np.isfinite(p).all() for p in net.params)
    # the checkpoint survives too: resuming with a sane schedule is possible
    assert main(["train", "--resume", str(out), "--epochs", "1", "--quiet"]) == 0
