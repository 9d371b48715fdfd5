"""Validation at the public boundary.

Every public function of manualnn checks what it is given with these helpers, so that a
mistake is reported as a ``ValueError``/``TypeError`` naming the argument, what was
expected and what came, and never surfaces later as a NumPy broadcasting error.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
import os
from collections.abc import Iterable
from typing import Any, TypeAlias, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: An array of the backend in use: a ``numpy.ndarray``, or one of CuPy, torch or another
#: array API library (``manualnn.backend``).  Each function's docstring gives its shape.
Array: TypeAlias = Any
#: A random source: a ``numpy.random.Generator``, a seed for one, or None (a fresh one).
Seed: TypeAlias = "np.random.Generator | int | None"
#: The backend object every product and fused pass goes through (``manualnn.backend``).
Backend: TypeAlias = Any
#: A file or folder name: a ``str`` or an ``os.PathLike`` (``pathlib.Path``).
FilePath: TypeAlias = "str | os.PathLike[str]"


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def float_dtype(dtype: DTypeLike, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as a NumPy float32/float64 dtype, or raise naming ``name``."""
    try:   # np.dtype(None) is float64, so None is refused before it gets there
        dt = None if dtype is None else np.dtype(dtype)
    except Exception:  # noqa: BLE001  (NumPy's parser raises TypeError, SyntaxError, ...)
        dt = None
    # "dt in FLOAT_DTYPES" is no test: np.dtype("float64") == None is True
    if dt is None or not any(dt == f for f in FLOAT_DTYPES):
        raise TypeError(f"{name}: expected float32 or float64, got {dtype!r}")
    return dt


def float_array(value: ArrayLike, name: str, ndim: int | None = None, cols: int | None = None,
                dtype: DTypeLike | None = None, finite: bool = True) -> np.ndarray:
    """Check a floating-point array; convert only lists/integers (never downcast floats).

    ``dtype`` forces a float dtype (converting), otherwise float32/float64 arrays keep
    theirs and anything else becomes float64.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        arr = value
        if arr.dtype not in FLOAT_DTYPES:
            arr = arr.astype(np.float64)
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{name}: expected a numeric array, got {_describe(value)}") from exc
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if dtype is not None:
        arr = arr.astype(float_dtype(dtype), copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if ndim == 2 and arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one row, got shape {arr.shape}")
    if cols is not None and arr.shape[-1] != cols:
        raise ValueError(f"{name}: expected {cols} columns, got shape {arr.shape}")
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return arr


def weight_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A parameter array: float32/float64 dtype (no silent conversion), exact shape, finite."""
    if not isinstance(value, np.ndarray) or value.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected a float32 or float64 array, got {_describe(value)}")
    if value.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {value.shape}")
    if not np.isfinite(value).all():
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return value


def labels(value: ArrayLike, name: str, m: int, k: int | None) -> np.ndarray:
    """Integer class labels of shape (m,) in [0, k); returned as int64 (intp)."""
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and arr.size and np.isfinite(arr).all() and (arr == np.round(arr)).all():
        arr = arr.astype(np.intp)
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "b"):
        raise TypeError(f"{name}: expected integer class labels, got dtype {arr.dtype}")
    if arr.shape != (m,):
        raise ValueError(f"{name}: expected shape ({m},) to match the {m} rows, got {arr.shape}")
    if k is not None and m and (arr.min() < 0 or arr.max() >= k):
        raise ValueError(
            f"{name}: expected labels in [0, {k}), got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.intp, copy=False)


def sample_weight(value: ArrayLike | None, m: int, dtype: DTypeLike) -> np.ndarray | None:
    """Optional non-negative per-sample weights of shape (m,), not all zero."""
    if value is None:
        return None
    w = float_array(value, "sample_weight", ndim=1, dtype=dtype)
    if w.shape != (m,):
        raise ValueError(f"sample_weight: expected shape ({m},), got {w.shape}")
    if (w < 0).any() or not w.sum() > 0:
        raise ValueError("sample_weight: expected non-negative weights with a positive sum")
    return w


def number(value: Any, name: str, low: float | None = None, high: float | None = None,
           integer: bool = False, low_open: bool = False, high_open: bool = False) -> Any:
    """A real (or integer) hyperparameter within [low, high] (open ends when asked)."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise TypeError(f"{name}: expected {what}, got {_describe(value)}")
    value = cast(Any, value)   # a Real, which typeshed's numbers.Real cannot compare
    if not integer and not _finite(value):
        raise ValueError(f"{name}: expected a finite number, got {_describe(value)}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        span = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ValueError(f"{name}: expected a value in {span}, got {value!r}"[:200])
    return value


def _finite(value) -> bool:
    """math.isfinite for any real (np.isfinite fails on integers beyond int64); an
    integer too large for a float counts as not finite."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def choice(value: Any, name: str, options: Iterable[str]) -> str:
    """One of a fixed set of names."""
    if value not in options:
        raise ValueError(f"{name}: expected one of {sorted(options)}, got {value!r}"
                         f"{did_you_mean(value, options)}")
    return value


def did_you_mean(given: Any, options: Iterable[Any]) -> str:
    """"; did you mean 'x'?" (or 'x' or 'y') for the options closest to ``given`` by
    difflib's ratio (at least 0.6, and within 0.05 of the best); "" when none is close
    or ``given`` is not a string."""
    if not isinstance(given, str):
        return ""
    ratio = {o: difflib.SequenceMatcher(None, given, o).ratio() for o in map(str, options)}
    best = max(ratio.values(), default=0.0)
    close = sorted((o for o, r in ratio.items() if r >= max(0.6, best - 0.05)),
                   key=lambda o: -ratio[o])[:3]
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


def construct(cls: type, name: str, first: Any, **options: Any) -> Any:
    """cls(first, **options), with an unknown option reported by name."""
    known = list(inspect.signature(cls).parameters)[1:]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(f"{name}: unexpected option {unknown[0]!r}, expected some of {known}")
    return cls(first, **options)


class DataError(ValueError):
    """A file or input that cannot be used: truncated, corrupt, or of the wrong format.

    The message names the file (or argument) and what was wrong with it.
    """


def generator(rng: Seed, name: str = "rng", none_is_fresh: bool = False) -> np.random.Generator:
    """``rng`` itself if a ``numpy.random.Generator``, else a new one seeded by it (a
    non-negative integer); with ``none_is_fresh``, None gives one from fresh entropy."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None and none_is_fresh:
        return np.random.default_rng()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    also = ", or None" if none_is_fresh else ""
    raise TypeError(f"{name}: expected a numpy.random.Generator or a non-negative integer "
                    f"seed{also}, got {type(rng).__name__} {rng!r}"[:200])
