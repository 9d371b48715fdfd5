"""Activations and losses: values, stability at the edges of float32, dtype, errors."""

import math

import numpy as np
import pytest

from manualnn import ACTIVATIONS, get_activation, get_loss
from manualnn.backend import get_backend

EDGE32 = np.array([-3.4e38, -1e30, -1e4, -100.0, -88.0, -20.0, -1.0, 0.0, 1.0, 20.0, 88.0,
                   100.0, 1e4, 1e30, 3.4e38], dtype=np.float32)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_is_finite_and_float32_at_the_edges(name):
    act = get_activation(name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        Z = act.value(EDGE32.copy())
        dZ = act.derivative(EDGE32.copy(), Z)
    assert Z.dtype == np.float32 and dZ.dtype == np.float32
    assert np.isfinite(Z).all() and np.isfinite(dZ).all(), (Z, dZ)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_in_place_hooks_equal_the_plain_functions(name, rng):
    act = get_activation(name)
    A = rng.standard_normal((7, 5)) * 3
    Z = act.value(A)
    G = rng.standard_normal(A.shape)
    if act.from_output:
        np.testing.assert_allclose(act.forward_(A.copy()), Z, rtol=1e-15)
    np.testing.assert_allclose(act.backward_(G.copy(), A.copy(), Z.copy()),
                               G * act.derivative(A, Z), rtol=1e-15)


def test_activation_values_at_known_points():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(get_activation("relu").value(x), [0, 0, 3])
    np.testing.assert_allclose(get_activation("leaky_relu").value(x), [-0.02, 0, 3])
    np.testing.assert_allclose(get_activation("sigmoid").value(x),
                               1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(get_activation("softplus").value(x), np.log1p(np.exp(x)),
                               rtol=1e-15)
    gelu = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(get_activation("gelu").value(x), gelu, rtol=1e-15)
    # far in the tails the stable forms are exact, not merely finite
    big = np.array([-800.0, 800.0])
    np.testing.assert_array_equal(get_activation("sigmoid").value(big), [0.0, 1.0])
    np.testing.assert_array_equal(get_activation("softplus").value(big), [0.0, 800.0])
    np.testing.assert_array_equal(get_activation("gelu").value(big), [-0.0, 800.0])


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match=r"activation: expected one of \[.*'relu'.*\], got 'rleu'"):
        get_activation("rleu")


def test_softmax_loss_of_zero_logits_is_ln_k():
    loss, G = get_loss("softmax_cross_entropy")(np.zeros((4, 10)), [0, 3, 9, 1])
    assert loss == pytest.approx(math.log(10), abs=1e-12)
    expected = np.full((4, 10), 0.1)
    expected[np.arange(4), [0, 3, 9, 1]] -= 1
    np.testing.assert_allclose(G, expected / 4, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_give_finite_loss_and_exact_gradient(dtype):
    Z = np.array([[1e4, 0.0, -1e4], [3e4, 3e4 - 2.0, -5e4]], dtype=dtype)
    loss, G = get_loss("softmax_cross_entropy")(Z, [1, 1])
    # row 1: loss 1e4, softmax (1, 0, 0); row 2: log(1 + e^-2) + 2
    expected = (1e4 + (2 + math.log1p(math.exp(-2)))) / 2
    assert loss == pytest.approx(expected, rel=1e-6)
    s = 1 / (1 + math.exp(-2))
    expected_G = np.array([[1, -1, 0], [s, (1 - s) - 1, 0]]) / 2
    np.testing.assert_allclose(G, expected_G, atol=1e-6)
    assert G.dtype == dtype


def test_binary_cross_entropy_is_stable_for_huge_logits():
    loss, G = get_loss("binary_cross_entropy")(np.array([[1e4, -1e4]], np.float32), [[0, 1]])
    assert loss == pytest.approx(1e4) and np.isfinite(G).all()
    np.testing.assert_allclose(G, [[0.5, -0.5]])


def test_mse_value_and_half():
    Z, Y = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0]])
    assert get_loss("mse")(Z, Y)[0] == pytest.approx((1 + 4 + 1 + 1) / 4)
    assert get_loss("mse", half=True)(Z, Y)[0] == pytest.approx((1 + 4 + 1 + 1) / 8)


def test_sample_weights_weigh_rows():
    Z = np.array([[2.0, 0.0], [0.0, 2.0]])
    loss = get_loss("softmax_cross_entropy")
    a, _ = loss(Z, [0, 0], sample_weight=[1.0, 0.0])
    b, _ = loss(Z[:1], [0])
    assert a == pytest.approx(b)


@pytest.mark.parametrize("y, message", [
    ([0, 5], r"y: expected labels in \[0, 3\), got values from 0 to 5"),
    ([0, -1], r"y: expected labels in \[0, 3\), got values from -1 to 0"),
    ([0.5, 1], r"y: expected integer class labels, got dtype float64"),
    (["a", "b"], r"y: expected integer class labels"),
    ([0, 1, 2], r"y: expected shape \(2,\) to match the 2 rows, got \(3,\)"),
])
def test_bad_labels_are_named(y, message):
    with pytest.raises((ValueError, TypeError), match=message):
        get_loss("softmax_cross_entropy")(np.zeros((2, 3)), y)


def test_bad_loss_inputs_are_named():
    ce = get_loss("softmax_cross_entropy")
    with pytest.raises(ValueError, match="Z: expected finite values"):
        ce(np.array([[np.nan, 0.0]]), [0])
    with pytest.raises(ValueError, match=r"Z: expected at least one row"):
        ce(np.zeros((0, 3)), [])
    with pytest.raises(ValueError, match=r"sample_weight: expected non-negative"):
        ce(np.zeros((2, 3)), [0, 1], sample_weight=[-1.0, 1.0])
    with pytest.raises(ValueError, match=r"y: expected targets in \[0, 1\]"):
        get_loss("binary_cross_entropy")(np.zeros((1, 2)), [[0.0, 2.0]])
    with pytest.raises(ValueError, match=r"y: expected targets of shape \(2, 3\)"):
        get_loss("mse")(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"label_smoothing: expected a value in \[0, 1\)"):
        get_loss("softmax_cross_entropy", label_smoothing=1.0)
    with pytest.raises(ValueError, match=r"loss: expected one of"):
        get_loss("hinge")


def test_cross_entropy_counts_the_misclassified_rows():
    Z = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 1.0, 0.0]])
    y = np.array([0, 2, 2, 1])
    for ops in (None, get_backend("numpy"), get_backend("auto")):
        _, errors = get_loss("softmax_cross_entropy").value_and_grad_(Z.copy(), y, None, ops)
        assert errors == 1   # row 2 is wrong; a tie for the maximum counts as right
    assert get_loss("mse").value_and_grad_(Z.copy(), Z.copy())[1] is None


@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("order", ["C", "F"])
def test_softmax_cross_entropy_is_its_equation(eps, order):
    """The passes of the training step (NumPy's, and the fast backend's loop) against the
    reference written as the equation: S = softmax(Z), G = (S - Q) / m."""
    rng = np.random.default_rng(3)
    Z = np.asarray(rng.standard_normal((37, 6)) * 4, order=order)
    y = rng.integers(0, 6, 37)
    loss = get_loss("softmax_cross_entropy", label_smoothing=eps)
    want, G_want = loss.reference(Z, y)
    for ops in (None, get_backend("auto")):
        G = Z.copy(order="K")
        value, _ = loss.value_and_grad_(G, y, None, ops)
        assert value == pytest.approx(want, rel=1e-13)
        np.testing.assert_allclose(G, G_want, rtol=1e-12, atol=1e-16)


def test_gelu_keeps_relative_accuracy_in_its_negative_tail():
    """float32 against float64 where 1 + tanh(u) would cancel to a few ulps."""
    a = np.array([-3.0, -5.0, -7.0, -9.0])   # -9 gives -1.3e-28, still a normal float32
    gelu = get_activation("gelu")
    exact, fast = gelu.value(a), gelu.value(a.astype(np.float32))
    assert (exact < 0).all()
    np.testing.assert_allclose(fast, exact, rtol=1e-5)
    np.testing.assert_allclose(gelu.derivative(a.astype(np.float32), fast),
                               gelu.derivative(a, exact), rtol=1e-4)
