"""Model folders: MLPClassifier/MLPRegressor.save and .load, and the CLI's view of them."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_classification, make_regression

from manualnn.core.network import MLP
from manualnn.io.serialize import load_model, save_model
from manualnn.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)


def assert_same_model(a, b, X):
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_", "n_iter_",
                 "t_", "loss_"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.loss_curve_ == b.loss_curve_
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(x, y)
    assert a.get_params() == b.get_params()
    out = "predict_proba" if hasattr(a, "classes_") else "predict"
    np.testing.assert_array_equal(getattr(a, out)(X), getattr(b, out)(X))


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_classifier_round_trip(tmp_path, data, kind):
    X, y = data
    labels = {"multiclass": np.array(["cat", "dog", "eel"])[y],
              "binary": (y > 0).astype(int) * 7,
              "multilabel": np.column_stack([y == 0, y == 2]).astype(int)}[kind]
    est = MLPClassifier(hidden_layer_sizes=(5, 4), activation="tanh", max_iter=8,
                        random_state=0, dtype="float32", alpha=1e-3).fit(X, labels)
    est.save(tmp_path)
    back = MLPClassifier.load(tmp_path)
    assert_same_model(est, back, X)
    np.testing.assert_array_equal(back.classes_, est.classes_)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    back.set_params(warm_start=True).fit(X, labels)  # training goes on from the file
    assert back.n_iter_ == est.n_iter_


def test_the_cli_sees_softmax_logits(tmp_path, data):
    """A binary classifier's logistic output is stored as the logits (0, z), so the CLI's
    softmax over the outputs gives predict_proba."""
    X, y = data
    for labels in ((y > 0).astype(int), y):
        est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, labels)
        est.save(tmp_path)
        net, meta, arrays = load_model(tmp_path)
        assert meta["task"] == "classification" and meta["preprocess"] == "none"
        assert meta["loss"] == "softmax_cross_entropy" and arrays == {}
        assert meta["classes"] == est.classes_.tolist()
        np.testing.assert_allclose(softmax(net(X)), est.predict_proba(X), rtol=1e-12)


@pytest.mark.parametrize("loss, targets", [("squared_error", 1), ("squared_error", 2),
                                           ("poisson", 1)])
def test_regressor_round_trip(tmp_path, loss, targets):
    X, y = make_regression(n_samples=100, n_features=4, n_targets=targets, random_state=0)
    y = np.abs(y) / y.std() if loss == "poisson" else y / y.std()
    est = MLPRegressor(hidden_layer_sizes=(6,), loss=loss, max_iter=5, random_state=0,
                       n_iter_no_change=np.inf).fit(X, y)
    est.save(tmp_path)
    back = MLPRegressor.load(tmp_path)
    assert_same_model(est, back, X)
    assert back.n_iter_no_change == np.inf
    with pytest.raises(ValueError, match="regression model, MLPClassifier needs"):
        MLPClassifier.load(tmp_path)


def test_loads_a_cli_run_folder_with_preprocessing(tmp_path, data):
    """A folder as ``manualnn train`` writes it: float32 weights, standardize arrays, the
    classes in the dataset's order (not sorted)."""
    X, y = data
    names = np.array(["trouser", "coat", "bag"])  # output unit i is names[i]
    net = MLP([6, 8, 3], "relu", dtype="float32", rng=0)
    shift, scale = X.mean(axis=0), X.std(axis=0)
    meta = {"task": "classification", "loss": "softmax_cross_entropy",
            "classes": names.tolist(), "dataset": "x.npz", "preprocess": "standardize",
            "epoch": 3}
    save_model(tmp_path, net, meta,
               {"preprocess.shift": shift, "preprocess.scale": scale})
    est = MLPClassifier.load(tmp_path)
    expected = softmax(net(((X - shift) / scale).astype(np.float32)).astype(np.float64))
    assert list(est.classes_) == sorted(names)
    order = np.argsort(names)
    np.testing.assert_allclose(est.predict_proba(X), expected[:, order], rtol=1e-4,
                               atol=1e-6)
    top2 = np.sort(expected, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-3  # float32 rounding may flip near-ties
    assert clear.mean() > 0.8
    np.testing.assert_array_equal(est.predict(X)[clear], names[expected.argmax(axis=1)][clear])
    assert est.hidden_layer_sizes == (8,) and est.activation == "relu"
    assert est.coefs_[0].dtype == np.float32 and est.n_features_in_ == 6
    est.set_params(warm_start=True, max_iter=3).fit(X, names[y])
    est.partial_fit(X, names[y])
    assert est.score(X, names[y]) > 0.4


def test_cli_models_without_a_counterpart_are_refused(tmp_path):
    net = MLP([4, 5, 3], ["relu"], dtype="float64", rng=0)
    save_model(tmp_path / "mse", net, {"task": "classification", "loss": "mse",
                                       "classes": [0, 1, 2], "preprocess": "none"})
    with pytest.raises(ValueError, match="no scikit-learn counterpart"):
        MLPClassifier.load(tmp_path / "mse")
    mixed = MLP([4, 5, 5, 3], ["relu", "tanh"], dtype="float64", rng=0)
    save_model(tmp_path / "mixed", mixed, {"task": "classification", "classes": [0, 1, 2],
                                           "loss": "softmax_cross_entropy",
                                           "preprocess": "none"})
    with pytest.raises(ValueError, match="one hidden activation"):
        MLPClassifier.load(tmp_path / "mixed")


def test_saving_an_unfitted_estimator_fails(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPClassifier().save(tmp_path)


@pytest.mark.parametrize("targets", [1, 2])
def test_the_cli_predicts_from_a_saved_regressor(tmp_path, targets):
    """MLPRegressor.save names no targets; the CLI's loader names them (target, or
    target_0, target_1, ...) instead of refusing the folder, and predicts est.predict."""
    from manualnn.cli.app import main
    X, y = make_regression(n_samples=60, n_features=3, n_targets=targets, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y / y.std())
    est.save(tmp_path / "model")
    np.save(tmp_path / "x.npy", X[:4])
    assert main(["predict", str(tmp_path / "model"), str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "p.csv")]) == 0
    lines = (tmp_path / "p.csv").read_text().splitlines()
    names = ["target"] if targets == 1 else ["target_0", "target_1"]
    assert lines[0].split(",")[1:] == names
    got = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(got, est.predict(X[:4]).reshape(4, -1), rtol=1e-12)
