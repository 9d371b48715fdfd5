"""Fuzzing the inputs of ``manualnn predict``: pictures, .npy/.npz arrays, model folders.

Every input either works or raises DataError / ValueError / TypeError with a message;
nothing else escapes, nothing hangs.  IDX, .npz datasets, CSV and the safetensors header
are fuzzed in test_data_idx.py, test_data_files.py and test_serialize.py.
"""

import io
import json
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from damage import MUTATIONS, damaged
from manualnn.checks import DataError
from manualnn.cli.predict import predict_files, read_array, read_image, read_inputs
from manualnn.core.network import MLP
from manualnn.io.rundir import load_run
from manualnn.io.serialize import CONFIG_FILE, save_model

FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
CLEAR = (DataError, ValueError, TypeError)
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")  # zip members


def _write(blob: bytes, suffix: str) -> str:
    fd, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(blob)
    return path


def _clear_error(exc: BaseException) -> bool:
    return isinstance(exc, CLEAR) and len(str(exc)) > 10


# -- pictures ------------------------------------------------------------------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@st.composite
def pngs(draw):
    """PNG files with valid chunk checksums and arbitrary header fields and pixel data."""
    size = st.integers(1, 40) | st.integers(0, 2**31 - 1)
    ihdr = struct.pack(">IIBBBBB", draw(size), draw(size),
                       draw(st.sampled_from([1, 2, 4, 8, 16]) | st.integers(0, 255)),
                       draw(st.sampled_from([0, 2, 3, 4, 6]) | st.integers(0, 255)),
                       draw(st.integers(0, 1)), draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    raw = draw(st.binary(max_size=400))
    pixels = zlib.compress(raw) if draw(st.booleans()) else raw
    chunks = [_chunk(b"IHDR", ihdr)]
    if draw(st.booleans()):
        chunks.append(_chunk(b"PLTE", draw(st.binary(max_size=48))))
    if draw(st.booleans()):
        chunks.append(_chunk(b"tRNS", draw(st.binary(max_size=8))))
    chunks += [_chunk(b"IDAT", pixels), _chunk(b"IEND", b"")]
    if draw(st.booleans()):
        chunks = draw(st.permutations(chunks))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _seed_pictures():
    from PIL import Image
    rng = np.random.default_rng(0)
    seeds = []
    for mode, fmt in [("L", "PNG"), ("RGB", "PNG"), ("RGBA", "PNG"), ("P", "PNG"),
                      ("I;16", "PNG"), ("1", "PNG"), ("L", "GIF"), ("RGB", "BMP"),
                      ("RGB", "JPEG")]:
        img = Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)).convert(mode)
        out = io.BytesIO()
        img.save(out, fmt)
        seeds.append(out.getvalue())
    return seeds


PICTURES = _seed_pictures()
EXTENSIONS = [".png"] * 6 + [".gif", ".bmp", ".jpg"]   # the seeds' formats, in order


def _check_picture(blob: bytes) -> None:
    path = _write(blob, ".png")
    try:
        x = read_image(path, (4, 5))
    except Exception as exc:  # noqa: BLE001 (the test is that only clear errors come)
        assert _clear_error(exc), repr(exc)
    else:
        assert x.shape == (20,) and x.dtype == np.float32
        assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 255
    finally:
        os.unlink(path)


@FUZZ
@given(pngs())
def test_generated_pngs_give_pixels_or_a_clear_error(blob):
    _check_picture(blob)


@FUZZ
@given(st.sampled_from(PICTURES), MUTATIONS, st.integers(0, 10**6))
def test_mutated_pictures_give_pixels_or_a_clear_error(seed, mutations, keep):
    _check_picture(damaged(seed, mutations, keep))


def test_the_seed_pictures_are_read():
    for blob, ext in zip(PICTURES, EXTENSIONS):   # each under its own format's name
        path = _write(blob, ext)
        try:
            assert read_image(path, (4, 5)).shape == (20,)
        finally:
            os.unlink(path)


# -- arrays --------------------------------------------------------------------------------
DESCRS = st.sampled_from(["<f8", "<f4", "|u1", ">i4", "<i8", "|b1", "<c16", "|O", "<U3",
                          "|V4", "<f2", [("a", "<f4")], "xyz", 7])
SHAPES = st.lists(st.integers(0, 6) | st.integers(-3, 2**63), max_size=4).map(tuple)


@st.composite
def npy_files(draw):
    """.npy bytes: versions 1-3, any header dict (or text), a body of any length."""
    header = repr({"descr": draw(DESCRS), "fortran_order": draw(st.booleans() | st.just(3)),
                   "shape": draw(SHAPES | st.just("(2,)"))})
    if draw(st.integers(0, 9)) == 0:
        header = draw(st.text(max_size=60))
    text = header.encode("latin1", "replace") + b"\n"
    major = draw(st.sampled_from([1, 2, 3]) | st.integers(0, 255))
    length = struct.pack("<H" if major == 1 else "<I", min(len(text), 65535))
    body = draw(st.binary(max_size=200))
    return b"\x93NUMPY" + bytes([major, 0]) + length + text + body


def _check_array(blob: bytes, suffix: str) -> None:
    path = _write(blob, suffix)
    try:
        X = read_array(path)
    except Exception as exc:  # noqa: BLE001
        assert _clear_error(exc), repr(exc)
    else:
        assert X.ndim == 2 and X.dtype.kind in "biuf"
    finally:
        os.unlink(path)


@FUZZ
@given(npy_files())
def test_generated_npy_files_load_or_give_a_clear_error(blob):
    _check_array(blob, ".npy")


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["X.npy", "y.npy", "other", "X"]), npy_files()),
                max_size=3),
       st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_generated_npz_archives_load_or_give_a_clear_error(members, method):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, blob in members:
            archive.writestr(name, blob)
    _check_array(out.getvalue(), ".npz")


def _valid_arrays():
    rng = np.random.default_rng(0)
    out = []
    for save in (np.save, lambda f, a: np.savez(f, X=a),
                 lambda f, a: np.savez_compressed(f, a)):
        buf = io.BytesIO()
        save(buf, rng.standard_normal((3, 4)))
        out.append(buf.getvalue())
    return out


ARRAYS = _valid_arrays()


@FUZZ
@given(st.sampled_from(range(len(ARRAYS))), MUTATIONS, st.integers(0, 10**6))
def test_mutated_array_files_load_or_give_a_clear_error(which, mutations, keep):
    _check_array(damaged(ARRAYS[which], mutations, keep), ".npy" if which == 0 else ".npz")


@FUZZ
@given(st.lists(st.sampled_from(["a.npy", "b.npz", "c.png", "d.JPG", "e.txt", "f", "", ".npy",
                                 "g.csv"]), max_size=4),
       st.none() | st.sampled_from([[2, 2], [3, 3]]))
def test_any_list_of_input_paths_reads_or_gives_a_clear_error(tmp_path, names, image_shape):
    np.save(tmp_path / "a.npy", np.ones((2, 4)))
    np.savez(tmp_path / "b.npz", X=np.ones((1, 4)))
    (tmp_path / "c.png").write_bytes(PICTURES[0])
    try:
        rows, X = read_inputs([str(tmp_path / n) for n in names], image_shape)
    except Exception as exc:  # noqa: BLE001
        assert _clear_error(exc), repr(exc)
    else:
        assert len(rows) == X.shape[0] and X.ndim == 2


# -- model folders -------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3), max_leaves=8)
GOOD_META = {"task": "classification", "loss": "softmax_cross_entropy", "classes": ["a", "b"],
             "preprocess": "standardize", "image_shape": [2, 2], "epoch": 3}


def _model(folder, meta=None, arrays=None):
    net = MLP([4, 3, 2], rng=0)
    pre = {"preprocess.shift": np.zeros(4), "preprocess.scale": np.ones(4)}
    save_model(folder, net, GOOD_META if meta is None else meta, pre if arrays is None else arrays)
    return net


def test_the_model_folder_of_these_tests_predicts(tmp_path):
    _model(tmp_path)
    np.save(tmp_path / "x.npy", np.ones((2, 4)))
    assert predict_files(tmp_path, [tmp_path / "x.npy"]).count("\n") == 3


def _check_run(folder) -> None:
    """load_run and a prediction from it: results, or a clear error."""
    np.save(os.path.join(folder, "x.npy"), np.ones((2, 4)))
    try:
        load_run(folder)
        predict_files(folder, [os.path.join(folder, "x.npy")])
    except Exception as exc:  # noqa: BLE001
        assert _clear_error(exc), repr(exc)


@FUZZ
@given(st.sampled_from(sorted(GOOD_META)), JSON_VALUES,
       st.sampled_from([None, "preprocess.shift", "preprocess.scale"]),
       st.sampled_from([(4,), (3,), (4, 1), (0,)]))
def test_fuzzed_meta_and_preprocessing_arrays_load_or_give_a_clear_error(key, value, array,
                                                                          shape):
    arrays = {"preprocess.shift": np.zeros(4), "preprocess.scale": np.ones(4)}
    if array is not None:
        arrays[array] = np.full(shape, 0.5)
    with tempfile.TemporaryDirectory() as folder:
        _model(folder, {**GOOD_META, key: value}, arrays)
        _check_run(folder)


PATHS = ["format", "format_version", "manualnn_version", "arrays", "meta",
         "architecture", "architecture.layers", "architecture.bias", "architecture.dtype",
         "architecture.dropout", "architecture.activations",
         "architecture.activations.hidden", "architecture.activations.output",
         "meta.classes", "meta.image_shape", "meta.preprocess", "new"]


@FUZZ
@given(st.sampled_from(PATHS), JSON_VALUES | st.just("relu"))
def test_fuzzed_model_json_loads_or_names_the_mismatch(path, value):
    with tempfile.TemporaryDirectory() as folder:
        _model(folder)
        file = os.path.join(folder, CONFIG_FILE)
        with open(file) as f:
            doc = json.load(f)
        *parents, key = path.split(".")
        target = doc
        for p in parents:
            target = target[p]
        changed = target.get(key, object()) != value
        target[key] = value
        with open(file, "w") as f:
            json.dump(doc, f)
        try:
            load_run(folder)
        except DataError as exc:
            assert CONFIG_FILE in str(exc) or "model" in str(exc)
        else:
            assert not changed, "an edited model.json must not load as if nothing happened"


@pytest.mark.parametrize("shape", [[10**5, 10**5], [2, 3], [4], "2x2", [2, True], [-2, -2]])
def test_an_image_shape_that_does_not_fit_the_inputs_is_refused(tmp_path, shape):
    """predict resizes pictures to the model's image_shape: a hostile one must not be
    able to ask for a 10^10-pixel picture."""
    _model(tmp_path, {**GOOD_META, "image_shape": shape})
    with pytest.raises(DataError, match=r"image_shape .* expected \[rows, cols\] with rows x "
                                        r"cols = 4 inputs"):
        load_run(tmp_path)
