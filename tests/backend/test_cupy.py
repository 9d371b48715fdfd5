"""The CuPy backend: each fused kernel against the NumPy backend's passes, and training on
the GPU against training on NumPy.  Skipped, with the reason, without CuPy or a GPU; the
deferred loss check it relies on is tested on the CPU by test_deferred_check below."""

import numpy as np
import pytest

from backends import REASONS, make
from manualnn import MLP, get_loss
from manualnn.backend.numpy import NumpyBackend
from manualnn.train.loop import TrainingDiverged, TrainState, fit
from manualnn.train.optim import SGD

gpu = pytest.mark.skipif(bool(REASONS["cupy"]), reason=REASONS["cupy"] or "")


@pytest.fixture
def cp():
    import cupy
    return cupy


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_kernels_equal_numpys(cp, rng, dtype):
    ops, ref = make("cupy"), NumpyBackend()
    A, b = rng.standard_normal((37, 45)).astype(dtype), rng.standard_normal(45).astype(dtype)
    dA = cp.asarray(A)
    assert ops.relu_bias_(dA, cp.asarray(b))
    np.testing.assert_array_equal(dA.get(), np.maximum(A + b, 0))
    G, Z = rng.standard_normal((37, 45)).astype(dtype), np.maximum(A, 0)
    dG, db = cp.asarray(G), cp.zeros(45, dtype)
    assert ops.relu_backward_(dG, cp.asarray(Z), db)
    D = G * (Z > 0)
    np.testing.assert_array_equal(dG.get(), D)
    np.testing.assert_allclose(db.get(), ref.rowsum(D, np.empty(45, dtype)), rtol=1e-5)


@gpu
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_softmax_cross_entropy_kernel_equals_the_equations(cp, rng, eps):
    ops, loss = make("cupy"), get_loss("softmax_cross_entropy", label_smoothing=eps)
    Z, y = rng.standard_normal((50, 10)) * 4, rng.integers(0, 10, 50)
    dZ = cp.asfortranarray(cp.asarray(Z))
    value, wrong = ops.softmax_cross_entropy_(dZ, cp.asarray(y), eps)
    expected, G = loss.reference(Z, y)
    assert float(value) == pytest.approx(expected, rel=1e-12)
    assert int(wrong) == int(np.count_nonzero(Z.argmax(1) != y))
    np.testing.assert_allclose(dZ.get(), G, rtol=1e-10, atol=1e-15)


@gpu
def test_adam_kernel_and_products_equal_numpys(cp, rng):
    ops, ref = make("cupy"), NumpyBackend()
    p, g, m, v = (rng.standard_normal((30, 20)) for _ in range(4))
    v = np.abs(v)
    dev = [cp.asarray(a) for a in (p, g, m, v)]
    options = {"w": 0.1, "beta2": 0.999, "step": 1e-3, "scale": 1.2, "eps": 1e-8,
               "keep": 0.99, "decay": 0.0}
    ops.adam_(*dev, None, **options)
    ref.adam_(p, g, m, v, np.empty_like(p), **options)
    for a, d in zip((p, m, v), (dev[0], dev[2], dev[3])):
        np.testing.assert_allclose(d.get(), a, rtol=1e-13)
    A, B, C = rng.standard_normal((40, 30)), rng.standard_normal((40, 20)), p.copy()
    dC = cp.asarray(C)
    ops.matmul_add(cp.asarray(A).T, cp.asarray(B), dC, -0.1, 0.9)
    np.testing.assert_allclose(dC.get(), 0.9 * C - 0.1 * A.T @ B, rtol=1e-12)


@gpu
def test_training_on_the_gpu_keeps_the_data_there_and_diverges_cleanly(cp, rng):
    X, y = rng.standard_normal((200, 8)), rng.integers(0, 3, 200)
    net = MLP([8, 32, 3], dtype="float64", rng=0, backend="cupy")
    opt = SGD(net.params, lr=1e300, backend=net.ops)
    saved = []
    with pytest.raises(TrainingDiverged, match="batches"):
        fit(net, X, y, get_loss("softmax_cross_entropy"), opt, epochs=3, batch_size=10,
            state=TrainState(), log=lambda *a: None, on_epoch_end=saved.append)
    assert saved == []   # the diverged epoch wrote no checkpoint


class Deferred(NumpyBackend):
    """The NumPy backend with a GPU's habit: the loss is not read after each step."""

    name, check_every = "deferred", 4
    finite = staticmethod(lambda value: True)


@pytest.mark.parametrize("lr, diverges", [(1e-2, False), (1e300, True)])
def test_deferred_check(rng, lr, diverges):
    """The loss read every 4 steps: a run that diverges stops before the epoch's checkpoint
    (the last one on disk is the last good epoch), one that does not ends as with a
    check after every step."""
    X, y = rng.standard_normal((120, 6)), rng.integers(0, 3, 120)

    def run(ops):
        net = MLP([6, 40, 3], dtype="float64", rng=1, backend=ops)
        opt = SGD(net.params, lr=lr, backend=ops)
        saved = []
        fit(net, X, y, get_loss("softmax_cross_entropy"), opt, epochs=2, batch_size=7,
            state=TrainState(shuffle_rng=np.random.default_rng(0)), log=lambda *a: None,
            on_epoch_end=lambda s: saved.append(s.epoch))
        return net.params, saved

    if diverges:
        with pytest.raises(TrainingDiverged, match=r"epoch 1, batches \d+ to \d+"):
            run(Deferred())
    else:
        (deferred, saved), (each, _) = run(Deferred()), run(NumpyBackend())
        assert saved == [1, 2]
        for a, b in zip(deferred, each):
            np.testing.assert_array_equal(a, b)
