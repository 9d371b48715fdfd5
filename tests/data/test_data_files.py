"""User data: .npz and .csv files, their labels, and every way they can be wrong."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from damage import MUTATIONS, damaged
from manualnn.checks import DataError
from manualnn.data.datasets import load_dataset
from manualnn.data.tables import read_table
from manualnn.data.userdata import load_csv, load_npz

# ----------------------------------------------------------------------------- .npz


def test_npz_with_string_labels_and_a_test_split(tmp_path):
    path = tmp_path / "pets.npz"
    np.savez(path, X=np.arange(8.0).reshape(4, 2), y=np.array(["dog", "cat", "dog", "emu"]),
             X_test=np.ones((2, 2)), y_test=np.array(["emu", "cat"]))
    ds = load_dataset(str(path))
    assert ds.name == "pets" and ds.classes == ["cat", "dog", "emu"]
    assert ds.y_train.tolist() == [1, 0, 1, 2] and ds.y_test.tolist() == [2, 0]
    assert ds.X_train.dtype == np.float32 and ds.X_test.shape == (2, 2)
    assert ds.image_shape is None


def test_npz_images_are_flattened(tmp_path):
    path = tmp_path / "img.npz"
    np.savez(path, X=np.zeros((3, 4, 5), np.uint8), y=np.array([7, 9, 7]))
    ds = load_npz(path)
    assert ds.X_train.shape == (3, 20) and ds.image_shape == (4, 5)
    assert ds.classes == ["7", "9"] and ds.y_train.tolist() == [0, 1, 0]
    assert ds.X_test is None and ds.y_test is None


@pytest.mark.parametrize("arrays, words", [
    ({"X": np.zeros((2, 2))}, "expected arrays X and y"),
    ({"x": np.zeros((2, 2)), "y": np.zeros(2)}, "expected arrays X and y"),
    ({"X": np.zeros((2, 2)), "y": np.zeros(2), "X_test": np.zeros((1, 2))}, "both X_test"),
    ({"X": np.zeros(4), "y": np.zeros(4)}, "X: expected a non-empty array"),
    ({"X": np.zeros((2, 2, 2, 2)), "y": np.zeros(2)}, "X: expected a non-empty array"),
    ({"X": np.zeros((0, 3)), "y": np.zeros(0)}, "X: expected a non-empty array"),
    ({"X": np.zeros((2, 2)), "y": np.zeros((2, 1, 1))}, "y: expected a 1-D array"),
    ({"X": np.zeros((3, 2)), "y": np.zeros(2)}, "y has 2 labels for the 3 rows"),
    ({"X": np.array([[1.0, np.nan]]), "y": np.zeros(1)}, "X: expected finite"),
    ({"X": np.array([[1.0, np.inf]]), "y": np.zeros(1)}, "X: expected finite"),
    ({"X": np.array([[1e300]]), "y": np.zeros(1)}, "float32 range"),
    ({"X": np.array([["a"]]), "y": np.zeros(1)}, "X: expected numeric features"),
    ({"X": np.zeros((2, 2)), "y": np.array([0.0, np.nan])}, "y: expected finite labels"),
    ({"X": np.zeros((2, 2)), "y": np.zeros(2), "X_test": np.zeros((1, 3)),
      "y_test": np.zeros(1)}, "X_test rows have shape"),
    ({"X": np.zeros((2, 2)), "y": np.zeros(2), "X_test": np.zeros((2, 2)),
      "y_test": np.zeros(1)}, "y_test has 1 labels"),
    ({"X": np.zeros((2, 2)), "y": np.zeros(2), "X_test": np.zeros((1, 2)),
      "y_test": np.ones(1)}, "y_test: label 1.0 is not one of the training classes"),
    ({"X": np.zeros((2, 2)), "y": np.zeros(2), "X_test": np.zeros((1, 2)),
      "y_test": np.array(["a"])}, "cannot match classes"),
])
def test_npz_errors(tmp_path, arrays, words):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=words) as info:
        load_npz(path)
    assert str(path) in str(info.value)


def test_npz_object_arrays_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.array([[1, 2]], dtype=object), y=np.zeros(1))
    with pytest.raises(DataError, match="'X' cannot be read.*allow_pickle"):
        load_npz(path)


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"this is not a zip archive", "not a readable NumPy file"),
    (b"PK\x03\x04 broken zip", "not a readable .npz archive"),
])
def test_unreadable_npz(tmp_path, content, words):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=words):
        load_npz(path)


def test_npy_file_named_npz_and_missing_paths(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    with pytest.raises(DataError, match="single .npy array"):
        load_npz(tmp_path / "a.npz")
    with pytest.raises(DataError, match="no such file"):
        load_dataset(str(tmp_path / "none.npz"))
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(DataError, match="directory"):
        load_npz(tmp_path / "dir.npz")


def test_truncated_npz(tmp_path):
    path = tmp_path / "t.npz"
    np.savez_compressed(path, X=np.random.default_rng(0).random((50, 20)), y=np.zeros(50))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError, match=str(path)):
        load_npz(path)


# ----------------------------------------------------------------------------- .csv


def _csv(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_label_column_default_named_and_last(tmp_path):
    path = _csv(tmp_path, "a,label,b\n1,x,2\n3,y,4\n\n5,x,6\n")
    ds = load_dataset(str(path))
    assert ds.table.names == ["a", "b"] and ds.table.column("b").values.tolist() == [2, 4, 6]
    assert ds.classes == ["x", "y"] and ds.y_train.tolist() == [0, 1, 0]
    ds = load_csv(_csv(tmp_path, "a,label,b\n1,7,2\n3,8,4\n", "a.csv"), label_column="a")
    assert ds.classes == ["1", "3"] and ds.table.names == ["label", "b"]
    path = _csv(tmp_path, "f1,f2,kind\n0.5,1e3,10\n-1,2,2\n", "last.csv")
    ds = load_csv(path)
    # Integer labels sort as numbers (2 < 10), not as strings.
    assert ds.classes == ["2", "10"] and ds.y_train.tolist() == [1, 0]
    assert ds.table.column("f2").values.tolist() == [1000.0, 2.0] and ds.X_test is None


def test_read_table_kinds_and_missing_cells(tmp_path):
    table = read_table(_csv(tmp_path, "x,label,c,b\n1,0.5,red,true\n2, 1.5 ,,false\n"
                                      "NA,2,blue,\n"))
    kinds = {c.name: c.kind for c in table.columns}
    assert kinds == {"x": "number", "label": "number", "c": "category", "b": "boolean"}
    assert np.isnan(table.column("x").values[2]) and table.column("label").values[1] == 1.5
    c = table.column("c")
    assert [c.levels[v] if v >= 0 else None for v in c.values] == ["red", None, "blue"]
    assert table.column("b").values[:2].tolist() == [1, 0]


def test_csv_with_windows_line_ends_and_bom(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(b"\xef\xbb\xbfx,label\r\n1,a\r\n2,b\r\n")
    assert load_csv(path).table.column("x").values.tolist() == [1, 2]


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("\n\n", "expected a header"),
    ("x,label\n", "no data rows"),
    ("label\n1\n", "expected feature columns"),
    ("x,label\n1,a\n2,b,3\n", "line 3: expected 2 cells"),
    ("x,label\n1,a\n\n\n2,b,3\n", "line 5: expected 2 cells"),
    ("x,y,label\n" + "".join(f"{i},{i},a\n" for i in range(20)) + "3,abc,b\n",
     "line 22, column 'y': expected a number, got 'abc'"),
    ("x,label\n1,a\n-inf,b\n", "line 3, column 'x': expected a finite number"),
    ("x,label\n1,\n2,b\n", "line 2, column 'label': expected a label, got a missing"),
    ('x,label\n"1,a\n', "malformed CSV|expected 2 cells"),
    ("x,x\n1,2\n", "distinct"),
])
def test_csv_errors(tmp_path, text, words):
    path = _csv(tmp_path, text)
    with pytest.raises(DataError, match=words) as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_csv_unknown_label_column_and_bad_bytes(tmp_path):
    path = _csv(tmp_path, "x,label\n1,a\n")
    with pytest.raises(DataError, match="no column 'kind'; columns are"):
        load_csv(path, label_column="kind")
    with pytest.raises(TypeError, match="label_column"):
        load_csv(path, label_column=1)
    path.write_bytes(b"x,label\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="not UTF-8"):
        load_csv(path)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), compressed=st.booleans())
def test_corrupted_npz_gives_data_error_or_a_dataset(tmp_path, data, compressed):
    path = tmp_path / "fuzz.npz"
    save = np.savez_compressed if compressed else np.savez
    save(path, X=np.arange(12.0).reshape(4, 3), y=np.array([0, 1, 0, 1]))
    blob = path.read_bytes()
    mutations = data.draw(MUTATIONS.filter(bool))
    path.write_bytes(damaged(blob, mutations, data.draw(st.integers(1, len(blob)))))
    try:
        load_npz(path)
    except DataError:
        pass


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list('0123456789.,-e"\n abnlx')), max_size=60))
def test_random_csv_gives_data_error_or_a_dataset(tmp_path, text):
    path = tmp_path / "fuzz.csv"
    path.write_text(text)
    try:
        ds = load_csv(path)
    except DataError:
        return
    assert ds.table.rows == len(ds.y_train) and ds.X_train is None
