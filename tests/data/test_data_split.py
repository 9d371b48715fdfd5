"""Label encoding, stratified seeded splits and mini-batch indices."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manualnn.checks import DataError
from manualnn.data.files import encode_labels, stratified_split, train_val_split
from manualnn.train.batching import Gather, batch_indices

# ----------------------------------------------------------------------------- labels


def test_encode_labels_like_label_encoder():
    codes, classes = encode_labels(np.array(["dog", "cat", "dog", "emu"]))
    assert classes.tolist() == ["cat", "dog", "emu"]
    assert codes.tolist() == [1, 0, 1, 2]
    assert codes.dtype == np.int64


def test_encode_labels_numbers_sort_numerically():
    codes, classes = encode_labels([10, 2, 3, 2])
    assert classes.tolist() == [2, 3, 10]
    assert codes.tolist() == [2, 0, 1, 0]


def test_encode_labels_with_known_classes():
    codes, _ = encode_labels([7, 3], classes=np.array([3, 5, 7]))
    assert codes.tolist() == [2, 0]
    with pytest.raises(DataError, match="y_test: label 4 is not one of the training classes"):
        encode_labels([3, 4], "y_test", classes=np.array([3, 5, 7]))
    with pytest.raises(DataError, match="not one of"):
        encode_labels([9], classes=np.array([3, 5, 7]))   # past the last class


@pytest.mark.parametrize("y, words", [
    (np.zeros((2, 2)), "1-D"),
    (np.array([1.0, np.nan]), "finite"),
    (np.array([object(), 1], dtype=object), "dtype object"),
])
def test_encode_labels_rejects(y, words):
    with pytest.raises(DataError, match=words):
        encode_labels(y, "y")


# ----------------------------------------------------------------------------- splits


def test_split_is_stratified_and_seeded():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, val = stratified_split(y, 0.2, np.random.default_rng(0))
    assert len(val) == 20 and len(train) == 80
    assert np.bincount(y[val]).tolist() == [10, 6, 4]
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(100))
    val_again = stratified_split(y, 0.2, 0)[1]
    val_same = stratified_split(y, 0.2, 0)[1]
    assert np.array_equal(val_again, val_same)
    other = stratified_split(y, 0.2, 1)[1]
    assert not np.array_equal(val_again, other)


def test_fraction_zero_means_no_validation_set():
    X = np.arange(10.0).reshape(5, 2)
    y = np.array([0, 1, 0, 1, 0])
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.0, np.random.default_rng(0))
    assert X_val is None and y_val is None
    assert X_tr is X and y_tr is y


def test_train_val_split_keeps_rows_together():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20) % 2
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, 0.25, np.random.default_rng(3))
    assert X_val.shape == (5, 2) and X_tr.shape == (15, 2)
    np.testing.assert_array_equal(X_tr[:, 0] // 2 % 2, y_tr)
    np.testing.assert_array_equal(X_val[:, 0] // 2 % 2, y_val)


def test_singleton_classes_stay_in_training_when_possible():
    y = np.array([0] * 9 + [1])
    train, val = stratified_split(y, 0.1, 0)
    assert y[val].tolist() == [0]
    assert 1 in y[train]


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=6),
       fraction=st.floats(0.05, 0.9), seed=st.integers(0, 2**32))
def test_split_properties(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    m = len(y)
    n_val = int(np.rint(fraction * m))
    if not 1 <= n_val <= m - 1:
        with pytest.raises(ValueError, match="fraction"):
            stratified_split(y, fraction, seed)
        return
    train, val = stratified_split(y, fraction, seed)
    assert len(val) == n_val and len(train) == m - n_val
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(m))
    # Each class within one row of its proportional share.
    share = n_val * np.bincount(y) / m
    assert np.all(np.abs(np.bincount(y[val], minlength=len(counts)) - share) < 1 + 1e-9)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"fraction": 1.0}, ValueError, r"fraction: expected a value in \[0, 1\)"),
    ({"fraction": -0.1}, ValueError, "fraction"),
    ({"fraction": "0.2"}, TypeError, "fraction"),
    ({"fraction": 0.01}, ValueError, "need at least 1 each"),
    ({"rng": None}, TypeError, "rng: expected a numpy.random.Generator"),
    ({"rng": np.random.RandomState(0)}, TypeError, "rng"),
    ({"rng": -1}, TypeError, "rng"),
])
def test_split_validates_arguments(kwargs, error, words):
    args = {"fraction": 0.2, "rng": 0, **kwargs}
    with pytest.raises(error, match=words):
        stratified_split(np.arange(10) % 2, **args)


def test_train_val_split_validates_shapes():
    with pytest.raises(ValueError, match="same m"):
        train_val_split(np.zeros((4, 2)), np.zeros(5), 0.25, 0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        stratified_split(np.zeros(0), 0.2, 0)


# ----------------------------------------------------------------------------- batches


def test_batches_in_order_keep_the_short_last_batch():
    batches = list(batch_indices(10, 4))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_shuffled_batches_are_a_seeded_permutation():
    a = np.concatenate(list(batch_indices(23, 5, np.random.default_rng(7))))
    b = np.concatenate(list(batch_indices(23, 5, np.random.default_rng(7))))
    assert np.array_equal(a, b)
    assert sorted(a.tolist()) == list(range(23))
    assert not np.array_equal(a, np.arange(23))


def test_shuffled_batches_differ_between_epochs_of_one_generator():
    rng = np.random.default_rng(0)
    first = np.concatenate(list(batch_indices(50, 50, rng)))
    second = np.concatenate(list(batch_indices(50, 50, rng)))
    assert not np.array_equal(first, second)


def test_gather_copies_the_rows_of_each_batch_into_reused_buffers():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((23, 3, 2)).astype(np.float32), rng.integers(0, 5, (23, 4))
    gather = Gather(X, Y, None)
    seen = []
    for rows in batch_indices(23, 5, rng):
        Xb, Yb, none = gather(rows)
        np.testing.assert_array_equal(Xb, X[rows])
        np.testing.assert_array_equal(Yb, Y[rows])
        assert none is None and Xb.dtype == X.dtype and Xb.flags.c_contiguous
        seen.append(Xb)
    assert gather.m == 23
    assert seen[0] is seen[1]   # one buffer, written over
    assert seen[-1].shape == (3, 3, 2)   # the short last batch has its own


@pytest.mark.parametrize("m, batch_size, rng, error", [
    (0, 4, None, ValueError), (10, 0, None, ValueError), (10, 2.0, None, TypeError),
    (10, 2, "seed", TypeError), (True, 2, None, TypeError),
])
def test_batch_indices_validates(m, batch_size, rng, error):
    with pytest.raises(error):
        list(batch_indices(m, batch_size, rng))


def test_encode_labels_needs_sorted_unique_classes():
    with pytest.raises(ValueError, match="classes: expected sorted unique"):
        encode_labels([1], classes=np.array([3, 1]))
    with pytest.raises(ValueError, match="classes"):
        encode_labels([1], classes=np.array([]))
