"""Gradient clipping by the global L2 norm of all gradients, as PyTorch's
``clip_grad_norm_``: one Python float, however many arrays and wherever they live."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from manualnn import checks
from manualnn.backend import namespace
from manualnn.checks import Array

__all__ = ["clip_grad_norm"]


def clip_grad_norm(grads: Sequence[Array], max_norm: float) -> float:
    """Scale ``grads`` in place so that their global L2 norm is at most ``max_norm``.

    norm = sqrt(sum over arrays of sum(g^2)); when max_norm / (norm + 1e-6) < 1 every g is
    multiplied by it (torch.nn.utils.clip_grad_norm_, whose 1e-6 guards norm = 0).
    Returns the norm before clipping as a float; a NaN or infinite norm is returned with
    the grads left as they are (an infinite one would zero them), for the caller to skip.
    """
    max_norm = float(checks.number(max_norm, "max_norm", 0, low_open=True))
    for i, g in enumerate(grads):
        if not hasattr(g, "dtype") or str(g.dtype).rsplit(".", 1)[-1] not in \
                ("float32", "float64"):
            raise TypeError(f"grads[{i}]: expected a float32 or float64 array, "
                            f"got {type(g).__name__} {getattr(g, 'dtype', '')}")
    # vdot of a contiguous array reads it in place (no copy); the sum is in double
    norm = math.sqrt(math.fsum(_squares(g) for g in grads))
    scale = max_norm / (norm + 1e-6)
    if scale < 1.0 and math.isfinite(norm):
        for g in grads:
            g *= scale
    return norm


def _squares(g) -> float:
    """sum of g^2 as a Python float (on a device: one read of the sum)."""
    if isinstance(g, np.ndarray):
        return float(np.vdot(g, g))
    xp = namespace(g)
    return float(xp.sum(xp.astype(g * g, xp.float64)))


# -- checks --------------------------------------------------------------------------------
