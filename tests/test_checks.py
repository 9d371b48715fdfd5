"""Validation at the boundary (manualnn.checks and the sizes and lists the CLI parses):
every class of bad value is refused with the argument's name, never with a traceback."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from manualnn import MLP, checks
from manualnn.cli import main
from manualnn.cli.memory import MAX_SIZE, parse_size

NAMES = {"float32", "float64", "f4", "f8", "<f4", "<f8", "=f4", "=f8", "single", "double",
         "float", "float_", "d", "f", "<d", "=d", "<f", "=f", "Float32", "Float64"}


@given(st.text(max_size=12) | st.sampled_from(["fp32", "fp64", "float16", "int32", "f2", "c8"]))
def test_a_dtype_is_float32_or_float64_or_refused_by_name(text):
    """np.dtype("float64") == None is True, so a name NumPy does not know once came back as
    None, and MLP(dtype="fp32") trained in float64."""
    try:
        dt = checks.float_dtype(text)
    except TypeError as exc:
        assert str(exc).startswith("dtype: expected float32 or float64, got")
    else:
        assert dt in (np.dtype(np.float32), np.dtype(np.float64)) and dt == np.dtype(text)


def test_unknown_and_missing_dtypes_are_refused_everywhere():
    for bad in ("fp32", None, "float16", "int64", object):
        with pytest.raises(TypeError, match="dtype: expected float32 or float64"):
            checks.float_dtype(bad)
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, got 'fp32'"):
        MLP([2, 2], dtype="fp32")
    sklearn = pytest.importorskip("manualnn.sklearn", reason="scikit-learn is not installed")
    with pytest.raises((TypeError, ValueError), match="dtype"):
        sklearn.MLPClassifier(dtype="fp32").fit(np.zeros((4, 2)), [0, 1, 0, 1])


@given(st.integers() | st.floats(allow_nan=True, allow_infinity=True))
def test_a_number_of_any_size_is_checked_without_a_traceback(value):
    """Integers beyond int64 once reached np.isfinite: 'ufunc isfinite not supported'."""
    try:
        got = checks.number(value, "lr", 0, low_open=True)
    except ValueError as exc:
        assert str(exc).startswith("lr: expected") and len(str(exc)) <= 200
    else:
        assert got == value and got > 0


@given(st.text(alphabet="0123456789", min_size=1, max_size=500),
       st.sampled_from(["", ".5", "K", "M", "G", "T", "GiB", "B"]))
def test_a_size_with_any_number_of_digits_is_bytes_or_one_clear_error(digits, unit):
    try:
        size = parse_size(digits + unit)
    except ValueError as exc:
        assert str(exc).startswith("max_memory: expected at") and len(str(exc)) <= 200
    else:
        assert 1 <= size <= MAX_SIZE


@pytest.mark.parametrize("argv", [
    ["train", "--hidden", "1,,2"], ["train", "--hidden", "16,"], ["train", "--layers", ",4"],
    ["train", "--epochs", "9" * 23], ["train", "--max-memory", "9" * 400],
    ["evaluate", "run", "--max-memory", "9" * 400], ["predict", "run", "x", "--max-memory", "9" * 400],
])
def test_the_command_line_refuses_such_values_in_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
