"""The fast backend gives the NumPy backend's numbers: BLAS gemm/axpy updates, the
optimizers' updates made inside backward (SGD's folded into the product), and the compiled
Adam, relu layer and softmax cross-entropy loops against their NumPy passes."""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from manualnn import MLP, get_activation, get_loss
from manualnn.backend import blas, get_backend, kernels
from manualnn.backend.fast import AXPY_MIN, FastBackend
from manualnn.backend.numpy import NumpyBackend
from manualnn.train import TrainState, fit
from manualnn.train.optim import SGD, Adam, AdamW

FAST_REASON = "numba is not installed (pip install 'manualnn[fast]')"


@pytest.fixture(params=["fast", "numpy"])
def backend(request):
    """Run a test on the fast backend (where numba is installed) and on the NumPy one."""
    if request.param == "fast" and importlib.util.find_spec("numba") is None:
        pytest.skip(FAST_REASON)
    return get_backend(request.param)


def on_and_off(compute):
    """[compute(the fast backend), compute(the NumPy backend)]."""
    return [compute(get_backend("fast")), compute(get_backend("numpy"))]


# -- ops -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["CC", "FF", "FC", "CF"])
@pytest.mark.parametrize("beta", [0.0, 0.7, 1.0])
def test_matmul_add_is_alpha_product_plus_beta_out(backend, dtype, layout, beta, rng):
    def make(shape, order):
        a = rng.standard_normal(shape).astype(dtype)
        return np.asfortranarray(a) if order == "F" else a
    A, B = make((7, 5), layout[0]), make((5, 3), layout[1])
    out = rng.standard_normal((7, 3)).astype(dtype)
    want = -0.3 * (A.astype(np.float64) @ B) + beta * out
    if beta == 0:
        out[...] = np.nan   # BLAS ignores the output's old values when beta = 0
    got = backend.matmul_add(A, B, out, -0.3, beta)
    assert got is out and out.dtype == dtype
    np.testing.assert_allclose(out, want, rtol=1e-5 if dtype == np.float32 else 1e-13,
                               atol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("n", [10, AXPY_MIN, 3 * AXPY_MIN + 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_adds_a_times_x_in_place(backend, n, dtype, rng):
    x, y = rng.standard_normal((2, n)).astype(dtype)
    want = y.astype(np.float64) - 0.25 * x
    scratch = np.empty_like(y)
    assert backend.axpy(-0.25, x, y, scratch) is y
    np.testing.assert_allclose(y, want, rtol=1e-6 if dtype == np.float32 else 1e-15)


# -- the fused SGD step --------------------------------------------------------------------
SGDS = {
    "plain": {"lr": 0.1},
    "decay": {"lr": 0.1, "weight_decay": 0.05},
    "momentum": {"lr": 0.05, "momentum": 0.9},
    "momentum-decay-masked": {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1,
                                  "decay_mask": [False, False, True, False]},
    "nesterov": {"lr": 0.05, "momentum": 0.9, "nesterov": True},
}


def _two_nets(seed=3, dropout=0.0, backend="auto"):
    """Two equal networks (with equal dropout masks to come)."""
    return [MLP([6, 9, 4], activation="tanh", dtype="float64", rng=seed, dropout=dropout,
                backend=backend) for _ in range(2)]


@pytest.mark.parametrize("name", sorted(SGDS))
def test_fused_sgd_steps_like_the_plain_step(backend, name, rng):
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)
    loss = get_loss("softmax_cross_entropy")
    fused_net, plain_net = _two_nets(backend=backend)
    fused = SGD(fused_net.params, **SGDS[name], backend=backend)
    plain = SGD(plain_net.params, **SGDS[name], backend=backend)
    done = []

    def hook(i, Z, D):   # as train.step.Step wires it, recording each answer
        k = fused_net.weight_index(i)
        done.append(fused.update_product(k, Z, D, fused_net.grads[k]))
        return done[-1]

    for start in (0, 10, 20, 30, 0, 10):
        rows = slice(start, start + 10)
        fused.step(fused_net.loss_and_grad(X[rows], y[rows], loss, hook=hook)[1])
        plain.step(plain_net.loss_and_grad(X[rows], y[rows], loss)[1])
    for got, want in zip(fused_net.params, plain_net.params):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    assert done == [True] * 12 and fused.t == plain.t == 6   # both weights, six steps
    # the gemm form where BLAS is here, except with nesterov and with L2 decay under
    # momentum (on W_2 only); the other weights step from their formed gradient at once
    blas = backend.fuses_products and name != "nesterov"
    want = [blas, False, blas and name != "momentum-decay-masked", False]
    assert fused._fusable == want


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: AdamW(p, lr=0.01)])
def test_fit_updates_inside_backward_like_the_clipped_path_when_clipping_is_off(make, rng):
    """train.fit lets the optimizer step each weight inside backward; with clip_norm huge
    (never clipping) it forms all gradients first instead: the weights agree."""
    X, y = rng.standard_normal((64, 6)), rng.integers(0, 4, 64)
    loss = get_loss("softmax_cross_entropy")
    nets = _two_nets(dropout=0.3)
    for net, clip in zip(nets, (None, 1e30)):
        opt, calls = make(net.params), []
        inner = opt.update_product
        opt.update_product = lambda *a, inner=inner, calls=calls: calls.append(a[0]) or inner(*a)
        fit(net, X, y, loss, opt, epochs=3, batch_size=16, clip_norm=clip,
            state=TrainState(shuffle_rng=np.random.default_rng(0)), log=lambda *a: None)
        # 3 epochs x 4 batches x (W_2, W_1) inside backward, or none when clipping
        assert calls == ([2, 0] * 12 if clip is None else [])
    for got, want in zip(nets[0].params, nets[1].params):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_no_fused_update_when_the_loss_is_not_finite(rng):
    net = MLP([3, 4, 2], dtype="float64", rng=0)
    net.W[1][0, 0] = np.inf
    calls = []
    with np.errstate(invalid="ignore"):
        value, _ = net.loss_and_grad(rng.standard_normal((5, 3)), np.zeros(5, int),
                                     get_loss("softmax_cross_entropy"),
                                     hook=lambda *a: calls.append(a) or True)
    assert not np.isfinite(value) and calls == []


# -- the Adam kernel -----------------------------------------------------------------------
@pytest.mark.parametrize("w", [0.1, 0.7])   # the two branches of torch's lerp
@pytest.mark.parametrize("keep", [1.0, 0.99])
@pytest.mark.parametrize("decay", [0.0, 3e-4])
def test_compiled_adam_is_the_numpy_passes_bit_for_bit_in_float64(w, keep, decay, rng):
    pytest.importorskip("numba", reason=FAST_REASON)
    assert kernels.compiled("adam"), "numba is installed, so the kernel must compile"
    p, g, m, v = rng.standard_normal((4, 3000))
    v = np.abs(v)
    kw = {"w": w, "beta2": 0.99, "step": 3e-3, "scale": 1.7, "eps": 1e-8, "keep": keep,
          "decay": decay}
    a, b = [x.copy() for x in (p, g, m, v)], [x.copy() for x in (p, g, m, v)]
    kernels.compiled("adam")(a[0], a[1], a[2], a[3], w < 0.5,
                             np.array([w, 1 - w, 0.99, 1 - 0.99, -3e-3, 1.7, 1e-8, keep, decay]))
    NumpyBackend().adam_(*b, np.empty_like(p), **kw)
    for x, y in zip(a[::2] + a[3:], b[::2] + b[3:]):   # p, m, v
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a[1], g)   # the loop adds the penalty without storing it
    np.testing.assert_array_equal(b[1], g + p * decay)   # the NumPy passes store it


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_trains_alike_with_and_without_the_kernel(backend, cls, dtype, rng):
    X = rng.standard_normal((48, 6)).astype(dtype)
    y = rng.integers(0, 4, 48)
    net = MLP([6, 9, 4], dtype=dtype, rng=5, backend=backend)
    opt = cls(net.params, lr=0.01, weight_decay=0.1, decay_mask=[True, False] * 2,
              backend=backend)
    loss = get_loss("softmax_cross_entropy")
    for start in range(0, 48, 8):
        opt.step(net.loss_and_grad(X[start:start + 8], y[start:start + 8], loss)[1])
    assert all(p.dtype == dtype for p in net.params + opt.m + opt.v)
    want = _adam_reference(cls, dtype, X, y)
    tol = 2e-5 if dtype == "float32" else 1e-13
    for got, ref in zip(net.params, want):
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("m, k", [(1, 3), (7, 1), (100, 10), (33, 4)])
def test_compiled_softmax_cross_entropy_is_the_numpy_passes(dtype, order, eps, m, k, rng):
    pytest.importorskip("numba", reason=FAST_REASON)
    assert kernels.compiled("softmax_cross_entropy")
    Z = np.asarray(rng.standard_normal((m, k)) * 5, dtype=dtype, order=order)
    Z[::3, 0] = Z[::3, -1]   # ties between the label's logit and another
    y = rng.integers(0, k, m)
    (fast, G_fast, wrong_fast), (slow, G_slow, wrong_slow) = _both_paths(Z, y, eps)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    assert wrong_fast == wrong_slow and G_fast.dtype == dtype
    assert fast == pytest.approx(slow, rel=tol)
    np.testing.assert_allclose(G_fast, G_slow, rtol=tol, atol=tol / m)


def test_compiled_softmax_cross_entropy_passes_nan_on(rng):
    pytest.importorskip("numba", reason=FAST_REASON)
    Z = rng.standard_normal((5, 4))
    Z[2, 1], Z[4] = np.nan, np.inf
    with np.errstate(invalid="ignore"):
        (fast, _, wrong_fast), (slow, _, wrong_slow) = _both_paths(Z, np.array([0, 1, 1, 2, 3]))
    assert np.isnan(fast) and np.isnan(slow) and wrong_fast == wrong_slow


# -- the relu loops --------------------------------------------------------------------
def _relu_both_paths(A, b, G):
    """(Z, D, db) of a relu layer with a bias, from the compiled loops, then from NumPy's."""
    relu = get_activation("relu")

    def layer(ops):
        Z = relu.forward_layer_(A.copy(), b, None, ops)
        db = np.full_like(b, np.nan)
        return Z, relu.backward_layer_(G.copy(), None, Z.copy(), db, ops), db
    return on_and_off(layer)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, n", [(1, 1), (7, 3), (200, 100)])
def test_compiled_relu_layer_is_the_numpy_passes(dtype, m, n, rng):
    pytest.importorskip("numba", reason=FAST_REASON)
    assert kernels.compiled("relu_bias") and kernels.compiled("relu_backward")
    A = rng.standard_normal((m, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    G = rng.standard_normal((m, n)).astype(dtype)
    A[0, 0] = -b[0]   # A + b exactly 0: the mask is 0 there
    (Zc, Dc, dbc), (Zn, Dn, dbn) = _relu_both_paths(A, b, G)
    assert Zc.dtype == Dc.dtype == dbc.dtype == dtype
    np.testing.assert_array_equal(Zc, Zn)
    np.testing.assert_array_equal(Dc, Dn)
    D0 = G.copy()
    assert FastBackend().relu_backward_(D0, Zc.copy(), None)   # no bias: no sums, same D
    np.testing.assert_array_equal(D0, Dn)
    tol = 1e-5 if dtype == np.float32 else 1e-13   # the column sums add in another order
    np.testing.assert_allclose(dbc, dbn, rtol=tol, atol=tol * np.abs(Dn).sum(0).max())


def test_compiled_relu_layer_passes_nan_inf_and_signed_zeros_on_as_numpy_does():
    pytest.importorskip("numba", reason=FAST_REASON)
    A = np.array([[np.nan, np.inf, -np.inf, -0.0, 0.0, 2.0]])
    b = np.zeros(6)
    G = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, np.nan]])
    with np.errstate(invalid="ignore"):
        (Zc, Dc, dbc), (Zn, Dn, dbn) = _relu_both_paths(A, b, G)
    np.testing.assert_array_equal(Zc, Zn)
    np.testing.assert_array_equal(np.signbit(Zc), np.signbit(Zn))
    np.testing.assert_array_equal(Dc, Dn)
    np.testing.assert_array_equal(np.signbit(Dc), np.signbit(Dn))
    np.testing.assert_array_equal(dbc, dbn)
    assert np.isnan(Zc[0, 0]) and np.isnan(Dc[0, 0]) and np.isnan(Dc[0, 5])


def test_relu_layer_takes_numpys_passes_where_the_loop_cannot_run(rng):
    """An F-ordered A, a bias of another dtype, no bias: the hooks still compute the layer."""
    relu, fast = get_activation("relu"), FastBackend()
    A = np.asfortranarray(rng.standard_normal((5, 4)))
    b = rng.standard_normal(4)
    for args in ((A.copy(order="K"), b), (A.copy(order="C"), b.astype(np.float32)),
                 (A.copy(order="C"), None)):
        want = np.maximum(args[0] + (0 if args[1] is None else args[1]), 0)
        np.testing.assert_array_equal(relu.forward_layer_(*args, None, fast), want)
    G, Z = rng.standard_normal((5, 4)), np.maximum(A, 0)
    D = relu.backward_layer_(np.asfortranarray(G), None, Z.copy(), db := np.empty(4), fast)
    np.testing.assert_array_equal(D, G * (Z > 0))
    np.testing.assert_allclose(db, (G * (Z > 0)).sum(0), rtol=1e-14)
    np.testing.assert_array_equal(relu.backward_layer_(G.copy(), None, Z.copy(), None, fast),
                                  G * (Z > 0))   # no bias: no sums to keep


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_network_gradients_are_the_same_with_and_without_the_relu_loops(dtype, bias, rng):
    X = rng.standard_normal((30, 8)).astype(dtype)
    y = rng.integers(0, 3, 30)
    loss = get_loss("softmax_cross_entropy")

    def step(ops):
        net = MLP([8, 16, 12, 3], dtype=dtype, bias=bias, rng=2, backend=ops)
        value, grads = net.loss_and_grad(X, y, loss)
        return value, [g.copy() for g in grads]
    out = on_and_off(step)
    tol = 1e-5 if dtype == "float32" else 1e-13
    assert out[0][0] == pytest.approx(out[1][0], rel=tol)
    for got, want in zip(out[0][1], out[1][1]):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _both_paths(Z, y, eps=0.0):
    """(loss, G, errors) from the compiled loop, then from the NumPy passes."""
    def loss_and_G(ops):
        loss, G = get_loss("softmax_cross_entropy", label_smoothing=eps), Z.copy(order="K")
        value, errors = loss.value_and_grad_(G, y, None, ops)
        return value, G, errors
    return on_and_off(loss_and_G)


def _adam_reference(cls, dtype, X, y):
    """The same run with the NumPy passes, always."""
    net = MLP([6, 9, 4], dtype=dtype, rng=5, backend="numpy")
    opt = cls(net.params, lr=0.01, weight_decay=0.1, decay_mask=[True, False] * 2,
              backend="numpy")
    loss = get_loss("softmax_cross_entropy")
    for start in range(0, 48, 8):
        opt.step(net.loss_and_grad(X[start:start + 8], y[start:start + 8], loss)[1])
    return net.params


def test_auto_is_the_fast_backend_unless_the_environment_says_numpy(monkeypatch):
    pytest.importorskip("numba", reason=FAST_REASON)
    monkeypatch.delenv("MANUALNN_KERNELS", raising=False)
    assert get_backend("auto") is get_backend("fast") is get_backend() and \
        get_backend().name == "fast"
    monkeypatch.setenv("MANUALNN_KERNELS", "numpy")
    assert get_backend("auto").name == "numpy" and MLP([2, 2]).ops.name == "numpy"
    assert get_backend("fast").name == "fast"   # asked for by name: the variable is no veto


def test_a_backend_is_named_or_passed_through():
    ops = get_backend("numpy")
    assert get_backend(ops) is ops and MLP([2, 2], backend=ops).ops is ops
    with pytest.raises(ValueError, match=r"backend: expected one of \['auto', 'numpy', "
                                         r"'fast', 'cupy', 'array_api'\]"):
        get_backend("gpu")
    with pytest.raises(TypeError, match="backend: expected one of .* got int"):
        get_backend(3)


def test_the_fast_backend_without_numba_says_which_extra(monkeypatch):
    from manualnn import backend as package
    monkeypatch.setattr(package, "_numba_installed", lambda: False)
    monkeypatch.setattr(package, "_MADE", {})
    monkeypatch.delenv("MANUALNN_KERNELS", raising=False)
    assert get_backend("auto").name == "numpy"
    with pytest.raises(ImportError, match=r"pip install 'manualnn\[fast\]'"):
        get_backend("fast")


ONE_POOL = """
import numpy as np
import threadpoolctl
from threadpoolctl import threadpool_info
from manualnn import MLP, get_loss
from manualnn.backend import blas, threads
from manualnn.train.optim import SGD
from manualnn.train.step import Step
{preload}
with {limits}:
    nets = [MLP([784, 400, 10], bias=False, dtype="float32", rng=0, backend=b)
            for b in ("fast", "numpy")]
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 784)).astype(np.float32)
    y = rng.integers(0, 10, 100)
    loss = get_loss("softmax_cross_entropy")
    fused = SGD(nets[0].params, lr=0.2, backend=nets[0].ops)
    plain = SGD(nets[1].params, lr=0.2, backend=nets[1].ops)
    assert nets[0].ops.fuses_products and fused._fusable == [True, True]
    for _ in range(3):
        Step(nets[0], loss, fused)(X, y)
        plain.step(nets[1].loss_and_grad(X, y, loss)[1])
    for got, want in zip(nets[0].params, nets[1].params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    pools = {{d["filepath"]: d["num_threads"] for d in threadpool_info()
              if d["user_api"] == "blas"}}
    print(blas.library() == threads.blas_info()["filepath"], sum(n > 1 for n in pools.values()),
          len(pools))
"""


def _one_pool(preload="", limits="threads.limit_threads(2)"):
    pytest.importorskip("numba", reason=FAST_REASON)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "", "OMP_NUM_THREADS": "",
           "MANUALNN_KERNELS": ""}
    code = ONE_POOL.format(preload=preload, limits=limits)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=False)
    assert out.returncode == 0, out.stderr
    same, busy, pools = out.stdout.split()
    return same == "True", int(busy), int(pools)


def test_a_fused_sgd_step_on_two_threads_leaves_one_blas_pool_multithreaded():
    """The two-pools defect: the fused SGD update ran on scipy's OpenBLAS, the other
    products on NumPy's, and the two pools' spinning threads took the cores from each
    other.  Now the update calls NumPy's own library: after fused steps on 2 threads
    (equal to NumPy's unfused steps) at most one BLAS library has more than one thread."""
    same, busy, _ = _one_pool()
    assert same and busy == 1


def test_the_fused_update_calls_numpys_blas_even_where_another_blas_is_loaded():
    """A user's scipy brings a second OpenBLAS, loaded before manualnn and left at 2
    threads (no limit_threads) before the first step: the fused update still goes to NumPy's library, so the
    step's products share one pool and the other stays idle."""
    pytest.importorskip("scipy", reason="scipy is not installed")
    same, _, pools = _one_pool("import scipy.linalg.blas", "threadpoolctl.threadpool_limits(2)")
    assert same and pools == 2


def test_the_numpy_blas_is_the_one_in_numpys_folder_or_the_only_one():
    home = os.path.dirname(os.path.dirname(os.path.realpath(np.__file__)))
    mine = os.path.join(home, "numpy.libs", "libopenblas64_.so")
    other = "/usr/lib/libopenblas.so"
    info = [{"user_api": "blas", "filepath": p} for p in (other, mine)]
    assert blas._numpy_blas_path(info) == mine
    assert blas._numpy_blas_path(info[:1]) == other   # the only BLAS loaded is NumPy's
    assert blas._numpy_blas_path([*info[:1], {"user_api": "blas", "filepath": "/x.so"}]) is None
    assert blas._numpy_blas_path([{"user_api": "openmp", "filepath": mine}]) is None


def test_without_64_bit_cblas_routines_the_updates_fall_back_to_numpy(monkeypatch, rng):
    monkeypatch.setattr(blas, "_STATE", {})
    monkeypatch.setattr(blas, "_NAMES", ("no_such_routine_{}",))
    ops = FastBackend()
    assert not ops.fuses_products and blas.library() is None
    A, B, out = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), np.ones((4, 2))
    want = 2.0 * A @ B + 0.5
    np.testing.assert_allclose(ops.matmul_add(A, B, out, 2.0, 0.5), want, rtol=1e-14)


def test_a_numba_that_cannot_compile_falls_back_to_numpy_with_a_warning(monkeypatch):
    numba = pytest.importorskip("numba", reason="numba is not installed (manualnn[fast])")

    def broken_njit(**options):   # as numba without a writable cache folder
        raise RuntimeError("cannot cache function '_adam_loop': no locator available")

    monkeypatch.setattr(numba, "njit", broken_njit)
    monkeypatch.setattr(kernels, "_COMPILED", {})
    with pytest.warns(RuntimeWarning, match="could not compile"):
        assert kernels.compiled("adam") is False
    p, g, m, v = np.ones((4, 8))
    FastBackend().adam_(p, g, m, v, np.empty(8), w=0.1, beta2=0.9, step=0.1, scale=1.0,
                        eps=1e-8)
    assert np.all(p < 1)   # the NumPy passes stepped it


def test_compiled_softmax_cross_entropy_refuses_a_label_it_cannot_index(rng):
    """Compiled code has no bounds checks: the loop must stop at such a label, not read
    past the row (value_and_grad_ trusts its caller, but never with memory)."""
    pytest.importorskip("numba", reason=FAST_REASON)
    loss = get_loss("softmax_cross_entropy")
    for bad in (4, -1, 10**12):
        with pytest.raises(ValueError, match=rf"y: expected labels in \[0, 4\), got {bad}"):
            loss.value_and_grad_(rng.standard_normal((6, 4)), np.array([0, 1, bad, 2, 3, 0]),
                                 None, FastBackend())


@pytest.mark.parametrize("ops", [FastBackend(), NumpyBackend()], ids=["fast", "numpy"])
def test_adam_refuses_arrays_of_other_shapes(ops):
    p = np.ones(8)
    with pytest.raises(ValueError, match=r"g, m, v: expected the shape \(8,\) of p"):
        ops.adam_(p, np.ones(4), np.ones(8), np.ones(8), np.ones(8), w=0.1, beta2=0.9,
                  step=0.1, scale=1.0, eps=1e-8)
