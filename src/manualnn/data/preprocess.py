"""Feature preprocessing, fitted on the training split only and saved with the model.

Every kind is an affine map per feature, ``transform(X) = (X - shift) / scale``:

- ``"none"``: no change (only the dtype cast); no fitted arrays.
- ``"scale"``: ``shift = min(X)``, ``scale = max(X) - min(X)`` over the *whole* training
  array (one pair for all features), so training values land in [0, 1].  For images this
  is x / 255 when the pixels span 0..255.  A global range, not one per feature, keeps
  the relative brightness of pixels and does not blow up near-constant border pixels.
  A constant array gets ``scale = 1``.
- ``"standardize"``: per-feature mean and standard deviation; a feature whose standard
  deviation is 0 gets ``scale = 1`` (it becomes 0 instead of NaN).

The fitted statistics are float64 arrays ``shift`` and ``scale`` of shape (d,) (the same
value repeated for ``"scale"``, so the shape records the feature count for every kind);
:meth:`Preprocessor.to_arrays` and :meth:`Preprocessor.from_arrays` carry them to and
from a model file.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from manualnn import checks
from manualnn.checks import DataError

KINDS = ("none", "scale", "standardize")


class Preprocessor:
    """One of :data:`KINDS`; ``fit`` on training features, then ``transform`` any split."""

    def __init__(self, kind: str = "none") -> None:
        self.kind = checks.choice(kind, "kind", KINDS)
        self.shift: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        return self.kind == "none" or self.shift is not None

    @property
    def n_features(self) -> int | None:
        return None if self.shift is None else self.shift.shape[0]

    def fit(self, X: ArrayLike) -> Preprocessor:
        """Learn the statistics from training features ``X`` (m, d); returns ``self``."""
        X = _features(X, "X")
        d = X.shape[1]
        if self.kind == "scale":
            lo, hi = float(X.min()), float(X.max())
            self.shift = np.full(d, lo)
            self.scale = np.full(d, hi - lo if hi > lo else 1.0)
        elif self.kind == "standardize":
            # float64 accumulation: a float32 sum over 60000 rows loses digits.
            self.shift = X.mean(axis=0, dtype=np.float64)
            std = X.std(axis=0, dtype=np.float64)
            self.scale = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: ArrayLike, dtype: DTypeLike = np.float32) -> np.ndarray:
        """``(X - shift) / scale`` as a new array of ``dtype`` (float32 or float64).

        ``X`` (m, d) of any numeric dtype; the arithmetic runs in ``dtype`` so a float32
        result is never upcast on the way.  Returns (m, d).
        """
        dt = checks.float_dtype(dtype)
        X = _features(X, "X")
        if not self.fitted:
            raise ValueError(f"Preprocessor({self.kind!r}): call fit on the training "
                             f"features before transform")
        if self.n_features is not None and X.shape[1] != self.n_features:
            raise ValueError(f"X: expected {self.n_features} features as fitted, got "
                             f"shape {X.shape}")
        out = X.astype(dt, copy=True)
        if self.kind != "none" and self.shift is not None and self.scale is not None:
            out -= self.shift.astype(dt)
            out /= self.scale.astype(dt)
        return out

    def fit_transform(self, X: ArrayLike, dtype: DTypeLike = np.float32) -> np.ndarray:
        return self.fit(X).transform(X, dtype)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as named float64 arrays (empty for ``"none"``); with
        :attr:`kind` it is everything :meth:`from_arrays` needs."""
        if not self.fitted:
            raise ValueError(f"Preprocessor({self.kind!r}): not fitted, nothing to save")
        if self.kind == "none" or self.shift is None or self.scale is None:
            return {}
        return {"shift": self.shift.copy(), "scale": self.scale.copy()}

    @classmethod
    def from_arrays(cls, kind: str, arrays: Mapping[str, np.ndarray]) -> Preprocessor:
        """Rebuild a fitted preprocessor from :attr:`kind` and :meth:`to_arrays`' output.

        Raises :class:`DataError` when the arrays do not fit the kind (as from a damaged
        or foreign model file).
        """
        self = cls(kind)
        if not isinstance(arrays, Mapping):
            raise TypeError(f"arrays: expected a dict of name -> array, got {arrays!r}"[:200])
        wanted = set() if kind == "none" else {"shift", "scale"}
        if set(arrays) != wanted:
            raise DataError(f"preprocessor {kind!r}: expected arrays {sorted(wanted)}, got "
                            f"{sorted(arrays)}")
        if kind == "none":
            return self
        shift, scale = (np.asarray(arrays[k]) for k in ("shift", "scale"))
        if (shift.ndim != 1 or shift.shape != scale.shape or shift.size == 0
                or shift.dtype.kind != "f" or scale.dtype.kind != "f"):
            raise DataError(f"preprocessor {kind!r}: expected float arrays shift and scale of "
                            f"one shape (d,), got {shift.dtype}{shift.shape} and "
                            f"{scale.dtype}{scale.shape}")
        if not (np.isfinite(shift).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise DataError(f"preprocessor {kind!r}: expected finite shift and positive "
                            f"finite scale")
        self.shift = shift.astype(np.float64)
        self.scale = scale.astype(np.float64)
        return self

    def __repr__(self) -> str:
        state = "" if self.fitted else ", unfitted"
        d = "" if self.n_features is None else f", {self.n_features} features"
        return f"Preprocessor({self.kind!r}{d}{state})"


def _features(X, name: str) -> np.ndarray:
    """A 2-D numeric array with at least one row and column, all finite, never copied."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected a 2-D array (m, d) with m, d >= 1, got shape "
                         f"{arr.shape}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return arr
