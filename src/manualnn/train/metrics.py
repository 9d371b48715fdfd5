"""Regression scores in the targets' own units: RMSE, MAE and R^2.

The network learns standardized targets, ``(y - mean) / scale`` per column; its outputs
Z (m, t) are predictions ``P = Z scale + mean``.  With t target columns every score is
the uniform average of the columns' own (as scikit-learn's ``multioutput`` default):

    RMSE = mean_j sqrt(mean_i (p_ij - y_ij)^2)        MAE = mean_j mean_i |p_ij - y_ij|
    R^2  = mean_j (1 - SSE_j / SST_j),  SST_j = sum_i (y_ij - mean_i y_ij)^2
           (a constant column: 1 when predicted exactly, else 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manualnn.checks import Array

NAMES = ("rmse", "mae", "r2")


def regression_scores(P: Array, Y: Array) -> dict:
    """{"rmse", "mae", "r2"} of predictions P against targets Y, both (m, t) or (m,)."""
    P = np.asarray(P, dtype=np.float64).reshape(len(P), -1)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
    R = P - Y
    sse = np.einsum("ij,ij->j", R, R)
    sst = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1 - sse / sst, np.where(sse == 0, 1.0, 0.0))
    return {"rmse": float(np.sqrt(sse / len(Y)).mean()),
            "mae": float(np.abs(R).mean(axis=0).mean()), "r2": float(r2.mean())}


class RegressionMetrics:
    """``metrics(net, X, Y_std, chunk)`` -> the scores of ``net`` on X (m, n_1) against
    standardized targets Y_std (m, t), in the units ``mean`` (t,) and ``scale`` (t,) undo."""

    names = NAMES

    def __init__(self, mean: Array, scale: Array) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    def values(self, Z: Array) -> np.ndarray:
        """Predictions P (m, t) float64 from outputs Z (m, t)."""
        return np.asarray(Z, dtype=np.float64) * self.scale + self.mean

    def __call__(self, net: Any, X: Any, Y: Array, chunk: int = 4096) -> dict:
        with np.errstate(over="ignore", invalid="ignore"):
            Z = net.ops.to_numpy(net(X, chunk=chunk))
        return regression_scores(self.values(Z), self.values(Y))
