"""Tables end to end (issue 24): CSV and Parquet files through train, evaluate, predict,
export and report; regression; the recipe chosen from the data; every refusal one line."""

import csv
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import one_line
from manualnn.cli import main
from manualnn.io.rundir import load_run

pa = pytest.importorskip("pyarrow", reason="tables need the tabular extra (pyarrow)")
sk = pytest.importorskip("sklearn", reason="the bundled tables come with scikit-learn")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _split(frame, folder, name, seed=0):
    from sklearn.model_selection import train_test_split
    train, test = train_test_split(frame, test_size=0.25, random_state=seed)
    paths = folder / f"{name}_train.csv", folder / f"{name}_test.csv"
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    return paths


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    from sklearn.datasets import load_diabetes
    return _split(load_diabetes(as_frame=True).frame, tmp_path_factory.mktemp("diabetes"),
                  "diabetes")


def _predictions(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_diabetes_regression_train_evaluate_predict_export(diabetes, tmp_path, capsys):
    train, test = diabetes
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(train), "--out", str(run), "--epochs", "30"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("chosen for 331 rows (regression): --batch-size 16 --early-stopping")
    assert "|   Val RMSE |    Val MAE |  Val R^2 |" in out
    net, meta, _ = load_run(run)
    assert meta["task"] == "regression" and net.layers[-1] == 1   # never 187 classes
    with open(run / "history.csv") as f:
        assert f.readline().startswith("epoch,lr,train_loss,val_loss,val_rmse,val_mae,val_r2")
    assert main(["evaluate", str(run), "--dataset", str(test), "--plot"]) == 0
    text = capsys.readouterr().out
    r2 = float(text.split("R^2 ")[1].split()[0])
    assert "predictions picture" in text or "no plot" in text
    assert main(["predict", str(run), str(test), "--output", str(tmp_path / "p.csv")]) == 0
    rows = _predictions(tmp_path / "p.csv")
    P = np.array([float(r["target"]) for r in rows])
    import pandas as pd
    from sklearn.metrics import r2_score
    Y = pd.read_csv(test)["target"].to_numpy()
    assert abs(r2_score(Y, P) - r2) < 1e-4 and r2 > 0.2
    # the estimator trained the same way (standardized X and y, same widths, adam,
    # batches, epochs) scores the same, give or take the seeds
    from manualnn.sklearn import MLPRegressor
    frame = pd.read_csv(train)
    X, y = frame.drop(columns="target").to_numpy(), frame["target"].to_numpy()
    mu, sd = X.mean(0), X.std(0)
    est = MLPRegressor((128, 64), batch_size=16, max_iter=30, random_state=0, alpha=0,
                       tol=0, n_iter_no_change=1000, early_stopping=True).fit(
        (X - mu) / sd, (y - y.mean()) / y.std())
    Xt = pd.read_csv(test).drop(columns="target").to_numpy()
    theirs = r2_score(Y, est.predict((Xt - mu) / sd) * y.std() + y.mean())
    assert abs(theirs - r2) < 0.15, (theirs, r2)
    _check_onnx(run, test, tmp_path, P[:, None])


def _check_onnx(run, data, tmp_path, expected):
    ort = pytest.importorskip("onnxruntime", reason="the ONNX check needs onnxruntime")
    from manualnn.data.tables import read_table
    from manualnn.io.onnx_columns import column_feeds
    from manualnn.io.rundir import model_parts
    assert main(["export", str(run), str(tmp_path / "m.onnx")]) == 0
    net, meta, _ = load_run(run)
    parts = model_parts(meta, run, net.layers)
    feeds = column_feeds(read_table(data, types=parts.encoder.types()), parts.encoder)
    got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, feeds)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


MIXED = ["id,color,heavy,size,weight,label"] + [
    f"{i},{['red', 'blue', 'green', ''][i % 4]},{['true', 'false', ''][i % 3]},"
    f"{'' if i % 5 == 0 else i % 7},{(i % 11) * 0.5},{'yes' if (i % 4 < 2) else 'no'}"
    for i in range(80)]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_strings_booleans_and_missing_cells_end_to_end(tmp_path, capsys, kind):
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    path = tmp_path / "mixed.csv"
    # the label first: any column may be the label
    lines = [",".join([r.split(",")[-1], *r.split(",")[:-1]]) for r in MIXED]
    path.write_text("\n".join(lines) + "\n")
    if kind == "parquet":
        table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
            strings_can_be_null=True))
        path = tmp_path / "mixed.parquet"
        pq.write_table(table, path)
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--label-column", "label", "--drop-columns",
                 "id", "--out", str(run), "--epochs", "30", "--quiet"]) == 0
    _, meta, _ = load_run(run)
    assert [c["kind"] for c in meta["columns"]] == ["category", "boolean", "number", "number"]
    assert meta["classes"] == ["no", "yes"]
    new = tmp_path / "new.csv"
    new.write_text("id,weight,size,heavy,color\n7,1.5,3,true,purple\n8,,,,red\n")
    capsys.readouterr()
    assert main(["predict", str(run), str(new), "--id-column", "id"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(captured.out.splitlines()))
    assert [r["id"] for r in rows] == ["7", "8"] and rows[1]["label"] in ("yes", "no")
    assert "column 'color': 1 rows with a category unseen at training" in captured.err
    assert main(["evaluate", str(run), "--dataset", str(path)]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert main(["predict", str(run), str(new), "--output", str(tmp_path / "p.parquet")]) == 0
    assert pq.read_table(tmp_path / "p.parquet").num_rows == 2
    onnx_rows = [["purple", 1.5, 3, 1], ["red", np.nan, np.nan, np.nan]]
    _check_new_rows_onnx(run, tmp_path, onnx_rows, rows)


def _check_new_rows_onnx(run, tmp_path, values, rows):
    ort = pytest.importorskip("onnxruntime", reason="the ONNX check needs onnxruntime")
    assert main(["export", str(run), str(tmp_path / "m.onnx")]) == 0
    feeds = {"color": np.array([[v[0]] for v in values], dtype=object),
             "weight": np.array([[v[1]] for v in values], np.float32),
             "size": np.array([[v[2]] for v in values], np.float32),
             "heavy": np.array([[v[3]] for v in values], np.float32)}
    probs = ort.InferenceSession(str(tmp_path / "m.onnx")).run(["probabilities"], feeds)[0]
    expected = [[float(r["p_no"]), float(r["p_yes"])] for r in rows]
    np.testing.assert_allclose(probs, expected, atol=2e-6)


def test_penguins_end_to_end(tmp_path, capsys):
    pytest.importorskip("palmerpenguins", reason="the penguins table comes with palmerpenguins")
    import palmerpenguins
    import pandas as pd
    source = os.path.join(os.path.dirname(palmerpenguins.__file__), "data", "penguins.csv")
    train, test = _split(pd.read_csv(source), tmp_path, "penguins")
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(train), "--label-column", "species", "--out",
                 str(run), "--epochs", "25", "--quiet"]) == 0
    assert main(["evaluate", str(run), "--dataset", str(test)]) == 0
    accuracy = float(capsys.readouterr().out.split("accuracy ")[1].split("%")[0])
    assert accuracy > 90
    capsys.readouterr()
    assert main(["predict", str(run), str(test)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + len(pd.read_csv(test))
    assert main(["export", str(run), str(tmp_path / "p.onnx")]) == 0


def test_the_chosen_recipe_is_recorded_and_reruns_exactly(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    path = tmp_path / "t.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{a},{b},{c},{a - 2 * b + 0.1 * c}\n"
                                          for a, b, c in X))
    assert main(["train", "--dataset", str(path), "--out", str(tmp_path / "a"), "--quiet",
                 "--epochs", "5", "--hidden", "8"]) == 0
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["loss"] == "mse" and config["batch_size"] == 16 and config["epochs"] == 5
    assert main(["train", "--config", str(tmp_path / "a"), "--out", str(tmp_path / "b"),
                 "--quiet"]) == 0
    a = (tmp_path / "a" / "model.safetensors").read_bytes()
    assert a == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_report_shows_predicted_against_actual(diabetes, tmp_path):
    pytest.importorskip("jinja2", reason="the report needs the report extra")
    pytest.importorskip("matplotlib", reason="the report needs the report extra")
    train, test = diabetes
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(train), "--out", str(run), "--epochs", "3",
                 "--quiet"]) == 0
    assert main(["report", str(run), "--dataset", str(test)]) == 0
    page = (run / "report.html").read_text()
    assert "Predicted against actual" in page and "test R^2" in page


def test_npz_bytes_labels_are_decoded_or_refused_before_training(tmp_path, capsys):
    """Issue 25, item 9: labels of dtype S failed at save, after an epoch."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    np.savez(tmp_path / "b.npz", X=X, y=np.array([b"cat", b"dog"] * 20))
    assert main(["train", "--dataset", str(tmp_path / "b.npz"), "--out", str(tmp_path / "r"),
                 "--epochs", "1", "--hidden", "4", "--quiet"]) == 0
    assert load_run(tmp_path / "r")[1]["classes"] == ["cat", "dog"]
    np.savez(tmp_path / "c.npz", X=X, y=np.array([b"\xff", b"dog"] * 20))
    capsys.readouterr()
    assert main(["train", "--dataset", str(tmp_path / "c.npz"), "--out", str(tmp_path / "s"),
                 "--epochs", "1", "--quiet"]) == 2
    assert "not UTF-8" in one_line(capsys) and not (tmp_path / "s").exists()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    (folder / "t.csv").write_text("a,kind,label\n" + "".join(
        f"{i},{'xy'[i % 2]},{'pq'[i % 3 == 0]}\n" for i in range(30)))
    np.savez(folder / "n.npz", X=np.zeros((10, 2)), y=np.arange(10) % 2)
    assert main(["train", "--dataset", str(folder / "t.csv"), "--out", str(folder / "run"),
                 "--epochs", "2", "--quiet"]) == 0
    return folder


@pytest.mark.parametrize("argv, words", [
    (["train", "--dataset", "{d}/t.csv", "--label-column", "nope"], "no column 'nope'"),
    (["train", "--dataset", "{d}/t.csv", "--drop-columns", "label,a", "--label-column",
      "label"], "are label columns"),
    (["train", "--dataset", "{d}/t.csv", "--task", "regression"], "holds text"),
    (["train", "--dataset", "{d}/t.csv", "--loss", "softmax_cross_entropy", "--task",
      "regression", "--label-column", "a"], "a regression takes mse or huber"),
    (["train", "--dataset", "{d}/t.csv", "--drop-columns", "a,"], "column names"),
    (["predict", "{d}/run", "{d}/n.npz"], "expected one .csv or .parquet"),
    (["predict", "{d}/run", "{d}/t.csv", "--output", "{d}/p.xml"], "expected a .csv, .parquet"),
    (["predict", "{d}/run", "{d}/t.csv", "--id-column", "zz"], "no column 'zz'"),
    (["evaluate", "{d}/run", "--dataset", "{d}/n.npz"], "give a .csv or .parquet"),
    (["evaluate", "{d}/run"], "no test split"),
])
def test_refusals_are_one_line(small_run, tmp_path, capsys, argv, words):
    argv = [a.format(d=small_run) for a in argv]
    if argv[0] == "train":
        argv += ["--out", str(tmp_path / "x"), "--quiet"]
    assert main(argv) == 2
    line = one_line(capsys)
    assert words in line, line


CELLS = st.sampled_from(["", "NA", "nan", "inf", "-1e999", "0", "2.5", " 7 ", "true", "x",
                         '"a,b"', "\u00e9", "=cmd()", "y" * 200, "1_000", "0x1F"])


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=2, max_size=8),
       task=st.sampled_from(["auto", "classification", "regression"]))
def test_hostile_cells_train_or_are_refused_in_one_line(tmp_path_factory, capsys, rows, task):
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "h.csv"
    path.write_text("a,b,label\n" + "\n".join(",".join(r) for r in rows) + "\n")
    code = main(["train", "--dataset", str(path), "--out", str(folder / "run"), "--task",
                 task, "--epochs", "1", "--hidden", "4", "--quiet"])
    if code == 2:
        one_line(capsys)
    else:
        assert code == 0 and (folder / "run" / "model.json").exists()


def test_the_estimators_read_a_regression_folder_in_the_targets_units(small_run, tmp_path):
    from manualnn.cli.evaluation import outputs_on_test
    from manualnn.sklearn import MLPClassifier, MLPRegressor
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = 50 + 10 * X @ [1.0, -2.0, 0.5]
    np.savez(tmp_path / "r.npz", X=X[:90], y=y[:90], X_test=X[90:], y_test=y[90:])
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(tmp_path / "r.npz"), "--out", str(run),
                 "--epochs", "3", "--hidden", "8", "--quiet"]) == 0
    P = outputs_on_test(run)["P"][:, 0]
    np.testing.assert_allclose(MLPRegressor.load(run).predict(X[90:]), P, rtol=1e-4, atol=1e-3)
    # a table's model takes the table's columns (tests/sklearn/test_sklearn_tables.py)
    est = MLPClassifier.load(small_run / "run")
    assert list(est.feature_names_in_) == ["a", "kind"] and est.n_features_in_ == 2


def test_an_encoding_too_wide_for_the_limit_is_refused_before_it_is_made(tmp_path):
    from manualnn.cli.experiment import encode_within
    from manualnn.data.columns import ColumnEncoder
    from manualnn.data.tables import read_table
    path = tmp_path / "ids.csv"
    path.write_text("id,label\n" + "".join(f"u{i},{i % 2}\n" for i in range(400)))
    table = read_table(path)
    enc = ColumnEncoder.fit(table.without(["label"]))
    assert enc.width == 400   # one column per distinct id
    with pytest.raises(ValueError, match="rows encode to 400 columns"):
        encode_within(table, enc, limit=400 * 400 * 4)
    assert encode_within(table, enc, limit=None)[0].shape == (400, 400)


def test_two_targets_train_evaluate_predict_and_export(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(160, 3))
    lines = [f"{a:.4f},{b:.4f},{'pq'[int(c > 0)]},{a + b:.4f},{100 * (a - b):.4f}"
             for a, b, c in X]
    path = tmp_path / "two.csv"
    path.write_text("a,b,kind,sum,diff\n" + "\n".join(lines) + "\n")
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--label-column", "sum", "--label-column",
                 "diff", "--out", str(run), "--epochs", "40", "--quiet"]) == 0
    _, meta, _ = load_run(run)
    assert meta["classes"] == ["sum", "diff"] and len(meta["target_scale"]) == 2
    capsys.readouterr()
    assert main(["evaluate", str(run), "--dataset", str(path)]) == 0
    text = capsys.readouterr().out
    assert "target" in text and "\nsum " in text and "\ndiff " in text
    assert main(["predict", str(run), str(path), "--output", str(tmp_path / "p.csv")]) == 0
    rows = _predictions(tmp_path / "p.csv")
    assert list(rows[0]) == ["row", "sum", "diff"] and len(rows) == 160
    _check_onnx(run, path, tmp_path, np.array([[float(r["sum"]), float(r["diff"])]
                                              for r in rows]))
