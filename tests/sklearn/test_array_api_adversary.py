"""The estimators under array_api_dispatch against what issue 25 found (item 10): a warm
start on NumPy after torch, and torch tensors whose values cannot be read."""

import numpy as np
import pytest

from backends import REASONS

sklearn = pytest.importorskip("sklearn")
from manualnn.sklearn import MLPClassifier

pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
              pytest.mark.skipif(bool(REASONS["torch-cpu"]), reason=REASONS["torch-cpu"] or "")]


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    return X, (X[:, 0] > 0).astype(int)


def test_a_warm_start_on_numpy_continues_a_fit_on_torch():
    import torch
    X, y = _data()
    ref = MLPClassifier((4,), max_iter=3, warm_start=True, random_state=0).fit(X, y).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifier((4,), max_iter=3, warm_start=True, random_state=0)
        est.fit(torch.asarray(X), torch.asarray(y))
        est.fit(X, y)
    assert all(type(w) is np.ndarray for w in est.coefs_)
    for a, b in zip(est.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)


GRAD = "X: expected an array of values, got a Tensor that requires grad; pass X.detach()"
META = ("X: expected an array whose values can be read, got a Tensor of shape (40, 3) on "
        "device meta")


@pytest.mark.parametrize("where, said", [("grad", GRAD), ("meta", META)])
def test_tensors_without_readable_values_are_refused_naming_x(where, said):
    import torch
    X, y = _data()
    bad = torch.asarray(X, requires_grad=True) if where == "grad" else \
        torch.empty(X.shape, dtype=torch.float64, device="meta")
    with sklearn.config_context(array_api_dispatch=True):
        fitted = MLPClassifier((4,), max_iter=3, random_state=0).fit(torch.asarray(X),
                                                                     torch.asarray(y))
        with pytest.raises(ValueError) as caught:
            MLPClassifier((4,), max_iter=3).fit(bad, torch.asarray(y))
        assert str(caught.value).startswith(said)
        if where == "grad":   # predict: the meta device is refused by its namespace check
            with pytest.raises(ValueError, match="X: expected an array of values"):
                fitted.predict(bad)
