"""manualnn.sklearn inside scikit-learn's machinery, and what it adds to scikit-learn's MLP."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from manualnn.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def blobs():
    return make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3,
                               random_state=0)


def test_pipeline_grid_search_and_cross_validation(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier(max_iter=300, random_state=0, learning_rate_init=0.01))
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(5,), (20,)],
                               "mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3)
    grid.fit(X, y)
    assert grid.best_score_ > 0.9
    assert set(grid.best_params_) == {"mlpclassifier__hidden_layer_sizes",
                                      "mlpclassifier__alpha"}
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.9


def test_pickle_and_clone(blobs):
    X, y = blobs
    est = MLPClassifier(hidden_layer_sizes=(10,), max_iter=30, random_state=0,
                        dropout=0.1).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    assert again.get_params() == est.get_params()
    fresh = clone(est)
    assert fresh.get_params() == est.get_params()
    assert not hasattr(fresh, "coefs_")
    np.testing.assert_array_equal(fresh.fit(X, y).predict_proba(X), est.predict_proba(X))


def test_fitted_attributes(blobs):
    X, y = blobs
    est = MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=5, random_state=0).fit(X, y)
    assert est.n_layers_ == 4 and est.n_outputs_ == 3 and est.n_features_in_ == 8
    assert [W.shape for W in est.coefs_] == [(8, 7), (7, 5), (5, 3)]
    assert [b.shape for b in est.intercepts_] == [(7,), (5,), (3,)]
    assert est.out_activation_ == "softmax" and list(est.classes_) == [0, 1, 2]
    assert len(est.loss_curve_) == est.n_iter_ == 5 and est.loss_ == est.loss_curve_[-1]
    assert est.best_loss_ == min(est.loss_curve_) and est.validation_scores_ is None
    assert est.t_ == 5 * 300
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=4, early_stopping=True,
                        random_state=0).fit(X, y)
    assert len(est.validation_scores_) == 4 and est.best_loss_ is None
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_string_labels_and_binary_outputs():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    labels = np.array(["no", "yes"])[y]
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0).fit(X, labels)
    assert est.n_outputs_ == 1 and est.out_activation_ == "logistic"
    P = est.predict_proba(X)
    assert P.shape == (200, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1)
    assert set(est.predict(X)) <= {"no", "yes"}
    np.testing.assert_array_equal(est.predict(X), est.classes_[P.argmax(axis=1)])
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(P))


def test_partial_fit(blobs):
    X, y = blobs
    est = MLPClassifier(hidden_layer_sizes=(10,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, y)
    est.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    first = est.loss_
    for _ in range(20):
        est.partial_fit(X, y)
    assert est.loss_ < first and est.n_iter_ == 21
    with pytest.raises(ValueError, match="classes not in"):
        est.partial_fit(X, y + 5)
    with pytest.raises(ValueError, match="classes: expected"):
        est.partial_fit(X, y, classes=[0, 1, 2, 3])
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    reg = MLPRegressor(hidden_layer_sizes=(5,), random_state=0)
    reg.partial_fit(X, X[:, 0]).partial_fit(X, X[:, 0])
    assert reg.n_iter_ == 2
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, X[:, 0])


def test_warm_start_continues_and_checks_classes(blobs):
    X, y = blobs
    est = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, warm_start=True,
                        random_state=0).fit(X, y)
    W = est.coefs_[0].copy()
    est.fit(X, y)
    assert len(est.loss_curve_) == 10 and not np.array_equal(W, est.coefs_[0])
    with pytest.raises(ValueError, match="warm_start can only be used"):
        est.fit(X[y < 2], y[y < 2])
    est.set_params(hidden_layer_sizes=(11,))
    with pytest.raises(ValueError, match="hidden_layer_sizes: warm_start"):
        est.fit(X, y)


def test_multilabel_and_multioutput():
    X, y = make_classification(n_samples=200, n_features=6, n_classes=3, n_informative=4,
                               random_state=0)
    Y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(int)
    est = MLPClassifier(hidden_layer_sizes=(20,), max_iter=300, random_state=0).fit(X, Y)
    P = est.predict_proba(X)
    assert P.shape == (200, 3) and ((P > 0) & (P < 1)).all()
    assert est.out_activation_ == "logistic" and list(est.classes_) == [0, 1, 2]
    np.testing.assert_array_equal(est.predict(X), (P > 0.5).astype(int))
    assert est.score(X, Y) > 0.75  # subset accuracy: all three labels right
    Xr, Yr = make_regression(n_samples=200, n_features=6, n_targets=2, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=300,
                       random_state=0).fit(Xr, Yr / Yr.std())
    assert reg.predict(Xr).shape == (200, 2) and reg.score(Xr, Yr / Yr.std()) > 0.9


def test_dropout_dtype_and_weight_decay(blobs):
    X, y = blobs
    base = {"hidden_layer_sizes": (30,), "max_iter": 20, "random_state": 0}
    plain = MLPClassifier(**base).fit(X, y)
    dropped = MLPClassifier(dropout=0.3, **base).fit(X, y)
    again = MLPClassifier(dropout=0.3, **base).fit(X, y)
    assert not np.allclose(plain.coefs_[0], dropped.coefs_[0])
    np.testing.assert_array_equal(dropped.coefs_[0], again.coefs_[0])  # seeded masks
    np.testing.assert_array_equal(dropped.predict_proba(X), dropped.predict_proba(X))
    decayed = MLPClassifier(weight_decay=0.5, **base).fit(X, y)
    assert np.linalg.norm(decayed.coefs_[0]) < np.linalg.norm(plain.coefs_[0])
    single = MLPClassifier(dtype="float32", **base).fit(X, y)
    assert all(W.dtype == np.float32 for W in single.coefs_ + single.intercepts_)
    assert single.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(single.loss_curve_, plain.loss_curve_, rtol=1e-4)
    sgd = MLPClassifier(solver="sgd", weight_decay=0.1, dropout=0.2, **base).fit(X, y)
    assert sgd.score(X, y) > 0.5


@pytest.mark.parametrize("params, message", [
    ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes: expected a value in"),
    ({"hidden_layer_sizes": "wide"}, "hidden_layer_sizes"),
    ({"activation": "swish2"}, "activation: expected one of"),
    ({"solver": "newton"}, "solver: expected one of"),
    ({"alpha": -1.0}, "alpha: expected a value in"),
    ({"batch_size": 0}, "batch_size"),
    ({"learning_rate": "cyclic"}, "learning_rate: expected one of"),
    ({"learning_rate_init": 0.0}, r"learning_rate_init: expected a value in \(0"),
    ({"max_iter": 0}, "max_iter: expected a value in"),
    ({"momentum": 1.5}, "momentum: expected a value in"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"beta_2": 1.0}, "beta_2"),
    ({"epsilon": 0.0}, "epsilon"),
    ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ({"shuffle": "yes"}, "shuffle: expected True or False"),
    ({"dropout": 1.0}, "dropout: expected a value in"),
    ({"dtype": "int8"}, "dtype: expected float32 or float64"),
    ({"weight_decay": -0.1}, "weight_decay"),
    ({"solver": "lbfgs", "dropout": 0.2}, "lbfgs"),
])
def test_parameter_validation_names_the_parameter(blobs, params, message):
    X, y = blobs
    with pytest.raises((ValueError, TypeError), match=message):
        MLPClassifier(**params).fit(X, y)


def test_data_validation_messages(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="at least two classes"):
        MLPClassifier().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="sample_weight"):
        MLPClassifier().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="zero weights"):
        MLPClassifier().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="poisson"):
        MLPRegressor(loss="poisson").fit(X, X[:, 0])
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :5])


def test_sparse_input_is_accepted(blobs):
    sparse = pytest.importorskip("scipy.sparse")
    X, y = blobs
    a = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(
        sparse.csr_matrix(X), y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(sparse.csr_matrix(X)))


def test_feature_names_in(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(frame, y)
    assert list(est.feature_names_in_) == list(frame.columns)


def test_missing_sklearn_gives_the_install_hint():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import manualnn.sklearn\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install manualnn[sklearn]" in out
