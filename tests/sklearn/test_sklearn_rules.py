"""The update rules of manualnn.sklearn (sklearn_fit.SGDRule and AdamRule), one step each
against the formulas written out here, with the L2 penalty's gradient c W and the
decoupled weight decay, with the fast paths (numba's loop, scipy's BLAS) on and off."""

import numpy as np
import pytest

from manualnn.backend import get_backend
from manualnn.sklearn.fit import AdamRule, FlatParams, SGDRule

LR, WD, C = 0.01, 0.3, 0.02


@pytest.fixture(params=["fast", "numpy"])
def backend(request):
    if request.param == "fast":
        pytest.importorskip("numba", reason="numba is not installed (manualnn[fast])")
    return get_backend(request.param)


def flat_params(backend):
    rng = np.random.default_rng(0)
    flat = FlatParams([rng.standard_normal((5, 4)), rng.standard_normal((4, 3))],
                      [rng.standard_normal(4), rng.standard_normal(3)], np.float64,
                      backend)
    flat.grad[...] = rng.standard_normal(flat.grad.shape)
    return flat


def penalized(flat):
    """(theta, the gradient with c W on the coefficients, the decay's factor per entry)."""
    n = flat.n_coef
    g = flat.grad.copy()
    g[:n] += C * flat.theta[:n]
    keep = np.ones_like(g)
    keep[:n] = 1 - LR * WD
    return flat.theta.copy(), g, keep


def test_adam_step_adds_the_penalty_and_decays_only_the_coefficients(backend):
    flat = flat_params(backend)
    theta, g, keep = penalized(flat)
    rule = AdamRule(flat, LR, 0.9, 0.999, 1e-8, WD)
    rule.m[...] = 0.1
    rule.v[...] = 0.2
    rule.step(flat, C)
    m = 0.9 * 0.1 + 0.1 * g
    v = 0.999 * 0.2 + 0.001 * g ** 2
    lr_t = LR * np.sqrt(1 - 0.999) / (1 - 0.9)
    np.testing.assert_allclose(flat.theta, keep * theta - lr_t * m / (np.sqrt(v) + 1e-8),
                               rtol=1e-13)
    np.testing.assert_allclose(rule.m, m, rtol=1e-13)
    np.testing.assert_allclose(rule.v, v, rtol=1e-13)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_step_adds_the_penalty_and_decays_only_the_coefficients(backend, nesterov):
    flat = flat_params(backend)
    theta, g, keep = penalized(flat)
    rule = SGDRule(flat, LR, "constant", 0.9, nesterov, 0.5, WD)
    rule.velocity[...] = 0.1
    rule.step(flat, C)
    velocity = 0.9 * 0.1 - LR * g
    step = 0.9 * velocity - LR * g if nesterov else velocity
    np.testing.assert_allclose(flat.theta, keep * theta + step, rtol=1e-13)
    np.testing.assert_allclose(rule.velocity, velocity, rtol=1e-13)
