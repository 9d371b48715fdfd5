"""scikit-learn's update rules (train.sklearn_rules: SklearnSGD, SklearnAdam) over the two
parts of manualnn.sklearn's flat parameters, one step each against the formulas written
out here, with the L2 penalty's gradient c W and the decoupled weight decay, on the fast
backend (numba's loop, NumPy's BLAS called directly) and on the NumPy one."""

import numpy as np
import pytest

from manualnn.backend import get_backend
from manualnn.sklearn.fit import FlatParams
from manualnn.train.sklearn_rules import SklearnAdam, SklearnSGD

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
    rule = SklearnAdam(flat.parts(), LR, 0.9, 0.999, 1e-8, weight_decay=WD,
                       decay_mask=[True, False], backend=backend)
    for m, v in zip(rule.m, rule.v):
        m[...], v[...] = 0.1, 0.2
    rule.penalty = C
    rule.step(flat.parts(flat.grad))
    m = 0.9 * 0.1 + 0.1 * g
    v = 0.999 * 0.2 + 0.001 * g ** 2
    lr_t = LR * np.sqrt(1 - 0.999) / (1 - 0.9)
    np.testing.assert_allclose(flat.theta, keep * theta - lr_t * m / (np.sqrt(v) + 1e-8),
                               rtol=1e-13)
    np.testing.assert_allclose(np.concatenate(rule.m), m, rtol=1e-13)
    np.testing.assert_allclose(np.concatenate(rule.v), v, rtol=1e-13)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_step_adds_the_penalty_and_decays_only_the_coefficients(backend, nesterov):
    flat = flat_params(backend)
    theta, g, keep = penalized(flat)
    rule = SklearnSGD(flat.parts(), LR, 0.9, nesterov, weight_decay=WD,
                      decay_mask=[True, False], backend=backend)
    for v in rule.buf:
        v[...] = 0.1
    rule.penalty = C
    rule.step(flat.parts(flat.grad))
    velocity = 0.9 * 0.1 - LR * g
    step = 0.9 * velocity - LR * g if nesterov else velocity
    np.testing.assert_allclose(flat.theta, keep * theta + step, rtol=1e-13)
    np.testing.assert_allclose(np.concatenate(rule.buf), velocity, rtol=1e-13)
