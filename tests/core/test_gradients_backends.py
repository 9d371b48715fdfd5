"""The hand-written gradients on every installed backend (tests/backends.py) equal
autograd's and finite differences in float64, as test_gradients holds NumPy's."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from test_gradients import build, cases, make_case, relative

from autograd_reference import gradients as autograd_gradients
from backends import BACKENDS, make, on
from manualnn import get_loss, gradcheck


def grads_on(ops, net, X, y, w, loss):
    dev = on(ops, net)
    put = ops.from_host
    _, grads = dev.loss_and_grad(put(X), put(y), loss, None if w is None else put(w))
    return dev, [ops.to_numpy(g, copy=True) for g in grads]


@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
@given(case=cases)
@example(case={"seed": 424969, "widths": [1, 1, 2, 1], "hidden": "relu", "output": "tanh",
               "loss_name": "binary_cross_entropy", "bias": False, "m": 1, "weighted": False})
def test_backward_equals_autograd_on_every_backend(name, case):
    """(The example: every gradient about 2e-9, from tanh's output within 1e-9 of its
    target, where manualnn and autograd differ by 1e-8 of it: see ``relative``.)"""
    c, net, X, y, w = build(case)
    ops = make(name)
    dev, grads = grads_on(ops, net, X, y, w, get_loss(c["loss_name"]))
    assert all(type(p) is type(dev.W[0]) for p in dev.grads)   # array type in, type out
    names = [a.name for a in net.activations]
    expected = autograd_gradients(net.params, X, y, w, names, net.bias, c["loss_name"])
    for pname, g, e in zip(net.param_names, grads, expected):
        assert relative(g, e) <= 1e-10, f"{name} {pname}: against autograd"


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("hidden, loss_name", [("tanh", "softmax_cross_entropy"),
                                               ("gelu", "mse"),
                                               ("sigmoid", "binary_cross_entropy")])
def test_backward_equals_finite_differences_on_every_backend(name, hidden, loss_name):
    net, X, y, w = make_case(3, [5, 7, 4], hidden, "identity", loss_name, True, 6, True)
    dev = on(make(name), net)
    errors = gradcheck(dev, X, y, loss_name, w, h=1e-4, max_entries=None)
    assert set(errors) == set(net.param_names) and max(errors.values()) <= 1e-6, errors
