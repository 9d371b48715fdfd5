"""Hostile files: huge claims refused before allocation, no pickle, no path escapes.

The safetensors side (huge shapes, architecture against weights, unknown activations) is
in test_serialize.py; here are the other readers of outside bytes, and what a run folder
from someone else can make ``predict``, ``evaluate`` and ``train --resume`` touch.
"""

import ast
import gzip
import io
import json
import os
import pathlib
import struct
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import manualnn
from manualnn.checks import DataError
from manualnn.cli import main
from manualnn.cli.predict import read_array
from manualnn.core.network import MLP
from manualnn.data.files import read_idx, read_npz
from manualnn.io.serialize import save_model

SRC = pathlib.Path(manualnn.__file__).parent


def peak_bytes(call):
    """(exception raised by ``call()``, tracemalloc's peak bytes while it ran)."""
    tracemalloc.start()
    try:
        call()
    except Exception as exc:  # noqa: BLE001
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raise AssertionError("the call did not refuse the file")


def npy_bytes(shape, descr="<f8", body=b"\0" * 64):
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return out.getvalue() + body


# -- huge claims ---------------------------------------------------------------------------
@pytest.mark.parametrize("zipped", [False, True])
def test_an_idx_header_claiming_exabytes_is_refused_before_reading(tmp_path, zipped):
    blob = bytes([0, 0, 0x0D, 3]) + struct.pack(">3I", *[2**32 - 1] * 3) + b"\0" * 4096
    path = tmp_path / "huge.idx"
    path.write_bytes(gzip.compress(blob) if zipped else blob)
    exc, peak = peak_bytes(lambda: read_idx(path))
    assert isinstance(exc, DataError) and "more than the file's" in str(exc), exc
    assert peak < 200_000, f"{peak} bytes allocated for a {path.stat().st_size}-byte file"


def test_a_gzip_idx_may_claim_what_decompression_can_give(tmp_path):
    """1 MB of zeros gzips to about 1 kB: a claim within the deflate ratio is read."""
    path = tmp_path / "zeros.idx.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 2**20)
                                   + bytes(2**20)))
    assert path.stat().st_size < 5000 and read_idx(path).shape == (2**20,)


@pytest.mark.parametrize("shape", [(10**6, 10**5), (10**12,), (2**62,), (10**5, 10**4)])
@pytest.mark.parametrize("container", ["npy", "npz", "npz-compressed"])
def test_npy_headers_claiming_more_than_the_file_holds_are_refused(tmp_path, shape, container):
    blob = npy_bytes(shape)
    path = tmp_path / f"x.{container[:3]}"
    if container == "npy":
        path.write_bytes(blob)
    else:
        method = zipfile.ZIP_DEFLATED if container.endswith("compressed") else zipfile.ZIP_STORED
        with zipfile.ZipFile(path, "w", method) as archive:
            archive.writestr("X.npy", blob)
            archive.writestr("y.npy", npy_bytes((2,), "<i8", bytes(16)))
    readers = [read_array] + ([read_npz] if container != "npy" else [])
    for read in readers:
        exc, peak = peak_bytes(lambda read=read: read(path))
        assert isinstance(exc, DataError) and "header declares an array of shape" in str(exc)
        assert str(path) in str(exc)
        assert peak < 1_000_000, f"{read.__name__} allocated {peak} bytes"


def test_a_zip_member_claiming_more_than_deflate_can_give_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", npy_bytes((4,), body=bytes(32)))
    blob = bytearray(path.read_bytes())
    # the uncompressed size, in the local header (offset 22) and the central directory
    for at in (22, blob.rindex(b"PK\x01\x02") + 24):
        blob[at:at + 4] = struct.pack("<I", 2**31)
    path.write_bytes(bytes(blob))
    for read in (read_array, read_npz):
        with pytest.raises(DataError, match="more than compression can give"):
            read(path)


@pytest.mark.parametrize("flag, method, message", [(0x1, 8, "encrypted"),
                                                   (0, 14, "compression method 14")])
def test_encrypted_or_exotic_zip_members_are_refused(tmp_path, flag, method, message):
    """zipfile raises RuntimeError / NotImplementedError for these: they must not escape."""
    path = tmp_path / "odd.npz"
    np.savez_compressed(path, X=np.ones((2, 3)), y=np.zeros(2))
    blob = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = blob.find(sig)
        while at >= 0:
            blob[at + offset:at + offset + 2] = struct.pack("<H", flag)
            blob[at + offset + 2:at + offset + 4] = struct.pack("<H", method)
            at = blob.find(sig, at + 1)
    path.write_bytes(bytes(blob))
    for read in (read_array, read_npz):
        with pytest.raises(DataError, match=message):
            read(path)


def test_a_zip_of_an_unsupported_version_is_refused(tmp_path):
    """zipfile raises NotImplementedError for it (found by the atheris harness)."""
    path = tmp_path / "v.npz"
    np.savez(path, X=np.ones((2, 3)), y=np.zeros(2))
    blob = bytearray(path.read_bytes())
    at = blob.find(b"PK\x01\x02")
    blob[at + 6:at + 8] = struct.pack("<H", 255)   # version needed to extract: 25.5
    path.write_bytes(bytes(blob))
    for read in (read_array, read_npz):
        with pytest.raises(DataError, match=r"not a readable .npz archive \(zip file version"):
            read(path)


@pytest.mark.parametrize("bit, message", [(0x40, "strong encryption"),
                                          (0x20, "compressed patched data")])
def test_zip_flags_that_zipfile_cannot_read_are_refused(tmp_path, bit, message):
    """zipfile raises NotImplementedError when it opens such a member (found by the
    atheris harness)."""
    path = tmp_path / "f.npz"
    np.savez(path, X=np.ones((2, 3)), y=np.zeros(2))
    blob = bytearray(path.read_bytes())
    at = blob.find(b"PK\x01\x02")
    blob[at + 8:at + 10] = struct.pack("<H", bit)   # the first member's flags
    path.write_bytes(bytes(blob))
    for read in (read_array, read_npz):
        with pytest.raises(DataError, match=f"member 'X.npy' is unreadable .*{message}"):
            read(path)


def test_an_unparsable_npy_header_is_a_data_error_not_a_tokenizer_error(tmp_path):
    """NumPy's fallback parser for old headers raises tokenize.TokenError on this one."""
    path = tmp_path / "x.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00\x0a\x00{'descr':[\n" + bytes(8))
    with pytest.raises(DataError, match="header is not a Python literal"):
        read_array(path)


# -- no pickle -----------------------------------------------------------------------------
def test_every_np_load_in_the_package_refuses_pickles():
    calls = []
    for file in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load" \
                    and getattr(node.func.value, "id", None) == "np":
                options = {k.arg: k.value for k in node.keywords}
                ok = "allow_pickle" in options and isinstance(options["allow_pickle"],
                                                              ast.Constant) \
                    and options["allow_pickle"].value is False
                calls.append((file.name, node.lineno, ok))
    assert calls and all(ok for *_, ok in calls), calls
    assert not [f.name for f in SRC.rglob("*.py") if "import pickle" in f.read_text()]


class _Trap:
    def __reduce__(self):
        return (open, (str(_Trap.marker), "w"))


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_a_pickled_object_array_is_refused_without_running_it(tmp_path, suffix):
    _Trap.marker = tmp_path / "pwned"
    path = tmp_path / f"x{suffix}"
    array = np.array([[_Trap(), 1]], dtype=object)
    with open(path, "wb") as f:
        (np.save if suffix == ".npy" else lambda f, a: np.savez(f, X=a))(f, array)
    with pytest.raises(DataError, match="allow_pickle"):
        read_array(path)
    assert not _Trap.marker.exists()


# -- a run folder from someone else --------------------------------------------------------
HOSTILE = "../../../../etc/passwd"


@pytest.fixture
def foreign_run(tmp_path):
    """A run folder whose every free-form string is a path elsewhere."""
    run = tmp_path / "run"
    meta = {"classes": [HOSTILE, "/etc/shadow"], "preprocess": "none", "image_shape": None,
            "dataset": HOSTILE, "task": "classification",   # task is read: not free-form
            "loss": "softmax_cross_entropy"}
    save_model(run, MLP([4, 3, 2], rng=0), meta)
    (run / "config.json").write_text(json.dumps(
        {"dataset": str(tmp_path / "data.npz"), "data_dir": str(tmp_path / "elsewhere"),
         "download": True, "out": str(tmp_path / "elsewhere"), "hidden": [3], "epochs": 2,
         "batch_size": 8, "preprocess": "none", "dropout": 0.0}))
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", X=rng.normal(size=(20, 4)), y=np.arange(20) % 2,
             X_test=rng.normal(size=(6, 4)), y_test=np.arange(6) % 2)
    np.save(tmp_path / "x.npy", np.ones((2, 4)))
    return tmp_path


@pytest.fixture
def opened():
    """Every path the process opens while the test runs (a sys.audit hook)."""
    seen, active = [], [True]

    def hook(event, args):
        if active[0] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            seen.append(os.path.abspath(os.fsdecode(args[0])))
    sys.addaudithook(hook)   # hooks cannot be removed: this one switches itself off
    yield seen
    active[0] = False


def _outside(paths, *allowed):
    roots = [os.path.abspath(p) for p in allowed] + [sys.prefix, sys.base_prefix, "/proc",
                                                     "/sys", "/dev", str(SRC)]
    return [p for p in paths if not any(p == r or p.startswith(r + os.sep) for r in roots)]


def test_predict_opens_only_the_run_folder_and_its_inputs(foreign_run, opened, capsys):
    run = foreign_run / "run"
    assert main(["predict", str(run), str(foreign_run / "x.npy")]) == 0
    assert HOSTILE in capsys.readouterr().out   # a class name is only ever printed
    assert not _outside(opened, run, foreign_run / "x.npy")


def test_evaluate_with_dataset_given_ignores_the_folders_paths(foreign_run, opened, capsys):
    run, data = foreign_run / "run", foreign_run / "data.npz"
    # the dataset is read, then refused: its class names are not the model's (issue 18)
    assert main(["evaluate", str(run), "--dataset", str(data), "--data-dir",
                 str(foreign_run / "mine")]) == 2
    assert "are not" in capsys.readouterr().err
    assert not _outside(opened, run, data)


def test_resume_of_a_foreign_folder_neither_downloads_nor_writes_elsewhere(
        foreign_run, monkeypatch, capsys):
    from manualnn.data import datasets

    def no_download(*args, **kwargs):
        raise AssertionError("config.json must not be able to start a download")
    monkeypatch.setattr(datasets, "download_file", no_download)
    run = foreign_run / "fresh"
    config = json.loads((foreign_run / "run" / "config.json").read_text())
    assert main(["train", "--dataset", config["dataset"], "--hidden", "3", "--epochs", "1",
                 "--batch-size", "8", "--out", str(run), "--quiet"]) == 0
    config["dataset"] = "fashion-mnist"    # missing here: only a download could find it
    (run / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {})
    monkeypatch.setenv("XDG_CACHE_HOME", str(foreign_run / "cache"))
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    assert "not found" in capsys.readouterr().err
    assert not (foreign_run / "elsewhere").exists()


def test_a_model_that_does_not_match_its_weights_is_one_line(foreign_run, capsys):
    run = foreign_run / "run"
    for name in ("model.json",):
        doc = json.loads((run / name).read_text())
        doc["architecture"]["layers"] = [4, 5, 2]
        (run / name).write_text(json.dumps(doc))
    assert main(["predict", str(run), str(foreign_run / "x.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "architecture.layers ([4, 5, 2] vs [4, 3, 2])" in err[0]
