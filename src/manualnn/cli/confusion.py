"""The confusion of a classifier on a test split, at a cost that stays bounded in k.

A k x k matrix of counts is what a reader wants for ten classes and what nobody reads for
thousands: at k = 12,000 it is 1.15 GB of int64 counts, a text of 720 MB and a picture
of several GB.  :class:`Confusion` keeps what grows with the rows and the classes only
linearly (each class's rows and correct rows, and the counts of the (true, predicted)
pairs that occur), and builds the matrix only up to :data:`MATRIX_UP_TO` classes;
beyond, reports show the most confused pairs instead.
"""

from __future__ import annotations

import numpy as np

MATRIX_UP_TO = 200    # classes: the dense matrix (and its picture) up to here
TEXT_UP_TO = 30       # classes: the matrix printed as text up to here
PAIRS = 20            # most confused pairs shown where no matrix is


class Confusion:
    """``Confusion(y_true, y_pred, k)``: labels (m,) in 0..k-1, true and predicted.

    ``rows`` (k,) test rows per true class, ``correct`` (k,) those predicted right,
    ``matrix`` the (k, k) counts (row: true class, column: predicted) or None when
    k > MATRIX_UP_TO, and :meth:`most_confused` the largest off-diagonal counts.
    """

    def __init__(self, y_true, y_pred, k: int):
        y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
        self.k = int(k)
        self.rows = np.bincount(y_true, minlength=k)
        self.correct = np.bincount(y_true[y_true == y_pred], minlength=k)
        wrong = y_true != y_pred
        # a pair (i, j) as the one integer i k + j: unique counts need no k x k array
        codes, counts = np.unique(y_true[wrong] * k + y_pred[wrong], return_counts=True)
        order = np.argsort(-counts, kind="stable")   # most first; ties by (true, predicted)
        self._codes, self._counts = codes[order], counts[order]
        self.matrix = None
        if k <= MATRIX_UP_TO:
            self.matrix = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)

    @staticmethod
    def nbytes(m: int, k: int) -> int:
        """Bytes held at most while one is built for m rows of k classes: the labels'
        copies and pair codes (about 8 arrays of m int64), the per-class counts, and the
        matrix where it is built."""
        return 8 * (8 * m + 3 * k + (k * k if k <= MATRIX_UP_TO else 0))

    def accuracy(self) -> np.ndarray:
        """(k,) the fraction of each class's rows predicted right (NaN without rows)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.correct / self.rows

    def most_confused(self, n: int = PAIRS) -> list[tuple[int, int, int]]:
        """Up to ``n`` (true class, predicted class, rows) of wrong predictions, the
        most frequent first (ties: smaller true class, then smaller predicted)."""
        return [(int(c // self.k), int(c % self.k), int(count))
                for c, count in zip(self._codes[:n], self._counts[:n])]

    def text(self, classes) -> list[str]:
        """The matrix as lines of text up to TEXT_UP_TO classes; beyond, the most
        confused pairs by class name."""
        k = self.k
        if self.matrix is not None and k <= TEXT_UP_TO:
            width = max(5, len(str(self.matrix.max())) + 1)
            return ["confusion matrix (rows: true class, columns: predicted)",
                    " " * 4 + "".join(f"{c:>{width}}" for c in range(k))] + \
                [f"{c:>3} " + "".join(f"{v:>{width}}" for v in self.matrix[c])
                 for c in range(k)]
        pairs = self.most_confused()
        title = (f"most confused pairs ({k} classes are more than a {TEXT_UP_TO}-column "
                 f"matrix shows; {len(pairs)} of {len(self._codes)} pairs)")
        lines = [title, f"{'true':<16} {'predicted':<16} {'rows':>6}"]
        return lines + [f"{str(classes[i])[:16]:<16} {str(classes[j])[:16]:<16} {n:>6}"
                        for i, j, n in pairs]
