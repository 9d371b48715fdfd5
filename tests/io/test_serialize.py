"""Model files: round trips, and every way a hostile or damaged file must be refused."""

import itertools
import json
import os
import struct
import tempfile
import time
import tracemalloc

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manualnn import atomic
from manualnn.checks import DataError
from manualnn.core.activations import ACTIVATIONS, LeakyReLU, register_activation
from manualnn.core.network import MLP
from manualnn.io.serialize import (
    CONFIG_FILE,
    MODEL_FILE,
    load_arrays,
    load_model,
    save_arrays,
    save_model,
)


def make_net(layers=(4, 5, 3), activation="relu", dtype="float32", bias=True, seed=0, **kw):
    return MLP(list(layers), activation, bias=bias, dtype=dtype, rng=seed, **kw)


def raw_file(header: dict, data: bytes = b"", length: int | None = None) -> bytes:
    """A safetensors file built by hand, so that it can be as wrong as a test needs."""
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def model_doc(layers=(4, 3), hidden=(), output="identity", bias=True, dtype="float32",
              arrays=()):
    return {"format": "manualnn.model", "format_version": 1, "manualnn_version": "0.1.0",
            "architecture": {"layers": list(layers),
                             "activations": {"hidden": list(hidden), "output": output},
                             "bias": bias, "dtype": dtype, "dropout": 0.0},
            "arrays": list(arrays), "meta": {}}


def write_model(folder, tensors: dict, doc: dict) -> None:
    """A model.safetensors with chosen tensors and header document, and no model.json."""
    blob = safetensors.numpy.save(tensors, metadata={"manualnn": json.dumps(doc)})
    (folder / MODEL_FILE).write_bytes(blob)


def weights(layers=(4, 3), dtype=np.float32):
    rng = np.random.default_rng(0)
    out = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(layers)):
        out[f"W{i + 1}"] = rng.standard_normal((n_in, n_out)).astype(dtype)
        out[f"b{i + 1}"] = rng.standard_normal(n_out).astype(dtype)
    return out


def refused(folder, *fragments):
    with pytest.raises(DataError) as info:
        load_model(folder)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return str(info.value)


# -- round trips ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_round_trip_gives_identical_predictions(tmp_path, dtype, bias, depth, activation):
    layers = [6, 5, 4, 3][: depth + 1]
    net = make_net(layers, activation, dtype, bias, dropout=0.25)
    for p in net.params:  # non-zero biases, so that a lost b would show
        p += np.linspace(-0.5, 0.5, p.size).reshape(p.shape).astype(p.dtype)
    save_model(tmp_path, net)
    loaded, meta, arrays = load_model(tmp_path)
    assert (meta, arrays) == ({}, {})
    assert loaded.layers == net.layers and loaded.bias == bias and loaded.dropout == 0.25
    assert loaded.dtype == net.dtype
    assert [a.name for a in loaded.activations] == [a.name for a in net.activations]
    for p, q in zip(net.params, loaded.params):
        assert q.dtype == p.dtype and np.array_equal(p, q)
    X = np.random.default_rng(1).standard_normal((9, 6)).astype(dtype)
    assert np.array_equal(net(X), loaded(X))


def test_extra_arrays_and_meta_round_trip(tmp_path):
    extras = {"preprocess.mean": np.arange(4, dtype=np.float64),
              "preprocess.scale": np.full((4,), 2, np.float32),
              "classes": np.array([3, 1, 4], np.int64), "mask": np.array([0, 1], np.uint8),
              "scalar": np.array(2.5), "empty": np.zeros((0, 3), np.float32)}
    meta = {"preprocessing": "standardize", "classes": ["a", "b", "c"], "loss": "softmax",
            "dataset": {"name": "mnist", "n": 60000}, "lr": 0.1, "note": None}
    net = make_net()
    save_model(tmp_path, net, meta=meta, arrays=extras)
    _, meta2, extras2 = load_model(tmp_path)
    assert meta2 == meta and set(extras2) == set(extras)
    for name, value in extras.items():
        assert extras2[name].dtype == value.dtype and extras2[name].shape == value.shape
        assert np.array_equal(extras2[name], value)
        assert extras2[name].flags.writeable


def test_files_are_standard_safetensors_and_json(tmp_path):
    save_model(tmp_path, make_net(), meta={"k": "v"}, arrays={"x": np.ones(2)})
    tensors = safetensors.numpy.load_file(tmp_path / MODEL_FILE)
    assert set(tensors) == {"W1", "b1", "W2", "b2", "x"}
    with safetensors.safe_open(tmp_path / MODEL_FILE, "numpy") as f:
        header_doc = json.loads(f.metadata()["manualnn"])
    doc = json.loads((tmp_path / CONFIG_FILE).read_text())
    assert doc == header_doc and doc["meta"] == {"k": "v"} and doc["arrays"] == ["x"]
    assert doc["architecture"] == {"layers": [4, 5, 3], "bias": True, "dtype": "float32",
                                   "activations": {"hidden": ["relu"], "output": "identity"},
                                   "dropout": 0.0}


def test_overwrite_with_another_architecture(tmp_path):
    save_model(tmp_path, make_net((4, 5, 3)))
    save_model(tmp_path, make_net((2, 7), dtype="float64", bias=False))
    net, _, _ = load_model(tmp_path)
    assert net.layers == [2, 7] and net.dtype == np.float64 and not net.bias


def test_model_json_missing_uses_header_copy(tmp_path):
    net = make_net()
    save_model(tmp_path, net, meta={"loss": "softmax"})
    os.unlink(tmp_path / CONFIG_FILE)
    loaded, meta, _ = load_model(tmp_path)
    assert meta == {"loss": "softmax"} and np.array_equal(loaded.W[0], net.W[0])


def test_registered_custom_activation_round_trips_and_is_needed_to_load(tmp_path):
    register_activation("swish_for_test", lambda A: A / (1 + np.exp(-A)),
                        lambda A: np.ones_like(A))
    try:
        net = make_net((3, 4, 2), "swish_for_test")
        save_model(tmp_path, net)
        loaded, _, _ = load_model(tmp_path)
        assert loaded.activations[0] is ACTIVATIONS["swish_for_test"]
    finally:
        del ACTIVATIONS["swish_for_test"]
    refused(tmp_path, "unknown activation 'swish_for_test'", "register")


# -- what save refuses ---------------------------------------------------------------------
@pytest.mark.parametrize("arrays, error, fragment", [
    ({"W1": np.ones(2)}, ValueError, "clashes with a weight name"),
    ({"b2": np.ones(2)}, ValueError, "clashes"),
    ({"__metadata__": np.ones(2)}, ValueError, "bad array name"),
    ({"../x": np.ones(2)}, ValueError, "bad array name"),
    ({"x": [1.0, 2.0]}, TypeError, "expected a NumPy array"),
    ({"x": np.array(["a"])}, TypeError, "expected a NumPy array"),
    ({"x": np.ones(2, np.float16)}, TypeError, "float16"),
    ({"x": np.array([1.0, np.nan])}, ValueError, "finite"),
])
def test_save_refuses_bad_arrays(tmp_path, arrays, error, fragment):
    with pytest.raises(error, match=fragment):
        save_model(tmp_path, make_net(), arrays=arrays)
    assert not (tmp_path / MODEL_FILE).exists()


@pytest.mark.parametrize("meta, fragment", [
    ({"x": np.float32(1.0)}, "JSON-serializable"), ({"x": float("nan")}, "NaN"),
    ({"x": (1, 2)}, "round trip"), ({1: "a"}, "round trip"), ([1, 2], "expected a dict"),
])
def test_save_refuses_bad_meta(tmp_path, meta, fragment):
    with pytest.raises(TypeError, match=fragment):
        save_model(tmp_path, make_net(), meta=meta)
    with pytest.raises(TypeError, match=fragment):
        save_arrays(tmp_path / "c.safetensors", {}, meta)


def test_save_refuses_nan_weights_unregistered_activations_and_non_networks(tmp_path):
    net = make_net()
    net.W[1][0, 0] = np.inf
    with pytest.raises(ValueError, match="W2.*finite"):
        save_model(tmp_path, net)
    with pytest.raises(ValueError, match="not the registered one"):
        save_model(tmp_path, MLP([3, 4, 2], [LeakyReLU(0.2)]))
    with pytest.raises(TypeError, match="expected an MLP"):
        save_model(tmp_path, {"W1": np.ones((2, 2))})


# -- what load refuses ---------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    save_model(tmp_path, make_net((4, 5, 3)))
    return tmp_path


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_missing_folder_or_file(tmp_path):
    refused(tmp_path / "nowhere", MODEL_FILE, "no such file")
    (tmp_path / MODEL_FILE).mkdir()
    refused(tmp_path, "cannot be read")


@pytest.mark.parametrize("keep", [0, 5, 9, 40, -1, -4])
def test_truncated_file(saved, keep):
    path = saved / MODEL_FILE
    blob = path.read_bytes()
    path.write_bytes(blob[:keep])
    refused(saved, MODEL_FILE)


def test_truncated_data_names_the_tensor(saved):
    path = saved / MODEL_FILE
    path.write_bytes(path.read_bytes()[:-4])
    refused(saved, "past the", "truncated?")


@pytest.mark.parametrize("length, fragment", [
    (2**64 - 1, "header length 18446744073709551615 is impossible"),
    (200_000_000, "limit 100000000"), (10_000, "file has"),
])
def test_header_length_too_big(tmp_path, length, fragment):
    (tmp_path / MODEL_FILE).write_bytes(raw_file({}, b"x" * 64, length=length))
    refused(tmp_path, fragment)


@pytest.mark.parametrize("header, fragment", [
    (b"{not json", "header is not valid JSON"), (b"\xff\xfe", "header is not valid JSON"),
    (b'{"a": NaN}', "not valid JSON"), (b'{"x": 1, "x": 2}', "duplicate key"),
    (b"[1, 2]", "not a JSON object"), (b"[" * 100_000, "not valid JSON"),
    (b'{"__metadata__": {"manualnn": 3}}', "not a map of strings"),
    (b"{}", "no 'manualnn' entry"),
    (b'{"__metadata__": {"manualnn": "{oops"}}', "header document is not valid JSON"),
])
def test_malformed_header(tmp_path, header, fragment):
    (tmp_path / MODEL_FILE).write_bytes(struct.pack("<Q", len(header)) + header)
    refused(tmp_path, MODEL_FILE, fragment)


@pytest.mark.parametrize("spec, fragment", [
    ({"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, "dtype 'F16' not among"),
    ({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}, "non-negative integers"),
    ({"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}, "non-negative integers"),
    ({"dtype": "F32", "shape": [1] * 33, "data_offsets": [0, 4]}, "at most 32"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}, "is not [begin, end]"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [0]}, "is not [begin, end]"),
    ({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}, "needs 12 bytes"),
    ({"dtype": "F32", "shape": [2]}, "expected dtype, shape and data_offsets"),
    ({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "past the 8 data bytes"),
    ({"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, "data starts at 4, expected 0"),
    ({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "cover 4 bytes, the file holds 8"),
])
def test_bad_tensor_entry(tmp_path, spec, fragment):
    header = {"__metadata__": {"manualnn": json.dumps(model_doc())}, "W1": spec}
    (tmp_path / MODEL_FILE).write_bytes(raw_file(header, bytes(8)))
    refused(tmp_path, MODEL_FILE, fragment)


def test_overlapping_offsets(tmp_path):
    header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
    path = tmp_path / "c.safetensors"
    path.write_bytes(raw_file(header, bytes(12)))
    with pytest.raises(DataError, match="overlapping or gapped"):
        load_arrays(path)


def test_huge_shape_claim_in_tiny_file_fails_fast_without_memory(tmp_path):
    header = {"__metadata__": {"manualnn": json.dumps(model_doc((10**6, 10**6)))},
              "W1": {"dtype": "F64", "shape": [10**6, 10**6], "data_offsets": [0, 8 * 10**12]},
              "W2": {"dtype": "F64", "shape": [2**62, 2**62, 2**62],
                     "data_offsets": [8 * 10**12, 8 * 10**12 + 8 * 2**186]}}
    (tmp_path / MODEL_FILE).write_bytes(raw_file(header, bytes(16)))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        refused(tmp_path, "'W1'", "past the 16 data bytes")
        seconds, (_, peak) = time.perf_counter() - start, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seconds < 1 and peak < 1_000_000


def test_architecture_larger_than_file_fails_before_allocation(tmp_path):
    doc = model_doc((10**6, 10**6), dtype="float64")
    write_model(tmp_path, weights(), doc)
    tracemalloc.start()
    try:
        refused(tmp_path, "'W1'", "expected shape (1000000, 1000000) and dtype float64",
                "found shape (4, 3) and dtype float32")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_wrong_dtype_wrong_shape_missing_extra_tensors(tmp_path):
    w = weights()
    write_model(tmp_path, w, model_doc(dtype="float64"))
    refused(tmp_path, "'W1'", "dtype float64", "found shape (4, 3) and dtype float32")
    write_model(tmp_path, {**w, "W1": w["W1"].T.copy()}, model_doc())
    refused(tmp_path, "'W1'", "expected shape (4, 3)", "found shape (3, 4)")
    write_model(tmp_path, {"W1": w["W1"]}, model_doc())
    refused(tmp_path, "missing tensor 'b1'")
    write_model(tmp_path, w, model_doc(bias=False))
    refused(tmp_path, "unexpected tensor 'b1'")
    write_model(tmp_path, {**w, "junk": np.ones(2)}, model_doc())
    refused(tmp_path, "unexpected tensor 'junk'")
    write_model(tmp_path, w, model_doc(arrays=["preprocess.mean"]))
    refused(tmp_path, "missing tensor 'preprocess.mean'")


@pytest.mark.parametrize("name", ["W1", "b1", "extra"])
def test_non_finite_tensor(tmp_path, name):
    w = {**weights(), "extra": np.ones(3)}
    w[name].flat[0] = np.nan
    write_model(tmp_path, w, model_doc(arrays=["extra"]))
    refused(tmp_path, f"tensor {name!r} has NaN or infinite values")


def test_unknown_activation_is_named_with_the_known_ones(tmp_path):
    write_model(tmp_path, weights((4, 5, 3)), model_doc((4, 5, 3), ["swishy"]))
    message = refused(tmp_path, "unknown activation 'swishy'", "'relu'", "'tanh'")
    assert "register" in message


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d.pop("meta"), "missing fields ['meta']"),
    (lambda d: d.update(extra=1), "unexpected fields ['extra']"),
    (lambda d: d.update(format="pickle"), "field 'format'"),
    (lambda d: d.update(format_version=2), "field 'format_version': expected 1"),
    (lambda d: d.update(format_version=True), "field 'format_version'"),
    (lambda d: d.update(manualnn_version=1), "field 'manualnn_version'"),
    (lambda d: d.update(architecture=[]), "architecture: expected a JSON object"),
    (lambda d: d["architecture"].update(layers=[4, 0]), "field 'architecture.layers'"),
    (lambda d: d["architecture"].update(layers=[4]), "field 'architecture.layers'"),
    (lambda d: d["architecture"].update(layers=[4, 3.0]), "field 'architecture.layers'"),
    (lambda d: d["architecture"].update(layers="43"), "field 'architecture.layers'"),
    (lambda d: d["architecture"].update(dtype="float16"), "field 'architecture.dtype'"),
    (lambda d: d["architecture"].update(bias=1), "field 'architecture.bias'"),
    (lambda d: d["architecture"].update(dropout=1.0), "field 'architecture.dropout'"),
    (lambda d: d["architecture"].update(dropout="0"), "field 'architecture.dropout'"),
    (lambda d: d["architecture"]["activations"].update(hidden=["relu"]),
     "field 'architecture.activations.hidden': expected a list of 0 names"),
    (lambda d: d["architecture"]["activations"].update(output=None), "unknown activation None"),
    (lambda d: d.update(arrays=["a", "a"]), "field 'arrays'"),
    (lambda d: d.update(meta=[]), "field 'meta'"),
])
def test_schema_errors_name_file_and_field(tmp_path, edit, fragment):
    doc = model_doc()
    edit(doc)
    write_model(tmp_path, weights(), doc)
    refused(tmp_path, MODEL_FILE, fragment)
    save_model(tmp_path, make_net((4, 3)))  # the same fault in model.json names model.json
    good = json.loads((tmp_path / CONFIG_FILE).read_text())
    edit(good)
    (tmp_path / CONFIG_FILE).write_text(json.dumps(good))
    refused(tmp_path, CONFIG_FILE, fragment)


def test_bad_model_json(saved):
    (saved / CONFIG_FILE).write_text("{truncated")
    refused(saved, CONFIG_FILE, "not valid JSON")


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d["architecture"]["activations"].update(hidden=["tanh"]),
     "architecture.activations ({'hidden': ['tanh']"),
    (lambda d: d["architecture"].update(dropout=0.5), "architecture.dropout (0.5 vs 0.0)"),
    (lambda d: d["meta"].update(classes=[1, 2]), "disagree: meta"),
])
def test_model_json_and_header_disagree(saved, edit, fragment):
    doc = json.loads((saved / CONFIG_FILE).read_text())
    edit(doc)
    (saved / CONFIG_FILE).write_text(json.dumps(doc))
    refused(saved, "model.json and model.safetensors disagree", fragment)


# -- checkpoints ---------------------------------------------------------------------------
def test_arrays_round_trip(tmp_path):
    arrays = {"W1": np.ones((2, 3), np.float32), "optim.m.W1": np.zeros((2, 3), np.float32),
              "rng": np.array([1, 2**63], np.uint64), "step": np.array(7, np.int64)}
    meta = {"epoch": 3, "history": {"loss": [0.5, 0.25]}, "rng": {"state": 2**100}}
    save_arrays(tmp_path / "ckpt.safetensors", arrays, meta)
    loaded, meta2 = load_arrays(tmp_path / "ckpt.safetensors")
    assert meta2 == meta and set(loaded) == set(arrays)
    for name, value in arrays.items():
        assert loaded[name].dtype == value.dtype and np.array_equal(loaded[name], value)


def test_load_arrays_refuses_models_nan_and_garbage(tmp_path, saved):
    with pytest.raises(DataError, match="field 'format': expected 'manualnn.arrays'"):
        load_arrays(saved / MODEL_FILE)
    path = tmp_path / "c.safetensors"
    blob = safetensors.numpy.save({"x": np.array([np.inf])}, metadata={"manualnn": json.dumps(
        {"format": "manualnn.arrays", "format_version": 1, "meta": {}})})
    path.write_bytes(blob)
    with pytest.raises(DataError, match="c.safetensors: tensor 'x' has NaN"):
        load_arrays(path)
    path.write_bytes(b"\x00" * 3)
    with pytest.raises(DataError, match="truncated: 3 bytes"):
        load_arrays(path)


# -- fuzzing -------------------------------------------------------------------------------
def _valid_model_bytes():
    with tempfile.TemporaryDirectory() as folder:
        save_model(folder, make_net((3, 4, 2), "tanh"), meta={"classes": [0, 1]},
                   arrays={"preprocess.mean": np.zeros(3)})
        with open(os.path.join(folder, MODEL_FILE), "rb") as f:
            return f.read()


VALID = _valid_model_bytes()
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load_or_data_error(blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, MODEL_FILE), "wb") as f:
            f.write(blob)
        try:
            net, _, _ = load_model(folder)
        except DataError:
            return
        assert all(np.isfinite(p).all() for p in net.params)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8),
       st.integers(0, len(VALID)))
def test_mutated_or_truncated_files_load_or_raise_data_error(mutations, keep):
    blob = bytearray(VALID)
    for position, value in mutations:
        blob[position] = value
    _load_or_data_error(bytes(blob[:keep]))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3), max_leaves=8)


@FUZZ
@given(st.sampled_from(["W1", "b1", "W2", "preprocess.mean", "new"]),
       st.sampled_from(["dtype", "shape", "data_offsets", None]), JSON_VALUES)
def test_edited_headers_load_or_raise_data_error(name, field, value):
    n = int.from_bytes(VALID[:8], "little")
    header = json.loads(VALID[8:8 + n])
    if field is None:
        header[name] = value
    else:
        header.setdefault(name, {})[field] = value
    text = json.dumps(header).encode()
    _load_or_data_error(struct.pack("<Q", len(text)) + text + VALID[8 + n:])


# -- atomicity -----------------------------------------------------------------------------
def _fail_on_call(monkeypatch, which: int):
    """Make the ``which``-th atomic rename of a save raise, as a crash would."""
    calls, real = [], os.replace

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == which:
            raise OSError("disk on fire")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)


def test_failure_while_writing_weights_leaves_previous_model(tmp_path, monkeypatch):
    old = make_net(seed=1)
    save_model(tmp_path, old, meta={"v": 1})
    _fail_on_call(monkeypatch, 1)
    with pytest.raises(OSError, match="disk on fire"):
        save_model(tmp_path, make_net((4, 8, 3), seed=2), meta={"v": 2})
    net, meta, _ = load_model(tmp_path)
    assert meta == {"v": 1} and all(np.array_equal(p, q) for p, q in zip(old.params, net.params))
    assert sorted(os.listdir(tmp_path)) == [MODEL_FILE]  # no temporary left behind


def test_failure_while_writing_json_leaves_new_model(tmp_path, monkeypatch):
    save_model(tmp_path, make_net(seed=1), meta={"v": 1})
    new = make_net((4, 8, 3), seed=2)
    _fail_on_call(monkeypatch, 2)
    with pytest.raises(OSError, match="disk on fire"):
        save_model(tmp_path, new, meta={"v": 2})
    net, meta, _ = load_model(tmp_path)
    assert meta == {"v": 2} and net.layers == [4, 8, 3]
    assert np.array_equal(net.W[0], new.W[0])


def test_failed_checkpoint_write_keeps_previous(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save_arrays(path, {"x": np.ones(2)}, {"epoch": 1})
    _fail_on_call(monkeypatch, 1)
    with pytest.raises(OSError):
        save_arrays(path, {"x": np.zeros(5)}, {"epoch": 2})
    arrays, meta = load_arrays(path)
    assert meta == {"epoch": 1} and np.array_equal(arrays["x"], np.ones(2))
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_honour_the_umask(tmp_path, umask):
    from manualnn import atomic
    old = os.umask(umask)
    try:
        atomic.write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_full_disk_names_the_file(tmp_path, monkeypatch):
    import errno

    from manualnn import atomic

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError, match=r"writing .*model\.json: No space left on device"):
        atomic.write_text(tmp_path / "model.json", "{}")
    assert list(tmp_path.iterdir()) == []   # no temporary file left behind
