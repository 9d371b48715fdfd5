"""The :class:`Dataset` every loader returns (datasets.py's named sets, userdata.py's
files), and :func:`flat32`, their features' shape and dtype."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class Dataset:
    """A classification or regression dataset ready for training.

    ``X_train`` float32 (n, d): raw feature values (pixels 0..255 for the image sets;
    scale them with :mod:`manualnn.data.preprocess`).  ``y_train`` int64 (n,) in [0, k)
    for ``task`` "classification", float64 targets (n, t) for "regression".
    A table file has ``table`` (its feature columns) and X_train None until encoded.
    ``X_test`` (n_test, d) and ``y_test`` (n_test,) likewise, or None without a test split.
    ``classes`` gives the k class names (the t target names for regression; for user files, the original label values as
    strings, sorted as they were encoded); ``labels`` the label values themselves, as y
    held them in the file (None for the built-in sets, whose labels are 0..k-1);
    ``image_shape`` is (rows, cols) for images.
    """

    name: str
    X_train: np.ndarray | None   # None: a table's, until encoded (see ``table``)
    y_train: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    classes: list[str] = field(default_factory=list)
    image_shape: tuple[int, int] | None = None
    labels: list | None = None
    task: str = "classification"
    table: object | None = None     # a data.tables.Table, before encoding
    encoder: object | None = None   # the data.columns.ColumnEncoder that made X_train
    label_columns: list | None = None   # a table's label columns

    @property
    def n_features(self) -> int:
        if self.X_train is None:
            raise ValueError(f"{self.name}: a table's features are counted once encoded")
        return self.X_train.shape[1]

    def stratify(self) -> np.ndarray:
        """What a split keeps the shares of: the classes (a regression: none, one group)."""
        if self.task == "regression":
            return np.zeros(self.y_train.shape[0], dtype=np.int64)
        return self.y_train

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        test = "no test split" if self.X_test is None else f"test {self.X_test.shape}"
        train = "a table" if self.X_train is None else self.X_train.shape
        return (f"Dataset({self.name!r}: train {train}, {test}, "
                f"{self.n_classes} classes)")


def flat32(X: np.ndarray) -> np.ndarray:
    """X (n, ...) as float32 rows (n, d), without a copy when it is already that."""
    return X.reshape(X.shape[0], -1).astype(np.float32, copy=False)
