"""The lecture's two-layer closed form equals the general engine."""

import numpy as np
import pytest

from manualnn import MLP, get_loss, two_layer_gradients


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu"])
def test_closed_form_equals_engine(rng, activation):
    X = rng.standard_normal((13, 6))
    y = rng.integers(0, 4, 13)
    net = MLP([6, 9, 4], activation=activation, bias=False, dtype="float64", rng=rng)
    _, (dW1, dW2) = net.loss_and_grad(X, y, get_loss("softmax_cross_entropy"))
    g1, g2 = two_layer_gradients(X, y, net.W[0], net.W[1], activation)
    np.testing.assert_allclose(g1, dW1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g2, dW2, rtol=1e-12, atol=1e-15)


def test_closed_form_rejects_mismatched_weights(rng):
    X = rng.standard_normal((4, 3))
    with pytest.raises(ValueError, match=r"W2: expected shape \(5, 2\)"):
        two_layer_gradients(X, [0, 1, 0, 1], np.ones((3, 5)), np.ones((4, 2)))
