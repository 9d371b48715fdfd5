"""The engine on the backends that are not NumPy's (tests/backends.py): a training run
ends with NumPy's weights, arrays come back in the type they came in, and a model and a
checkpoint move between backends through their files."""

import numpy as np
import pytest

from backends import BACKENDS, FOREIGN, make
from manualnn import MLP, get_loss
from manualnn.train.loop import TrainState, fit
from manualnn.train.optim import SGD, Adam, AdamW


def relative(a, b):
    scale = max(np.abs(a).max(), np.abs(b).max())
    return float(np.abs(a - b).max() / scale) if scale else 0.0


def _train(ops, make_opt, dropout, epochs=2):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((90, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    net = MLP([6, 16, 8, 3], dtype="float64", rng=11, dropout=dropout, backend=ops)
    opt = make_opt(net.params, ops)
    fit(net, X, y, get_loss("softmax_cross_entropy", label_smoothing=0.1), opt,
        epochs=epochs, batch_size=16, state=TrainState(shuffle_rng=np.random.default_rng(2)),
        log=lambda *a: None, validation=(X[:30], y[:30]))
    return [ops.to_numpy(p, copy=True) for p in net.params]


OPTIMIZERS = {
    "sgd-momentum": lambda p, ops: SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3,
                                       backend=ops),
    "adam": lambda p, ops: Adam(p, lr=1e-2, backend=ops),
    "adamw": lambda p, ops: AdamW(p, lr=1e-2, backend=ops),
}


@pytest.mark.parametrize("name", FOREIGN)
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_training_ends_with_numpys_weights(name, opt):
    """Same seed, same start (drawn on the host), same batches, same dropout masks (drawn
    on the host for the array API backend): the same weights to rounding."""
    dropout = 0.0 if name == "cupy" else 0.2   # CuPy's masks come from its own generator
    expected = _train(make("numpy"), OPTIMIZERS[opt], dropout)
    got = _train(make(name), OPTIMIZERS[opt], dropout)
    for e, g in zip(expected, got):
        assert relative(g, e) <= 1e-10


@pytest.mark.parametrize("name", FOREIGN)
def test_arrays_come_back_as_they_came(name):
    ops = make(name)
    net = MLP([4, 5, 3], rng=0, backend=ops)
    X = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    host = net(X)
    assert isinstance(host, np.ndarray) and host.dtype == np.float32
    native = net(ops.from_host(X))
    assert type(native) is type(net.W[0]) and ops.np_dtype(native.dtype) == np.float32
    np.testing.assert_array_equal(ops.to_numpy(native), host)
    np.testing.assert_allclose(host, MLP([4, 5, 3], rng=0, backend="numpy")(X), rtol=1e-5,
                               atol=1e-6)   # float32: another BLAS, other roundings


@pytest.mark.parametrize("name", FOREIGN)
def test_from_weights_infers_the_backend_of_the_arrays(name):
    ops = make(name)
    W = [ops.from_host(np.ones((3, 2))), ops.from_host(np.ones((2, 2)))]
    assert MLP.from_weights(W).ops is ops
    with pytest.raises(TypeError, match="W1: expected a float32 or float64 array"):
        MLP.from_weights([ops.from_host(np.ones((3, 2), np.int64))])


@pytest.mark.parametrize("name", FOREIGN)
def test_a_model_saved_on_one_backend_predicts_the_same_on_another(tmp_path, name):
    from manualnn.io.serialize import load_model, save_model
    ops = make(name)
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((64, 6)), rng.integers(0, 3, 64)
    net = MLP([6, 10, 3], dtype="float64", rng=1, backend=ops)
    fit(net, X, y, get_loss("softmax_cross_entropy"), Adam(net.params, backend=ops),
        epochs=1, batch_size=16, state=TrainState(), log=lambda *a: None)
    save_model(tmp_path / "m", net)
    on_numpy, _, _ = load_model(tmp_path / "m", backend="numpy")
    back, _, _ = load_model(tmp_path / "m", backend=ops)
    assert on_numpy.ops.name == "numpy" and back.ops is ops
    np.testing.assert_array_equal(on_numpy(X).argmax(1), net(X).argmax(1))
    np.testing.assert_allclose(on_numpy(X), net(X), rtol=1e-12)
    np.testing.assert_array_equal(back(X), net(X))


def _run(backend, epochs, folder=None, resume=False, dropout=0.0):
    """Adam on a small set for ``epochs`` epochs, checkpointing into ``folder`` after each
    (continuing from its checkpoint with ``resume``); the weights as NumPy arrays."""
    from manualnn.io.rundir import RunDir
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((48, 5)), rng.integers(0, 2, 48)
    net = MLP([5, 9, 7, 2], dtype="float64", rng=3, dropout=dropout, backend=backend)
    opt = Adam(net.params, lr=1e-2, backend=backend)
    state = TrainState(shuffle_rng=np.random.default_rng(1))
    run_dir = RunDir(folder, resume=resume) if folder else None
    if resume:
        run_dir.load_checkpoint(net, opt, state)
    save = (lambda s: run_dir.save_epoch(net, opt, s, {}, {})) if run_dir else None
    fit(net, X, y, get_loss("softmax_cross_entropy"), opt, epochs=epochs, batch_size=8,
        state=state, log=lambda *a: 0, on_epoch_end=save)
    if run_dir:
        run_dir.close()
    return [backend.to_numpy(p, copy=True) for p in net.params]


@pytest.mark.parametrize("name", FOREIGN)
def test_a_checkpoint_resumes_on_another_backend(tmp_path, name):
    """Two epochs on the backend, then a third on NumPy from its checkpoint, equal three
    epochs on NumPy."""
    ops, numpy = make(name), make("numpy")
    _run(ops, 2, tmp_path / "run")
    resumed = _run(numpy, 3, tmp_path / "run", resume=True)
    for e, g in zip(_run(numpy, 3), resumed):
        assert relative(g, e) <= 1e-10


@pytest.mark.parametrize("name", BACKENDS)
def test_dropout_masks_come_from_the_networks_generator_alone(tmp_path, name):
    """With dropout, a run resumed from its checkpoint is the uninterrupted run, and so is
    a run of a new network seeded alike after others came and went on the shared backend:
    the network's NumPy generator, which checkpoints hold, is the masks' only state."""
    ops = make(name)
    first = _run(ops, 3, dropout=0.4)
    _run(ops, 2, tmp_path / "run", dropout=0.4)
    resumed = _run(ops, 3, tmp_path / "run", resume=True, dropout=0.4)
    again = _run(ops, 3, dropout=0.4)
    for a, b, c in zip(first, resumed, again):
        np.testing.assert_array_equal(b, a)
        np.testing.assert_array_equal(c, a)
    assert relative(first[0], _run(ops, 3)[0]) > 1e-3   # the masks did change the run


@pytest.mark.parametrize("name", FOREIGN)
@pytest.mark.parametrize("loss_name", ["softmax_cross_entropy", "mse", "binary_cross_entropy"])
def test_a_loss_called_on_another_librarys_array_answers_in_it(name, loss_name):
    ops, loss = make(name), get_loss(loss_name)
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((9, 4))
    y = rng.integers(0, 4, 9) if loss_name == "softmax_cross_entropy" else rng.uniform(size=(9, 4))
    w = rng.uniform(0.5, 2, 9)
    value, G = loss(ops.from_host(Z), ops.from_host(y), ops.from_host(w))
    expected, G_numpy = loss(Z, y, w)
    assert type(G) is type(ops.from_host(Z)) and value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(ops.to_numpy(G), G_numpy, rtol=1e-12, atol=1e-15)


EDGE = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("name", FOREIGN)
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_softmax_cross_entropy_is_finite_up_to_float32s_largest_logits(name, eps):
    """Another library's float32 logits at +-3.4e38 give NumPy's finite loss, and a finite
    G in float32 (the loss's terms run in float64 there too)."""
    from manualnn.core.losses import SoftmaxCrossEntropy
    ops = make(name)
    Z = np.array([[EDGE, -EDGE, 0.0], [-EDGE, -EDGE, EDGE], [1.0, -1e30, 3.4e38],
                  [0.0, 0.0, 0.0]], dtype=np.float32)
    y = np.array([1, 0, 2, 1])
    loss = SoftmaxCrossEntropy(eps)
    want = Z.copy()
    with np.errstate(over="ignore"):
        expected, expected_errors = loss.value_and_grad_(want, y)
    G = ops.from_host(Z.copy())
    value, errors = loss.value_and_grad_(G, ops.from_host(y), ops=ops)
    G = ops.to_numpy(G, copy=True)
    assert G.dtype == np.float32 and np.isfinite(G).all()
    assert np.isfinite(float(value)) and float(value) == pytest.approx(expected, rel=1e-6)
    assert int(errors) == expected_errors == 2   # rows 0 and 1: the label's logit is not a max
    np.testing.assert_allclose(G, want, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("loss_name", ["softmax_cross_entropy", "mse", "binary_cross_entropy"])
def test_value_and_grad_answers_numbers_or_the_devices_unread_scalars(name, loss_name):
    """The step's loss call on every backend: a Python float and int on the host; on a
    device, those or 0-d arrays of the backend (unread: the GPU is not stopped), which
    float() and int() read.  Never another library's array."""
    ops, loss = make(name), get_loss(loss_name)
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((12, 4))
    y = rng.integers(0, 4, 12) if loss_name == "softmax_cross_entropy" else \
        rng.uniform(size=(12, 4))
    expected, expected_errors = loss.value_and_grad_(Z.copy(), y)
    value, errors = loss.value_and_grad_(ops.from_host(Z.copy()), ops.from_host(y), ops=ops)
    for got, number in ((value, float), (errors, int)):
        if got is None or type(got) is number:
            continue
        assert not ops.host and ops.is_native(got) and tuple(got.shape) == (), type(got)
    assert float(value) == pytest.approx(expected, rel=1e-12)
    assert (errors is None) == (expected_errors is None)
    assert errors is None or int(errors) == expected_errors


@pytest.mark.parametrize("name", FOREIGN)
def test_validation_and_test_splits_on_the_device_evaluate_as_on_the_host(name):
    """fit's validation and test pairs given as the backend's own arrays (the CLI hands
    NumPy ones, a library user need not): the same history as NumPy pairs."""
    ops = make(name)
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)

    def history(move):
        net = MLP([5, 8, 3], dtype="float64", rng=2, backend=ops)
        state = fit(net, X, y, get_loss("softmax_cross_entropy"),
                    SGD(net.params, lr=0.1, backend=ops), epochs=1, batch_size=10,
                    state=TrainState(shuffle_rng=np.random.default_rng(0)), log=lambda *a: 0,
                    validation=(move(X[:20]), move(y[:20])), test=(move(X[20:]), move(y[20:])))
        return [{k: v for k, v in row.items() if k != "seconds"} for row in state.history]

    assert history(ops.from_host) == history(lambda a: a)


@pytest.mark.parametrize("name", BACKENDS)
def test_identitys_value_is_a_copy_of_the_backends_type(name):
    from manualnn.core.activations import get_activation
    ops = make(name)
    A = ops.from_host(np.arange(6.0).reshape(2, 3))
    H = get_activation("identity").value(A)
    assert type(H) is type(A) and H.dtype == A.dtype
    H[...] = ops.from_host(np.zeros((2, 3)))   # written without touching A
    np.testing.assert_array_equal(ops.to_numpy(A, copy=True), np.arange(6.0).reshape(2, 3))
