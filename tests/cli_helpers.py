"""What the command-line tests share: a small dataset of three Gaussian blobs written as
an .npz the CLI reads, and the check that a refusal is one line with no traceback."""

import numpy as np


def blobs(n: int, d: int, seed: int = 0):
    """(X (n, d), y (n,)): three classes around centres drawn at scale 3."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return rng.normal(scale=3, size=(3, d))[y] + rng.normal(size=(n, d)), y


def write_blobs(path, n: int, d: int, train: int, seed: int = 0):
    """``blobs(n, d)`` saved at ``path`` with its first ``train`` rows as the training
    split and the rest as the test split; returns (X, y)."""
    X, y = blobs(n, d, seed)
    np.savez(path, X=X[:train], y=y[:train], X_test=X[train:], y_test=y[train:])
    return X, y


def one_line(capsys) -> str:
    """The one line on stderr (asserted: one, and no traceback)."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
