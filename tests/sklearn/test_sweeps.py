"""Sweeps spread by joblib: a GridSearchCV over manualnn's estimators run by joblib's local
process backend finds the same scores as one process (docs/guide/many-machines.md shows
Dask's and Ray's backends, which spread the same search over machines)."""

import numpy as np
from joblib import parallel_config
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from manualnn.sklearn import MLPClassifier


def test_grid_search_on_joblibs_process_backend_matches_one_process():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier(max_iter=60, random_state=0, learning_rate_init=0.01))
    grid = {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)],
            "mlpclassifier__alpha": [1e-4, 1e-1]}
    alone = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    with parallel_config(backend="loky", n_jobs=2):
        spread = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    np.testing.assert_array_equal(spread.cv_results_["mean_test_score"],
                                  alone.cv_results_["mean_test_score"])
    assert spread.best_params_ == alone.best_params_
    assert spread.best_score_ > 0.85
