"""scikit-learn's own estimator contract (check_estimator) for manualnn.sklearn.

Small networks and few iterations keep this file to a few seconds; each configuration
runs every check that scikit-learn yields for it.  No check is expected to fail.
"""

import inspect

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks

from manualnn.sklearn import MLPClassifier, MLPRegressor

ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(10,), max_iter=100, random_state=0),
    MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=100, random_state=0),
    MLPClassifier(hidden_layer_sizes=(8, 8), solver="sgd", learning_rate_init=0.1,
                  max_iter=100, random_state=0),
    MLPRegressor(hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=100,
                 random_state=0),
    MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=100, random_state=0),
]


# Checks expected to fail, by estimator: none.  (scikit-learn < 1.6 has no such argument.)
EXPECTED = ({"expected_failed_checks": lambda est: {}}
            if "expected_failed_checks" in inspect.signature(parametrize_with_checks).parameters
            else {})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, **EXPECTED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
