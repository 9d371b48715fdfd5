"""The hand-written backward pass equals finite differences and autograd, in float64."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autograd_reference import gradients as autograd_gradients
from manualnn import ACTIVATIONS, LOSSES, MLP, get_loss, gradcheck
from numeric import numerical_gradient

BUILTIN = ["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "gelu"]
KINKED = {"relu", "leaky_relu"}
LARGEST = {"autograd": 0.0, "finite differences": 0.0}


def make_case(seed, widths, hidden, output, loss_name, bias, m, weighted):
    rng = np.random.default_rng(seed)
    net = MLP(widths, activation=hidden, output=output, bias=bias, dtype="float64", rng=rng)
    for b in net.b or ():
        b[...] = rng.normal(scale=0.3, size=b.shape)
    X = rng.standard_normal((m, widths[0]))
    k = widths[-1]
    if loss_name == "softmax_cross_entropy":
        y = rng.integers(0, k, m)
    elif loss_name == "mse":
        y = rng.standard_normal((m, k))
    else:
        y = rng.uniform(size=(m, k))
    w = rng.uniform(0.1, 2.0, m) if weighted else None
    return net, X, y, w


def pre_activations(net, X):
    Z, out = X, []
    for i, act in enumerate(net.activations):
        A = Z @ net.W[i] + (net.b[i] if net.bias else 0)
        out.append((act.name, A))
        Z = act.value(A)
    return out


def relative(a, b):
    """max |a - b| over the larger of max |a|, max |b| and 1e-6.  The floor: a gradient
    far below the loss's own scale comes out of a cancellation (p - y with p within 1e-9
    of y), where two right formulas differ by a rounding of the terms, not of the result;
    a wrong gradient of that size still gives an error of order 1."""
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-6)
    return float(np.abs(a - b).max() / scale)


cases = st.fixed_dictionaries({
    "seed": st.integers(0, 2**32 - 1),
    "widths": st.lists(st.integers(1, 17), min_size=2, max_size=5),
    "hidden": st.sampled_from(BUILTIN),
    "output": st.sampled_from(BUILTIN),
    "loss_name": st.sampled_from(sorted(LOSSES)),
    "bias": st.booleans(),
    "m": st.sampled_from([1, 2, 3, 7, 16]),
    "weighted": st.booleans(),
})


def build(case):
    c = dict(case)
    if c["loss_name"] == "softmax_cross_entropy":
        c["output"] = "identity"
    net, X, y, w = make_case(**c)
    kinks = [np.abs(A).min() for name, A in pre_activations(net, X) if name in KINKED]
    assume(not kinks or min(kinks) > 1e-3)   # finite differences are wrong across a kink
    return c, net, X, y, w


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases)
def test_backward_equals_autograd(case):
    c, net, X, y, w = build(case)
    loss = get_loss(c["loss_name"])
    _, grads = net.loss_and_grad(X, y, loss, w)
    names = [a.name for a in net.activations]
    expected = autograd_gradients(net.params, X, y, w, names, net.bias, c["loss_name"])
    for name, g, e in zip(net.param_names, grads, expected):
        err = relative(g, e)
        LARGEST["autograd"] = max(LARGEST["autograd"], err)
        assert err <= 1e-10, f"{name}: relative error {err:.3g} against autograd"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases)
def test_backward_equals_finite_differences(case):
    c, net, X, y, w = build(case)
    # Central differences lose about 1e-16 |f| / h to rounding, so they can only check an
    # array whose gradient stands well above that (autograd checks the rest to 1e-10).
    f, grads = net.loss_and_grad(X, y, get_loss(c["loss_name"]), w)
    assume(min(np.abs(g).max() for g in grads) > 1e-3 * max(1.0, abs(f)))
    # A small step keeps the stencil off relu's kink; elsewhere a larger one keeps rounding
    # noise (about 1e-16 |f| / h) small next to gradients that chains of sigmoids shrink.
    kinked = any(a.name in KINKED for a in net.activations)
    errors = gradcheck(net, X, y, c["loss_name"], w, h=1e-5 if kinked else 1e-4,
                       max_entries=48, rng=c["seed"])
    assert set(errors) == set(net.param_names)
    worst = max(errors.values())
    LARGEST["finite differences"] = max(LARGEST["finite differences"], worst)
    assert worst <= 1e-6, errors


@pytest.mark.parametrize("smoothing", [0.1, 0.5])
def test_label_smoothing_equals_autograd(rng, smoothing):
    net, X, y, w = make_case(7, [6, 8, 5], "tanh", "identity", "softmax_cross_entropy",
                             True, 9, True)
    loss = get_loss("softmax_cross_entropy", label_smoothing=smoothing)
    _, grads = net.loss_and_grad(X, y, loss, w)
    expected = autograd_gradients(net.params, X, y, w, ["tanh", "identity"], True,
                                  "softmax_cross_entropy", smoothing)
    for g, e in zip(grads, expected):
        assert relative(g, e) <= 1e-10


def test_input_gradient_equals_autograd(rng):
    import autograd.numpy as anp
    from autograd import grad
    net = MLP([4, 6, 3], activation="gelu", dtype="float64", rng=rng)
    X = rng.standard_normal((5, 4))
    Z = net.forward(X)
    G = rng.standard_normal(Z.shape)
    _, G1 = net.backward(G, input_grad=True)

    def f(X):
        A = X @ net.W[0] + net.b[0]
        H = 0.5 * A * (1 + anp.tanh((2 / anp.pi) ** 0.5 * (A + 0.044715 * A ** 3)))
        return anp.sum((H @ net.W[1] + net.b[1]) * G)
    assert relative(G1, grad(f)(X)) <= 1e-10


def test_dropout_gradient_uses_the_same_mask(rng):
    """With the mask held fixed, backward is the exact gradient of the dropped network."""
    net = MLP([5, 9, 7, 3], activation="tanh", dtype="float64", rng=3, dropout=0.4)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    loss = get_loss("softmax_cross_entropy")

    def f():
        net.rng = np.random.default_rng(99)
        return net.loss_and_grad(X, y, loss)[0]

    f()
    analytic = [g.copy() for g in net.grads]
    for p, g in zip(net.params, analytic):
        assert relative(g, numerical_gradient(f, p, h=1e-6)) <= 1e-7
    assert any((M == 0).any() for M in net._ws.M.values()), "some units must be dropped"


def test_dropout_is_off_at_evaluation(rng):
    net = MLP([5, 50, 3], dropout=0.5, rng=1)
    X = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(net(X), net(X))
    np.testing.assert_array_equal(net.forward(X), net(X))
    assert not np.array_equal(net.forward(X, train=True), net(X))


def test_registered_activation_gets_exact_gradients(rng):
    from manualnn import register_activation
    register_activation("cube", lambda A: A ** 3, lambda A: 3 * A ** 2)
    try:
        net = MLP([3, 4, 2], activation="cube", dtype="float64", rng=rng)
        X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
        assert max(gradcheck(net, X, y, h=1e-6).values()) <= 1e-7
    finally:
        del ACTIVATIONS["cube"]


def test_gradcheck_catches_a_wrong_derivative(rng):
    from manualnn import register_activation
    register_activation("bad_tanh", np.tanh, lambda A: 1 - 2 * np.tanh(A) ** 2)
    try:
        net = MLP([3, 4, 2], activation="bad_tanh", dtype="float64", rng=rng)
        X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
        errors = gradcheck(net, X, y)
        assert errors["W1"] > 1e-2 and errors["W2"] < 1e-8
    finally:
        del ACTIVATIONS["bad_tanh"]


def test_gradcheck_reports_nan_where_every_entry_straddles_a_kink(rng):
    net = MLP([2, 1, 2], dtype="float64", rng=rng)
    X = np.array([[1.0, -2.0]])
    net.b[0][0] = 1e-5 - X[0] @ net.W[0][:, 0]   # the one hidden unit a hair above 0
    skipped = {}
    errors = gradcheck(net, X, np.array([1]), h=1e-4, skipped=skipped)
    assert skipped["W1"] == 2 and skipped["b1"] == 1
    assert np.isnan(errors["W1"]) and np.isnan(errors["b1"])   # not "0: all good"
    assert errors["W2"] < 1e-6


def test_gradcheck_leaves_out_entries_whose_stencil_straddles_a_kink(rng):
    net = MLP([2, 3, 2], dtype="float64", rng=rng)
    X = rng.standard_normal((4, 2))
    # put unit 0 of row 0 a hair (1e-5) above relu's kink: a step of 1e-4 crosses it
    net.b[0][0] = 1e-5 - X[0] @ net.W[0][:, 0]
    y = np.array([0, 1, 0, 1])
    skipped = {}
    errors = gradcheck(net, X, y, h=1e-4, skipped=skipped)
    assert skipped["b1"] >= 1 and max(errors.values()) < 1e-8
    assert max(gradcheck(net, X, y, h=1e-7).values()) < 1e-6   # no crossing with a tiny step
