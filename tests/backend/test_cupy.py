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


def assert_sum_close(got, want, magnitude, n: int, dtype) -> None:
    """|got - want| <= 2 n eps(dtype) x ``magnitude`` (the sum of the terms' absolute
    values) entry by entry: twice the worst-case error of a sum of n terms in ``dtype`` in
    any order (Higham's gamma_n), so that both got's and want's roundings fit and any
    kernel order passes, where a fixed rtol is either too thin or too loose."""
    bound = 2 * n * np.finfo(dtype).eps * np.asarray(magnitude, np.float64)
    err = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
    assert (err <= bound).all(), f"error {err.max():.3g}, {float((err / bound).max()):.3g}x " \
        "the bound of the dtype and the sum's length"


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_kernels_equal_numpys(cp, rng, dtype):
    ops = make("cupy")
    A, b = rng.standard_normal((37, 45)).astype(dtype), rng.standard_normal(45).astype(dtype)
    dA = cp.asarray(A)
    assert ops.relu_bias_(dA, cp.asarray(b))
    np.testing.assert_array_equal(dA.get(), np.maximum(A + b, 0))
    G, Z = rng.standard_normal((37, 45)).astype(dtype), np.maximum(A, 0)
    dG, db = cp.asarray(G), cp.zeros(45, dtype)
    assert ops.relu_backward_(dG, cp.asarray(Z), db)
    D = G * (Z > 0)
    np.testing.assert_array_equal(dG.get(), D)
    assert_sum_close(db.get(), D.astype(np.float64).sum(0), np.abs(D).sum(0), 37, dtype)
    dG = cp.asarray(G)   # without a bias: the mask alone (relu_mask)
    assert ops.relu_backward_(dG, cp.asarray(Z), None)
    np.testing.assert_array_equal(dG.get(), D)


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
        np.testing.assert_allclose(d.get(), a, rtol=1e-13, atol=1e-14)   # FMA: an ulp
    A, B, C = rng.standard_normal((40, 30)), rng.standard_normal((40, 20)), p.copy()
    dC = cp.asarray(C)
    ops.matmul_add(cp.asarray(A).T, cp.asarray(B), dC, -0.1, 0.9)
    # 40 products and the scaled C: 42 terms
    assert_sum_close(dC.get(), 0.9 * C - 0.1 * A.T @ B,
                     0.9 * np.abs(C) + 0.1 * np.abs(A).T @ np.abs(B), 42, np.float64)


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


@gpu
def test_the_softmax_kernel_gives_nan_for_a_label_out_of_range_and_touches_nothing_else(
        cp, rng):
    """A label < 0 or >= k: that row's loss is NaN (the loop's divergence check says so)
    and its G row is left as it was; every other row is as the equations give it."""
    ops, loss = make("cupy"), get_loss("softmax_cross_entropy")
    Z, y = rng.standard_normal((6, 4)), np.array([0, -1, 3, 4, 2, 1])
    dZ = cp.asfortranarray(cp.asarray(Z))
    value, wrong = ops.softmax_cross_entropy_(dZ, cp.asarray(y), 0.0)
    assert np.isnan(float(value)) and int(wrong) >= 2
    G = dZ.get()
    np.testing.assert_array_equal(G[[1, 3]], Z[[1, 3]])
    good = [0, 2, 4, 5]
    _, expected = loss.reference(Z[good], y[good])
    np.testing.assert_allclose(G[good] * 6 / 4, expected, rtol=1e-10, atol=1e-15)


@gpu
@pytest.mark.parametrize("w", [0.1, 0.6])   # w = 1 - beta1: both of Adam's m branches
def test_adam_kernel_takes_both_branches_as_numpy(cp, rng, w):
    ops, ref = make("cupy"), NumpyBackend()
    p, g, m, v = (rng.standard_normal((17, 9)) for _ in range(4))
    v = np.abs(v)
    dev = [cp.asarray(a) for a in (p, g, m, v)]
    options = {"w": w, "beta2": 0.99, "step": 1e-2, "scale": 1.1, "eps": 1e-8,
               "keep": 1.0, "decay": 0.01}
    ops.adam_(*dev, None, **options)
    ref.adam_(p, g, m, v, np.empty_like(p), **options)
    for a, d in zip((p, m, v), (dev[0], dev[2], dev[3])):
        # NVRTC contracts a * b + c into one FMA: an ulp of the operands, at most
        np.testing.assert_allclose(d.get(), a, rtol=1e-13, atol=1e-14)


@gpu
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgds_update_fused_into_the_gemm_trains_as_numpy(cp, monkeypatch, momentum):
    """Plain SGD and SGD with momentum on the GPU step W (or the velocity) inside the
    gradient's cuBLAS gemm (beta != 0), and end with NumPy's weights to rounding."""
    ops, numpy = make("cupy"), make("numpy")
    calls = []
    gemm = ops.matmul_add
    monkeypatch.setattr(ops, "matmul_add", lambda *a: calls.append(a[-1]) or gemm(*a))
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((90, 6)), rng.integers(0, 3, 90)

    def run(backend):
        net = MLP([6, 16, 8, 3], dtype="float64", rng=11, backend=backend)
        fit(net, X, y, get_loss("softmax_cross_entropy"),
            SGD(net.params, lr=0.05, momentum=momentum, backend=backend), epochs=2,
            batch_size=16, state=TrainState(shuffle_rng=np.random.default_rng(2)),
            log=lambda *a: None)
        return [backend.to_numpy(q, copy=True) for q in net.params]

    for got, want in zip(run(ops), run(numpy)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert any(beta != 0 for beta in calls)   # the update inside the gemm


@gpu
def test_float32_training_on_the_gpu_follows_numpys(cp):
    """float32 stays float32 on the GPU, and a few epochs end near NumPy's float32 run
    (cuBLAS and OpenBLAS sum in other orders: float32's rounding, not a bug)."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((120, 10)).astype(np.float32), rng.integers(0, 4, 120)

    def run(backend):
        net = MLP([10, 32, 4], dtype="float32", rng=3, backend=backend)
        state = fit(net, X, y, get_loss("softmax_cross_entropy"),
                    SGD(net.params, lr=0.05, backend=net.ops), epochs=3, batch_size=20,
                    state=TrainState(shuffle_rng=np.random.default_rng(0)),
                    log=lambda *a: None)
        return [net.ops.to_numpy(q, copy=True) for q in net.params], state.history

    (gpu_params, gpu_rows), (cpu_params, cpu_rows) = run("cupy"), run("numpy")
    for got, want in zip(gpu_params, cpu_params):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for a, b in zip(gpu_rows, cpu_rows):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)


@gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_draws_on_the_gpu_follow_the_numpy_generator(cp, dtype):
    """uniform_: [0, 1) in the mask's dtype, the same draws for the same generator state
    and other draws after it has moved on."""
    ops = make("cupy")
    M = cp.empty((64, 33), dtype)
    ops.uniform_(M, np.random.default_rng(9))
    first = M.get()
    ops.uniform_(M, np.random.default_rng(9))
    np.testing.assert_array_equal(M.get(), first)
    rng = np.random.default_rng(9)
    ops.uniform_(M, rng)
    ops.uniform_(M, rng)
    assert not np.array_equal(M.get(), first)
    assert first.dtype == dtype and first.min() >= 0 and first.max() < 1
    assert abs(first.mean() - 0.5) < 0.05


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
