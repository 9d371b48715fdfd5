"""The training step: one batch's loss, gradients and update, fused into backward or not."""

import numpy as np
import pytest

from manualnn import MLP, get_loss
from manualnn.train.optim import SGD, AdamW
from manualnn.train.step import Step


@pytest.mark.parametrize("clip_norm", [None, 1e30])
@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1), lambda p: AdamW(p, lr=0.01)])
def test_a_loss_that_is_not_finite_updates_nothing(make, clip_norm, rng):
    net = MLP([3, 4, 2], dtype="float64", rng=0)
    opt = make(net.params)   # (an optimizer refuses parameters that are not finite)
    net.W[1][0, 0] = np.inf
    before = [p.copy() for p in net.params]
    with np.errstate(invalid="ignore", over="ignore"):
        value, errors = Step(net, get_loss("softmax_cross_entropy"), opt, clip_norm)(
            rng.standard_normal((5, 3)), np.zeros(5, int))
    assert not np.isfinite(value) and errors is not None and opt.t == 0
    for got, want in zip(net.params, before):
        np.testing.assert_array_equal(got, want)


def test_a_step_reports_its_loss_and_misclassified_rows_and_counts_one_step(rng):
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    net = MLP([3, 4, 2], dtype="float64", rng=0)
    opt = SGD(net.params, lr=0.1)
    loss = get_loss("softmax_cross_entropy")
    Z = net(X)
    want_loss = loss(Z, y)[0]
    value, errors = Step(net, loss, opt)(X, y)
    assert value == pytest.approx(want_loss, rel=1e-14)
    wrong = Z[np.arange(12), y] < Z.max(axis=1)   # a tie for the maximum counts as right
    assert errors == int(np.count_nonzero(wrong)) and opt.t == 1
    assert Step(net, get_loss("mse"), opt)(X, np.eye(2)[y])[1] is None and opt.t == 2
