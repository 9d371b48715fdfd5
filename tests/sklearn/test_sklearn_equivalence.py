"""manualnn.sklearn against scikit-learn's own MLP: the same numbers, not just similar ones.

The issue's test: same data, hyperparameters and initial weights, sgd without momentum or
penalty, no shuffle, one epoch in float64 -> the same coefficients to a relative 1e-8.
Beyond it: since the estimators draw their initial weights and shuffles as scikit-learn
does, whole default fits agree to rounding for every solver rule and output kind.
"""

import itertools
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import sklearn
from manualnn.sklearn import MLPClassifier, MLPRegressor
from sklearn import neural_network as sk

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
since_1_7 = pytest.mark.skipif(
    tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 7),
    reason="scikit-learn's MLP takes sample_weight and loss='poisson' from 1.7 on")


def relative_error(ours, theirs) -> float:
    """max |a - b| / max |b| over all coefficient and intercept arrays."""
    a = np.concatenate([np.ravel(x) for x in ours.coefs_ + ours.intercepts_])
    b = np.concatenate([np.ravel(x) for x in theirs.coefs_ + theirs.intercepts_])
    return float(np.abs(a - b).max() / np.abs(b).max())


def classification(n=240, d=12, classes=4, seed=0):
    return make_classification(n_samples=n, n_features=d, n_informative=6,
                               n_classes=classes, random_state=seed)


def test_one_epoch_from_the_same_weights_gives_the_same_coefficients():
    X, y = classification()
    params = {"hidden_layer_sizes": (16, 8), "solver": "sgd", "momentum": 0.0, "alpha": 0.0,
              "shuffle": False, "batch_size": 32, "learning_rate_init": 0.05, "max_iter": 1,
              "warm_start": True, "random_state": 1}
    rng = np.random.default_rng(7)
    widths = [12, 16, 8, 4]
    W0 = [rng.uniform(-0.4, 0.4, (a, b)) for a, b in itertools.pairwise(widths)]
    b0 = [rng.uniform(-0.1, 0.1, b) for b in widths[1:]]
    fitted = []
    for cls in (MLPClassifier, sk.MLPClassifier):
        est = cls(**params).fit(X, y)  # a fitted state to warm-start from
        est.coefs_, est.intercepts_ = [w.copy() for w in W0], [v.copy() for v in b0]
        fitted.append(est.fit(X, y))  # exactly one epoch from (W0, b0)
    ours, theirs = fitted
    assert ours.coefs_[0].dtype == np.float64
    assert not np.allclose(ours.coefs_[0], W0[0])  # it did train
    assert relative_error(ours, theirs) < 1e-8
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-10)


CLASSIFIER_CASES = {
    "adam": {},
    "sgd-nesterov": {"solver": "sgd", "learning_rate_init": 0.05},
    "sgd-momentum-invscaling": {"solver": "sgd", "nesterovs_momentum": False,
                                "learning_rate": "invscaling", "learning_rate_init": 0.5},
    "sgd-adaptive": {"solver": "sgd", "learning_rate": "adaptive", "tol": 0.05,
                     "n_iter_no_change": 2},
    "early-stopping": {"early_stopping": True, "validation_fraction": 0.2, "tol": 1e-2,
                       "n_iter_no_change": 3},
    "alpha-batch-tanh": {"alpha": 0.1, "batch_size": 50, "activation": "tanh"},
    "logistic": {"activation": "logistic", "learning_rate_init": 0.01},
}


@pytest.mark.parametrize("classes", [2, 4])
@pytest.mark.parametrize("case", sorted(CLASSIFIER_CASES))
def test_classifier_fits_match_sklearn_from_the_same_random_state(case, classes):
    X, y = classification(classes=classes)
    params = dict(hidden_layer_sizes=(12, 6), max_iter=25, random_state=3,
                  **CLASSIFIER_CASES[case])
    ours = MLPClassifier(**params).fit(X, y)
    theirs = sk.MLPClassifier(**params).fit(X, y)
    assert relative_error(ours, theirs) < 1e-9
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    if ours.validation_scores_ is not None:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-7,
                               atol=1e-12)
    assert (ours.predict(X) == theirs.predict(X)).all()
    assert ours.out_activation_ == theirs.out_activation_


@since_1_7
def test_sample_weights_match_sklearn():
    X, y = classification()
    w = np.random.default_rng(0).uniform(0, 3, len(y))
    params = {"hidden_layer_sizes": (10,), "max_iter": 15, "random_state": 0, "alpha": 0.01}
    ours = MLPClassifier(**params).fit(X, y, sample_weight=w)
    theirs = sk.MLPClassifier(**params).fit(X, y, sample_weight=w)
    assert relative_error(ours, theirs) < 1e-9


def test_multilabel_matches_sklearn():
    X, y = classification()
    Y = np.column_stack([y == 0, y >= 2, X[:, 0] > 0]).astype(int)
    params = {"hidden_layer_sizes": (10,), "max_iter": 20, "random_state": 0}
    ours = MLPClassifier(**params).fit(X, Y)
    theirs = sk.MLPClassifier(**params).fit(X, Y)
    assert relative_error(ours, theirs) < 1e-9
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    assert ours.predict(X).shape == Y.shape
    assert (ours.predict(X) == theirs.predict(X)).all()


@pytest.mark.parametrize("targets", [1, 3])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_regressor_fits_match_sklearn(solver, targets):
    X, y = make_regression(n_samples=200, n_features=8, n_targets=targets, noise=0.1,
                           random_state=0)
    y = y / y.std()
    params = {"hidden_layer_sizes": (10,), "solver": solver, "max_iter": 20, "random_state": 0,
              "learning_rate_init": 0.001 if solver == "sgd" else 0.01}
    ours = MLPRegressor(**params).fit(X, y)
    theirs = sk.MLPRegressor(**params).fit(X, y)
    assert relative_error(ours, theirs) < 1e-9
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8, atol=1e-10)


@since_1_7
def test_poisson_regression_matches_sklearn():
    X, _ = make_regression(n_samples=200, n_features=5, random_state=0)
    y = np.random.default_rng(0).poisson(np.exp(0.3 * X[:, 0]))
    params = {"hidden_layer_sizes": (8,), "loss": "poisson", "max_iter": 20, "random_state": 0}
    ours = MLPRegressor(**params).fit(X, y)
    theirs = sk.MLPRegressor(**params).fit(X, y)
    assert ours.out_activation_ == "exp"
    assert relative_error(ours, theirs) < 1e-9
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8)


@pytest.mark.parametrize("cls, data", [
    (MLPClassifier, classification(classes=3)),
    (MLPRegressor, make_regression(n_samples=150, n_features=6, random_state=0)),
])
def test_lbfgs_reaches_sklearns_solution(cls, data):
    X, y = data
    if cls is MLPRegressor:
        y = y / y.std()
    params = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "max_iter": 60, "random_state": 0}
    ours = cls(**params).fit(X, y)
    theirs = getattr(sk, cls.__name__)(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-4)
    assert relative_error(ours, theirs) < 1e-4
    assert ours.loss_curve_[-1] == ours.loss_ and len(ours.loss_curve_) >= 1


def test_partial_fit_matches_sklearn():
    X, y = classification()
    ours = MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    theirs = sk.MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    for start in range(0, 240, 80):
        rows = slice(start, start + 80)
        ours.partial_fit(X[rows], y[rows], classes=np.unique(y))
        theirs.partial_fit(X[rows], y[rows], classes=np.unique(y))
    assert relative_error(ours, theirs) < 1e-9


def test_float32_input_trains_in_float32_like_sklearn():
    X, y = classification(n=400)
    X = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(hidden_layer_sizes=(10,), max_iter=10, random_state=0).fit(X, y)
        theirs = sk.MLPClassifier(hidden_layer_sizes=(10,), max_iter=10,
                                  random_state=0).fit(X, y)
    assert ours.coefs_[0].dtype == np.float32
    assert ours.predict_proba(X).dtype == np.float32
    assert relative_error(ours, theirs) < 1e-4
