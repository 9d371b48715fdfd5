"""IDX files: write_idx/read_idx round trips, and every kind of damage -> DataError."""

import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from damage import MUTATIONS, damaged
from manualnn.checks import DataError
from manualnn.data.files import read_idx, write_idx

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(arr=hnp.arrays(st.sampled_from(IDX_DTYPES),
                      hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)),
       zipped=st.booleans())
def test_round_trip(tmp_path, arr, zipped):
    path = tmp_path / "a.idx"
    write_idx(path, arr, gzip=zipped)
    back = read_idx(path)
    assert back.dtype == arr.dtype.newbyteorder("=")
    assert back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_header_is_the_mnist_layout(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    assert path.read_bytes() == b"\x00\x00\x08\x01" + struct.pack(">I", 3) + b"\x03\x01\x04"


def test_big_endian_input_and_deterministic_gzip(tmp_path):
    arr = np.arange(6, dtype=">i4").reshape(2, 3)
    write_idx(tmp_path / "a.gz", arr, gzip=True)
    write_idx(tmp_path / "b.gz", arr.astype("<i4"), gzip=True)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), arr)


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.zeros(3, np.uint8))
    with pytest.raises(TypeError):
        write_idx(path, np.zeros(3, np.int64))
    assert os.listdir(tmp_path) == ["x.idx"]
    assert read_idx(path).shape == (3,)


@pytest.mark.parametrize("array, error, words", [
    (np.zeros(3, np.int64), TypeError, "int64"),
    (np.zeros(3, bool), TypeError, "bool"),
    (np.array(5, np.uint8), ValueError, "1 to 255 dimensions"),
    (["a", "b"], TypeError, "<U1"),
])
def test_write_rejects_what_idx_cannot_hold(tmp_path, array, error, words):
    with pytest.raises(error, match="array") as info:
        write_idx(tmp_path / "x", array)
    assert words in str(info.value)


def test_write_rejects_non_bool_gzip(tmp_path):
    with pytest.raises(TypeError, match="gzip"):
        write_idx(tmp_path / "x", np.zeros(2, np.uint8), gzip="yes")


def _images(tmp_path, zipped=False):
    path = tmp_path / ("img.gz" if zipped else "img")
    write_idx(path, np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4), gzip=zipped)
    return path


@pytest.mark.parametrize("mutate, words", [
    (lambda b: b[:-1], "truncated"),
    (lambda b: b[:10], "truncated IDX header"),
    (lambda b: b + b"\x00", "longer than its header"),
    (lambda b: b"\x01" + b[1:], "bad magic"),
    (lambda b: b[:2] + b"\x07" + b[3:], "unknown IDX type code 0x07"),
    (lambda b: b[:3] + b"\x00" + b[4:], "zero dimensions"),
    (lambda b: b[:4] + struct.pack(">I", 3) + b[8:], "truncated"),       # wrong length
    (lambda b: b[:4] + struct.pack(">I", 1 << 31) + b[8:], "truncated"),  # huge claim
    (lambda b: b"", "empty"),
])
def test_damaged_raw_files(tmp_path, mutate, words):
    path = _images(tmp_path)
    path.write_bytes(mutate(path.read_bytes()))
    with pytest.raises(DataError, match=words) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("mutate", [
    lambda b: b[:-5],                        # gzip trailer cut
    lambda b: b[:len(b) // 2],               # stream cut
    lambda b: b[:-8] + b"\xff" * 8,          # CRC and length wrong
    lambda b: b[:12] + bytes(x ^ 0x55 for x in b[12:30]) + b[30:],  # deflate data garbled
    lambda b: b + b"garbage",                # trailing junk
])
def test_damaged_gzip_files(tmp_path, mutate):
    path = _images(tmp_path, zipped=True)
    path.write_bytes(mutate(path.read_bytes()))
    with pytest.raises(DataError, match=str(path)):
        read_idx(path)


def test_gzip_of_a_non_idx_payload(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"hello world"))
    with pytest.raises(DataError, match="bad magic"):
        read_idx(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "nope")
    with pytest.raises(DataError, match="directory"):
        read_idx(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = _images(tmp_path)
    path.chmod(0)
    with pytest.raises(DataError, match="permission"):
        read_idx(path)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), zipped=st.booleans())
def test_corrupted_bytes_give_data_error_or_an_array(tmp_path, data, zipped):
    """Any byte damage is either harmless (same-length data) or a DataError, never a crash."""
    blob = _images(tmp_path, zipped).read_bytes()
    mutations = data.draw(MUTATIONS.filter(bool))
    path = tmp_path / "fuzz"
    path.write_bytes(damaged(blob, mutations, data.draw(st.integers(0, len(blob)))))
    try:
        arr = read_idx(path)
    except DataError:
        return
    assert isinstance(arr, np.ndarray)


@FAST
@given(blob=st.binary(max_size=64))
def test_random_bytes_never_crash(tmp_path, blob):
    path = tmp_path / "random"
    path.write_bytes(blob)
    try:
        read_idx(path)
    except DataError:
        pass


@pytest.mark.parametrize("path", [None, 3, b"bytes", ""])
def test_paths_are_checked(path):
    with pytest.raises(TypeError, match="path: expected a file path"):
        read_idx(path)
    with pytest.raises(TypeError, match="path: expected a file path"):
        write_idx(path, np.zeros(1, np.uint8))
