"""Named datasets: where files are looked for, what a missing dataset says, digits."""

import os
import sys

import numpy as np
import pytest

from manualnn.checks import DataError
from manualnn.data import datasets
from manualnn.data.datasets import IDX_FILES, load_dataset
from manualnn.data.files import write_idx

DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"


def make_set(folder, n_train=6, n_test=3, gzip=True, rows=28, labels=None):
    """Four IDX files like MNIST's, with ``n_train`` and ``n_test`` images."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n_train)
    for file, n in zip(IDX_FILES, [n_train, n_train, n_test, n_test]):
        if "images" in file:
            arr = rng.integers(0, 256, (n, rows, 28)).astype(np.uint8)
        else:
            arr = (np.arange(n) % 10 if labels is None else labels[:n]).astype(np.uint8)
        write_idx(folder / (file if gzip else file.removesuffix(".gz")), arr, gzip=gzip)
    return folder


def test_loads_what_the_files_hold(isolated):
    folder = make_set(isolated / "d", n_train=7, n_test=4)
    ds = load_dataset("fashion-mnist", data_dir=folder)
    assert ds.name == "fashion-mnist" and ds.image_shape == (28, 28)
    assert ds.X_train.shape == (7, 784) and ds.X_train.dtype == np.float32
    assert ds.y_train.dtype == np.int64 and ds.y_train.tolist() == list(range(7))
    assert ds.X_test.shape == (4, 784) and ds.y_test.shape == (4,)
    assert 0 <= ds.X_train.min() and ds.X_train.max() <= 255
    assert ds.classes[9] == "Ankle boot" and ds.n_classes == 10 and ds.n_features == 784
    assert "train (7, 784)" in repr(ds)


def test_uncompressed_files_are_found_too(isolated):
    ds = load_dataset("mnist", data_dir=make_set(isolated / "raw", gzip=False))
    assert ds.X_train.shape == (6, 784) and ds.classes == [str(d) for d in range(10)]


def test_lookup_order(isolated, monkeypatch):
    system = make_set(isolated / "system", n_train=1)
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"mnist": (str(system),)})
    assert load_dataset("mnist").X_train.shape[0] == 1
    make_set(isolated / "cache" / "manualnn" / "mnist", n_train=2)
    assert load_dataset("mnist").X_train.shape[0] == 2
    make_set(isolated / "env" / "mnist", n_train=3)
    monkeypatch.setenv("MANUALNN_DATA", str(isolated / "env"))
    assert load_dataset("mnist").X_train.shape[0] == 3
    make_set(isolated / "mine", n_train=4)
    assert load_dataset("mnist", data_dir=isolated / "mine").X_train.shape[0] == 4
    assert datasets.search_dirs("mnist", isolated / "mine") == [
        str(isolated / "mine"), str(isolated / "env" / "mnist"),
        str(isolated / "cache" / "manualnn" / "mnist"), str(system)]


def test_a_folder_with_only_some_files_is_skipped(isolated, monkeypatch):
    partial = make_set(isolated / "partial", n_train=5)
    os.remove(partial / IDX_FILES[2])
    make_set(isolated / "cache" / "manualnn" / "mnist", n_train=2)
    assert load_dataset("mnist", data_dir=partial).X_train.shape[0] == 2


def test_missing_dataset_says_where_it_looked_and_how_to_get_it(isolated, monkeypatch):
    monkeypatch.setenv("MANUALNN_DATA", str(isolated / "env"))
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": ("/nowhere/fashion",)})
    with pytest.raises(DataError) as info:
        load_dataset("fashion-mnist", data_dir=isolated / "mine")
    message = str(info.value)
    for folder in [isolated / "mine", isolated / "env" / "fashion-mnist",
                   isolated / "cache" / "manualnn" / "fashion-mnist", "/nowhere/fashion"]:
        assert str(folder) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "--download" in message and IDX_FILES[0] in message
    with pytest.raises(DataError, match="--download") as info:
        load_dataset("mnist")
    assert "apt-get" not in str(info.value)


@pytest.mark.parametrize("damage, words", [
    ("count", "5 labels for the 6 images"),
    ("range", r"expected labels in \[0, 10\), got values from 0 to 12"),
    ("shape", "differ from the training images"),
    ("flat", "expected images"),
    ("corrupt", "corrupt gzip data"),
])
def test_inconsistent_files_are_named(isolated, damage, words):
    folder = make_set(isolated / "d")
    bad = {"count": IDX_FILES[1], "range": IDX_FILES[1], "shape": IDX_FILES[2],
           "flat": IDX_FILES[0], "corrupt": IDX_FILES[3]}[damage]
    if damage == "count":
        write_idx(folder / bad, np.zeros(5, np.uint8), gzip=True)
    elif damage == "range":
        write_idx(folder / bad, np.array([0, 1, 2, 3, 4, 12], np.uint8), gzip=True)
    elif damage == "shape":
        write_idx(folder / bad, np.zeros((3, 27, 28), np.uint8), gzip=True)
    elif damage == "flat":
        write_idx(folder / bad, np.zeros((6, 784), np.uint8), gzip=True)
    else:
        (folder / bad).write_bytes((folder / bad).read_bytes()[:-12])
    with pytest.raises(DataError, match=words) as info:
        load_dataset("mnist", data_dir=folder)
    assert bad in str(info.value)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"dataset": "cifar"}, ValueError, "dataset: expected one of .*'digits'.*'fashion-mnist'"),
    ({"name": 3}, TypeError, "name"),
    ({"download": "yes"}, TypeError, "download"),
    ({"data_dir": 5}, TypeError, "data_dir"),
    ({"timeout": -1}, ValueError, "timeout"),
])
def test_load_dataset_validates(isolated, kwargs, error, words):
    with pytest.raises(error, match=words):
        load_dataset(**{"dataset": "mnist", **kwargs})


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION), reason="dataset-fashion-mnist not installed")
def test_debian_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("MANUALNN_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": (DEBIAN_FASHION,)})
    ds = load_dataset("fashion-mnist")
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.X_train.max() == 255 and ds.X_train.min() == 0


def test_digits_split_is_stratified_and_fixed():
    pytest.importorskip("sklearn")
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.X_train.shape == (1438, 64) and a.X_test.shape == (359, 64)
    assert a.X_train.dtype == np.float32 and a.image_shape == (8, 8)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    share = np.bincount(a.y_test) / np.bincount(np.concatenate([a.y_train, a.y_test]))
    assert np.all(np.abs(share - 0.2) < 0.02)
    assert a.X_train.max() == 16


def test_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError, match=r"pip install manualnn\[sklearn\]"):
        load_dataset("digits")
