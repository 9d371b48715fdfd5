"""Tables (data/tables.py) and their columns as numbers (data/columns.py): kinds, missing
cells, the encoding fitted on training rows, its JSON, and hostile files."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manualnn.checks import DataError
from manualnn.data.columns import ColumnEncoder
from manualnn.data.tables import read_table
from manualnn.data.targets import decide_task
from manualnn.data.userdata import load_table

pa = pytest.importorskip("pyarrow", reason="tables need the tabular extra (pyarrow)")

TEXT = ("n,c,b,label\n"
        "1.5,red,true,a\n"
        ",blue,false,b\n"
        "3.5,,true,a\n"
        "2.5,red,,b\n")


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_encoder_imputes_one_hots_and_counts_unseen(tmp_path):
    table = read_table(_write(tmp_path, TEXT)).without(["label"])
    enc = ColumnEncoder.fit(table)
    assert enc.feature_names() == ["n", "n (missing)", "c=blue", "c=red", "c (missing)",
                                   "b", "b (missing)"]
    X, unseen = enc.transform(table)
    assert X.dtype == np.float32 and unseen == {}
    assert X.tolist() == [[1.5, 0, 0, 1, 0, 1, 0], [2.5, 1, 1, 0, 0, 0, 0],
                          [3.5, 0, 0, 0, 1, 1, 0], [2.5, 0, 0, 1, 0, 1, 1]]
    new = read_table(_write(tmp_path, "c,n,b,extra\ngreen,7,false,x\nred,,true,y\n", "n.csv"),
                     types=enc.types())
    X, unseen = enc.transform(new)   # columns found by name, in any order, extras ignored
    assert unseen == {"c": 1} and X[0].tolist() == [7, 0, 0, 0, 0, 0, 0]
    assert X[1].tolist() == [2.5, 1, 0, 1, 0, 1, 0]
    again = ColumnEncoder.from_json(json.loads(json.dumps(enc.to_json())), "m")
    assert np.array_equal(again.transform(new)[0], X)


def test_parquet_reads_as_the_csv(tmp_path):
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    path = _write(tmp_path, TEXT)
    pq.write_table(pcsv.read_csv(path), tmp_path / "t.parquet")
    a, b = read_table(path), read_table(tmp_path / "t.parquet")
    assert a.names == b.names and [c.kind for c in a.columns] == [c.kind for c in b.columns]
    enc = ColumnEncoder.fit(a.without(["label"]))
    assert np.array_equal(enc.transform(a)[0], enc.transform(b)[0])
    with pytest.raises(DataError, match="row 2, column 'n': expected a finite number"):
        pq.write_table(pa.table({"n": [1.0, float("inf")]}), tmp_path / "inf.parquet")
        read_table(tmp_path / "inf.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_table(tmp_path / "bad.parquet")


@pytest.mark.parametrize("spec", [
    [], "x", [{"name": "n", "kind": "number", "median": float("nan"), "indicator": False}],
    [{"name": "n", "kind": "number", "median": 1, "indicator": "yes"}],
    [{"name": "c", "kind": "category", "categories": ["a", "a"], "missing": False}],
    [{"name": "c", "kind": "category", "categories": [], "missing": False}],
    [{"name": "c", "kind": "date", "categories": ["a"], "missing": False}],
    [{"name": "n", "kind": "number", "median": 1, "indicator": False, "extra": 1}],
])
def test_hostile_column_json_is_refused(spec):
    with pytest.raises(DataError, match="columns"):
        ColumnEncoder.from_json(spec, "model.json")


@pytest.mark.parametrize("labels, task", [
    ([0.5, 1.5, 0.5, 2.25], "regression"), ([1, 2, 1, 2], "classification"),
    (["x", "y", "x", "y"], "classification"), ([True, False, True, True], "classification"),
    (list(range(150)), "regression"),
])
def test_auto_task(tmp_path, labels, task):
    rows = "".join(f"{i},{v}\n" for i, v in enumerate(labels))
    table = read_table(_write(tmp_path, "x,label\n" + rows))
    assert decide_task(table, [table.column("label")], "auto") == task


def test_auto_task_refuses_when_unsure_and_never_makes_classes_of_reals(tmp_path):
    rows = "".join(f"{i},{i % 50}\n" for i in range(200))   # 50 whole numbers: classes?
    with pytest.raises(DataError, match="--task classification or --task regression"):
        load_table(_write(tmp_path, "x,label\n" + rows))
    ds = load_table(_write(tmp_path, "x,label\n" + rows, "r.csv"), task="regression")
    assert ds.task == "regression" and ds.y_train.shape == (200, 1)
    ds = load_table(_write(tmp_path, "x,y\n1,0.5\n2,0.5\n3,1.5\n", "f.csv"))
    assert ds.task == "regression" and ds.classes == ["y"]


def test_several_targets_and_dropped_columns(tmp_path):
    path = _write(tmp_path, "id,a,b,t1,t2\n1,0.1,x,1.5,2\n2,0.2,y,2.5,3\n3,0.3,x,0.5,1\n")
    ds = load_table(path, ["t1", "t2"], ["id"])
    assert ds.task == "regression" and ds.table.names == ["a", "b"]
    assert ds.y_train.tolist() == [[1.5, 2], [2.5, 3], [0.5, 1]]
    with pytest.raises(ValueError, match="classification takes one label column"):
        load_table(path, ["t1", "t2"], task="classification")
    with pytest.raises(ValueError, match="are label columns"):
        load_table(path, ["t1"], ["t1"])
    with pytest.raises(DataError, match="holds text; regression needs numbers"):
        load_table(path, ["b"], task="regression")


def test_bytes_that_are_not_utf8_and_numbers_beyond_float32_name_their_line(tmp_path):
    """Found by fuzzing: an invalid row of non-UTF-8 bytes made pyarrow print to stderr,
    and 1e113 passed as a number but became inf in float32."""
    with pytest.raises(DataError, match="line 3: not UTF-8"):
        path = tmp_path / "u.csv"
        path.write_bytes(b"a,b\n1,2\n3,\xff,4\n")
        read_table(path)
    with pytest.raises(DataError, match="line 3, column 'a': expected a finite number within"):
        read_table(_write(tmp_path, "a,b\n1,2\n1e113,3\n", "big.csv"))


def test_the_size_and_cells_are_checked_before_the_parse(tmp_path):
    path = _write(tmp_path, "x,label\n" + "1,a\n" * 1000)
    with pytest.raises(DataError, match="more than the memory limit"):
        read_table(path, limit=4000)   # the file fits, its cells do not
    with pytest.raises(DataError, match="more than the memory limit"):
        read_table(path, limit=100)


def test_the_adversarys_file_stays_small(tmp_path):
    """Issue 25, item 1: 2,500 rows, one label 50,000 characters long: the old reader
    made fixed-width string arrays of every cell (about 3 GB); trained under
    --max-memory 50M it must be refused or stay small."""
    rows = [f"{i % 7},{i % 3},{'x' * 50_000 if i == 0 else 'ab'[i % 2]}" for i in range(2500)]
    path = _write(tmp_path, "f1,f2,label\n" + "\n".join(rows) + "\n")
    assert os.path.getsize(path) < 80_000
    # VmHWM, the peak of this process's memory since its exec (ru_maxrss would count the
    # pytest process it was forked from)
    code = ("import sys; from manualnn.cli import main; code = main(sys.argv[1:]); "
            "print([l.split()[1] for l in open('/proc/self/status') if "
            "l.startswith('VmHWM')][0]); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, "train", "--dataset", str(path),
                           "--out", str(tmp_path / "run"), "--epochs", "1", "--quiet",
                           "--max-memory", "50M"], check=False, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode in (0, 2), proc.stderr
    peak_kib = int(proc.stdout.split()[-1])
    assert peak_kib < 600 * 1024, f"peak {peak_kib / 1024:.0f} MiB"


HOSTILE = st.sampled_from(["", " ", "NA", "nan", "inf", "-inf", "1e999", "0", "-1.5", "1,5",
                           '"', '""', '"a,b"', "true", "False", "\u00e9t\u00e9", "\x00",
                           "a\nb", "=1+1", "x" * 300, "\ufeff", "9" * 40])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(HOSTILE, min_size=3, max_size=3), min_size=1, max_size=6))
def test_hostile_cells_give_a_table_or_a_data_error(tmp_path, cells):
    text = "a,b,label\n" + "\n".join(",".join(row) for row in cells) + "\n"
    path = tmp_path / "h.csv"
    path.write_text(text)
    try:
        ds = load_table(path, task="classification")
        enc = ColumnEncoder.fit(ds.table)
    except (DataError, ValueError) as exc:
        assert str(path) in str(exc) or "label_column" in str(exc)
        return
    X, _ = enc.transform(ds.table)
    assert np.isfinite(X).all() and X.shape == (ds.table.rows, enc.width)

