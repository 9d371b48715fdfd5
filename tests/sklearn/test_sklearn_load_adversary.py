"""``MLPClassifier.load`` of a model.json edited by an adversary (issue 25, item 6): every
field it reads is checked, and a fault is a DataError naming the file and the field."""

import copy

import numpy as np
import pytest

pytest.importorskip("sklearn")

from manualnn.checks import DataError
from manualnn.io.serialize import load_model, save_model
from manualnn.sklearn import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A fitted three-class classifier's folder, and its (net, meta, arrays)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    folder = tmp_path_factory.mktemp("clf") / "model"
    MLPClassifier((5,), max_iter=3, random_state=0).fit(X, y).save(folder)
    return folder, load_model(folder)


def set_field(meta, field, value):
    *path, last = field.split(".")
    for key in path:
        meta = meta[key]
    meta[last] = value


@pytest.mark.parametrize("field, value", [
    ("sklearn", [1]), ("sklearn.state", "x"), ("sklearn.params", [1]), ("classes", "abc"),
    ("sklearn.state.n_iter_", "abc"), pytest.param("sklearn.state.t_", 10 ** 400, id="sklearn.state.t_-huge"),
    ("sklearn.state.loss_curve_", "abc"), ("sklearn.params", {"max_iter": "abc"}),
    ("binary_logistic", True), ("multilabel", "yes"), ("sklearn.feature_names_in_", ["a"])])
def test_a_hostile_field_is_a_data_error_naming_file_and_field(saved, tmp_path, field,
                                                                 value):
    _, (net, meta, arrays) = saved
    meta = copy.deepcopy(meta)
    set_field(meta, field, value)
    save_model(tmp_path, net, meta, arrays)
    with pytest.raises(DataError) as caught:
        MLPClassifier.load(tmp_path)
    message = str(caught.value)
    assert "model.json" in message and f"meta.{field}" in message, message


def test_the_untouched_folder_still_loads(saved):
    folder, _ = saved
    assert MLPClassifier.load(folder).classes_.tolist() == [0, 1, 2]
