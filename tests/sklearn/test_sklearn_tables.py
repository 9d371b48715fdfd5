"""The estimators load a ``manualnn train`` folder of a table (issue 24, item 3): they take
the table's raw columns and encode them with the stored ColumnEncoder, giving the same
numbers as ``manualnn predict`` (and the exported ONNX graph)."""

import csv

import numpy as np
import pytest

from manualnn.cli import main

pa = pytest.importorskip("pyarrow", reason="tables need the tabular extra (pyarrow)")
pd = pytest.importorskip("pandas", reason="the DataFrame input needs pandas")
pytest.importorskip("sklearn", reason="manualnn.sklearn needs scikit-learn")
from manualnn.sklearn import MLPClassifier, MLPRegressor

TRAIN = ["color,heavy,size,label,price"] + [
    f"{['red', 'blue', 'green', ''][i % 4]},{['true', 'false', ''][i % 3]},"
    f"{'' if i % 5 == 0 else i % 7},{'yes' if i % 4 < 2 else 'no'},{i % 7 + 2 * (i % 4)}"
    for i in range(60)]
# rows to predict: an unseen category, missing cells, the columns in another order
NEW = "size,heavy,color\n3,true,purple\n,,red\n6,false,blue\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    (folder / "t.csv").write_text("\n".join(TRAIN) + "\n")
    (folder / "new.csv").write_text(NEW)
    for task, label, drop in (("classification", "label", "price"),
                              ("regression", "price", "label")):
        assert main(["train", "--dataset", str(folder / "t.csv"), "--label-column", label,
                     "--drop-columns", drop, "--task", task, "--out", str(folder / task),
                     "--epochs", "3", "--hidden", "8", "--quiet"]) == 0
    return folder


def _predicted(run, data, tmp_path, capsys):
    out = tmp_path / f"{run.name}.csv"
    assert main(["predict", str(run), str(data), "--output", str(out)]) == 0
    capsys.readouterr()
    with open(out, newline="") as f:
        return list(csv.DictReader(f))


def _inputs(path):
    """The new rows as each kind of X the estimators take."""
    import pyarrow.csv as pcsv
    frame = pd.read_csv(path)
    ordered = frame[["color", "heavy", "size"]]
    return {"DataFrame": frame, "pyarrow": pcsv.read_csv(path),
            "dict": {n: frame[n].to_numpy() for n in frame.columns},
            "array": ordered.to_numpy(dtype=object)}


def test_a_table_classifier_predicts_as_manualnn_predict(runs, tmp_path, capsys):
    rows = _predicted(runs / "classification", runs / "new.csv", tmp_path, capsys)
    est = MLPClassifier.load(runs / "classification")
    assert list(est.feature_names_in_) == ["color", "heavy", "size"]
    assert list(est.classes_) == ["no", "yes"]
    expected = np.array([[float(r["p_no"]), float(r["p_yes"])] for r in rows])
    for kind, X in _inputs(runs / "new.csv").items():
        with pytest.warns(UserWarning, match="column 'color': 1 rows with a category unseen"):
            P = est.predict_proba(X)
        np.testing.assert_allclose(P, expected, atol=2e-6, err_msg=kind)
        with pytest.warns(UserWarning):
            assert list(est.predict(X)) == [r["label"] for r in rows]
    frame = pd.read_csv(runs / "t.csv")
    score = est.score(frame.drop(columns=["label", "price"]), frame["label"])
    assert 0 <= score <= 1
    _check_onnx(runs / "classification", tmp_path, expected)


def _check_onnx(run, tmp_path, expected):
    ort = pytest.importorskip("onnxruntime", reason="the ONNX check needs onnxruntime")
    from manualnn.data.tables import read_table
    from manualnn.io.onnx_columns import column_feeds
    from manualnn.io.rundir import load_run, model_parts
    assert main(["export", str(run), str(tmp_path / "m.onnx")]) == 0
    net, meta, _ = load_run(run)
    encoder = model_parts(meta, run, net.layers).encoder
    feeds = column_feeds(read_table(run.parent / "new.csv", types=encoder.types()), encoder)
    got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(["probabilities"], feeds)[0]
    np.testing.assert_allclose(got, expected, atol=2e-6)


def test_a_table_regressor_predicts_as_manualnn_predict_and_saves(runs, tmp_path, capsys):
    rows = _predicted(runs / "regression", runs / "new.csv", tmp_path, capsys)
    est = MLPRegressor.load(runs / "regression")
    X = pd.read_csv(runs / "new.csv")
    with pytest.warns(UserWarning, match="unseen"):
        P = est.predict(X)
    np.testing.assert_allclose(P, [float(r["price"]) for r in rows], rtol=1e-5, atol=1e-4)
    # saved again, the folder keeps its columns: the CLI and a load read it alike
    est.save(tmp_path / "again")
    with pytest.warns(UserWarning, match="unseen"):
        np.testing.assert_allclose(MLPRegressor.load(tmp_path / "again").predict(X), P,
                                   rtol=1e-6)
    again = _predicted(tmp_path / "again", runs / "new.csv", tmp_path, capsys)
    np.testing.assert_allclose([float(r["price"]) for r in again], P, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("X, words", [
    ({"color": ["red"], "heavy": [True]}, "no column 'size'"),
    ({"color": ["red"], "heavy": [True], "size": ["big"]}, "column 'size'"),
    ({"color": [["red"]], "heavy": [True], "size": [2.0]}, "column 'color'"),
    ({"color": ["red"], "heavy": [True], "size": [[1.0, 2.0]]}, "column 'size'"),
    ({"color": ["red", "blue"], "heavy": [True], "size": [1.0]}, "one length"),
    (np.zeros((2, 4), dtype=object), "2-D array of 3 columns"),
])
def test_bad_columns_are_refused_naming_the_column(runs, X, words):
    """(Numbers in a category's column are read as their text, as from a file: a category
    unseen at training, not a fault.)"""
    est = MLPClassifier.load(runs / "classification")
    with pytest.raises(ValueError, match=words):
        est.predict(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_loaded_table_model_cannot_continue_but_can_be_refitted(runs):
    est = MLPClassifier.load(runs / "classification")
    X = pd.read_csv(runs / "new.csv")
    with pytest.raises(ValueError, match="partial_fit cannot continue"):
        est.partial_fit(X, ["yes", "no", "yes"])
    rng = np.random.default_rng(0)
    est.set_params(max_iter=5).fit(rng.normal(size=(20, 2)), ["yes", "no"] * 10)
    assert est.n_features_in_ == 2 and not hasattr(est, "column_encoder_")
