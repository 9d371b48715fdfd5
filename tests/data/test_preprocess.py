"""Preprocessing: fitted on training data only, dtype-preserving, saved and restored."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from manualnn.checks import DataError
from manualnn.data.preprocess import KINDS, Preprocessor


def test_scale_maps_the_training_range_to_unit_interval():
    X = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    p = Preprocessor("scale").fit(X)
    Z = p.transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z, X / 255.0, rtol=1e-6)
    # Test data is mapped with the training range, not its own.
    np.testing.assert_allclose(p.transform(np.array([[510, -255]])), [[2, -1]])


def test_scale_uses_one_range_for_all_features():
    X = np.array([[0.0, 10.0], [2.0, 20.0]])
    Z = Preprocessor("scale").fit_transform(X, np.float64)
    np.testing.assert_allclose(Z, X / 20.0)


def test_standardize_per_feature_and_constant_columns():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(5, 3, 500), np.full(500, 7.0)]).astype(np.float32)
    p = Preprocessor("standardize").fit(X)
    Z = p.transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z[:, 0].mean(), 0, atol=1e-5)
    np.testing.assert_allclose(Z[:, 0].std(), 1, atol=1e-5)
    assert np.all(Z[:, 1] == 0)          # std 0 -> scale 1, not NaN
    assert p.scale[1] == 1.0


def test_none_only_casts():
    X = np.array([[1, 2]], dtype=np.int16)
    p = Preprocessor().fit(X)
    assert p.to_arrays() == {}
    Z = p.transform(X, np.float64)
    assert Z.dtype == np.float64 and Z.tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_input_untouched(kind, dtype):
    X = np.random.default_rng(1).random((20, 3)).astype(np.float32)
    before = X.copy()
    Z = Preprocessor(kind).fit(X).transform(X, dtype)
    assert Z.dtype == dtype and Z.shape == X.shape and Z is not X
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_through_arrays(kind):
    X = np.random.default_rng(2).normal(size=(30, 4)) * 10
    p = Preprocessor(kind).fit(X)
    arrays = p.to_arrays()
    assert all(a.dtype == np.float64 and a.shape == (4,) for a in arrays.values())
    q = Preprocessor.from_arrays(p.kind, arrays)
    np.testing.assert_array_equal(q.transform(X), p.transform(X))
    arrays_again = q.to_arrays()
    assert arrays_again.keys() == arrays.keys()


@settings(max_examples=40, deadline=None)
@given(X=hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 5)),
                    elements=st.floats(-1e6, 1e6)),
       kind=st.sampled_from(KINDS))
def test_transform_is_finite_and_training_scale_lands_in_unit_interval(X, kind):
    Z = Preprocessor(kind).fit(X).transform(X, np.float64)
    assert np.isfinite(Z).all()
    if kind == "scale":
        assert Z.min() >= -1e-12 and Z.max() <= 1 + 1e-12


@pytest.mark.parametrize("kind, arrays, words", [
    ("scale", {}, r"expected arrays \['scale', 'shift'\]"),
    ("none", {"shift": np.zeros(2)}, r"expected arrays \[\]"),
    ("standardize", {"shift": np.zeros(2), "scale": np.ones(3)}, "one shape"),
    ("standardize", {"shift": np.zeros((2, 2)), "scale": np.ones((2, 2))}, "one shape"),
    ("standardize", {"shift": np.zeros(0), "scale": np.ones(0)}, "one shape"),
    ("standardize", {"shift": np.zeros(2, int), "scale": np.ones(2, int)}, "float arrays"),
    ("scale", {"shift": np.zeros(2), "scale": np.zeros(2)}, "positive"),
    ("scale", {"shift": np.array([np.nan, 0]), "scale": np.ones(2)}, "finite"),
])
def test_from_arrays_rejects_damaged_state(kind, arrays, words):
    with pytest.raises(DataError, match=words):
        Preprocessor.from_arrays(kind, arrays)


def test_argument_errors():
    with pytest.raises(ValueError, match="kind: expected one of"):
        Preprocessor("minmax")
    with pytest.raises(ValueError, match="kind"):
        Preprocessor.from_arrays("zscore", {})
    with pytest.raises(TypeError, match="arrays"):
        Preprocessor.from_arrays("none", [])
    p = Preprocessor("standardize")
    with pytest.raises(ValueError, match="call fit"):
        p.transform(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="not fitted"):
        p.to_arrays()
    p.fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="expected 2 features"):
        p.transform(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="dtype"):
        p.transform(np.zeros((1, 2)), np.int32)
    with pytest.raises(ValueError, match="2-D"):
        p.fit(np.zeros(3))
    with pytest.raises(ValueError, match="2-D"):
        p.fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="finite"):
        p.fit(np.array([[np.inf]]))
    with pytest.raises(TypeError, match="numeric"):
        p.fit(np.array([["a"]]))
    assert repr(p) == "Preprocessor('standardize', 2 features)"
    assert "unfitted" in repr(Preprocessor("scale"))
