"""The estimators under scikit-learn's array_api_dispatch: torch and array-api-strict
input (CuPy where a GPU is) is accepted, the fitted attributes and the predictions are in
the input's namespace and on its device, and the numbers are those of a NumPy fit."""

import numpy as np
import pytest

from backends import REASONS

sklearn = pytest.importorskip("sklearn")
from manualnn.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
NAMESPACES = [pytest.param(n, marks=pytest.mark.skipif(bool(REASONS[k]), reason=REASONS[k]
                                                        or ""), id=n)
              for n, k in (("array_api_strict", "array-api-strict"), ("torch", "torch-cpu"),
                           ("cupy", "cupy"))]


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 5))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)


@pytest.mark.parametrize("ns", NAMESPACES)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_classifier_fitted_on_device_arrays_keeps_them_there(ns, solver):
    import importlib

    from array_api_compat import array_namespace, device
    xp = importlib.import_module(ns)
    X, y = _data()
    ref = MLPClassifier((7,), solver=solver, max_iter=30, random_state=0).fit(X, y)
    Xd, yd = xp.asarray(X), xp.asarray(y)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifier((7,), solver=solver, max_iter=30, random_state=0).fit(Xd, yd)
        for a in [*est.coefs_, *est.intercepts_, est.classes_]:
            assert array_namespace(a) is array_namespace(Xd) and device(a) == device(Xd)
        pred, proba = est.predict(Xd), est.predict_proba(Xd)
        assert array_namespace(pred) is array_namespace(Xd)
        score = est.score(Xd, yd)
        with pytest.raises(ValueError, match=r"MLPClassifier.predict\(\) must use the same "
                                             r"namespace"):
            est.predict(X)
    np.testing.assert_array_equal(np.from_dlpack(pred, device="cpu"), ref.predict(X))
    np.testing.assert_allclose(np.from_dlpack(proba, device="cpu"), ref.predict_proba(X),
                               rtol=1e-12)
    assert float(score) == pytest.approx(ref.score(X, y))


@pytest.mark.parametrize("ns", NAMESPACES)
def test_a_regressor_and_partial_fit_stay_on_the_device(ns):
    import importlib

    from array_api_compat import array_namespace
    xp = importlib.import_module(ns)
    X, _ = _data()
    t = X[:, 0] - 2 * X[:, 2]
    ref = MLPRegressor((6,), random_state=1, max_iter=5).fit(X, t)
    ref.partial_fit(X, t)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPRegressor((6,), random_state=1, max_iter=5).fit(xp.asarray(X), xp.asarray(t))
        est.partial_fit(xp.asarray(X), xp.asarray(t))
        pred = est.predict(xp.asarray(X))
        assert array_namespace(est.coefs_[0]) is array_namespace(pred) \
            is array_namespace(xp.asarray(X))
    np.testing.assert_allclose(np.from_dlpack(pred, device="cpu"), ref.predict(X),
                               rtol=1e-12)


def test_without_dispatch_numpy_input_takes_the_usual_path():
    X, y = _data()
    est = MLPClassifier((7,), max_iter=5, random_state=0).fit(X, y)
    assert all(type(w) is np.ndarray for w in est.coefs_)
