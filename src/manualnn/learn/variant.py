"""Variant: the shapes, activation and data seed that the checker's probes are built from.

A course hands each student their own variant (other widths, another sigma, other data),
so answers cannot be copied; ``Variant()`` is the default that ``manualnn check`` uses.

    widths      n_1, ..., n_{L+1} of ``backprop`` and ``backprop_bias`` (L >= 2: at least
                one hidden layer); ``nn_epoch`` uses (n_1, n_2, n_{L+1}) as (n, hidden, k),
                ``softmax_regression_epoch`` and ``softmax_loss`` (n_1, n_{L+1})
    batch       the batch size handed to the epoch functions
    activation  the name of sigma handed to ``backprop`` (sigma, sigma' as callables)
    seed        the probe data's seed (any integer 0 <= seed < 2**63)
    dtype       "float64" or "float32": the dtype of every array the learner is handed

>>> Variant(widths=(6, 5, 3), activation="sigmoid", seed=7).widths
(6, 5, 3)
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIVATIONS = ("tanh", "sigmoid", "softplus", "relu", "leaky_relu")
MAX_WIDTH, MAX_DEPTH, MAX_BATCH = 32, 6, 32


@dataclass(frozen=True)
class Variant:
    widths: tuple = (5, 4, 4, 3)
    batch: int = 4
    activation: str = "tanh"
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self):
        widths = self.widths
        if (not isinstance(widths, (tuple, list)) or not 3 <= len(widths) <= MAX_DEPTH + 1
                or not all(_is_int(n) and 2 <= n <= MAX_WIDTH for n in widths)):
            raise ValueError(f"widths: expected 3 to {MAX_DEPTH + 1} integers n_1..n_(L+1), "
                             f"each 2..{MAX_WIDTH}, got {widths!r}"[:200])
        object.__setattr__(self, "widths", tuple(int(n) for n in widths))
        if not _is_int(self.batch) or not 2 <= self.batch <= MAX_BATCH:
            raise ValueError(f"batch: expected an integer 2..{MAX_BATCH}, got {self.batch!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {', '.join(ACTIVATIONS)}, "
                             f"got {self.activation!r}"[:200])
        if not _is_int(self.seed) or not 0 <= self.seed < 2 ** 63:
            raise ValueError(f"seed: expected an integer 0 <= seed < 2**63, got {self.seed!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype: expected 'float32' or 'float64', got {self.dtype!r}")

    def to_dict(self) -> dict:
        return {"widths": list(self.widths), "batch": self.batch,
                "activation": self.activation, "seed": self.seed, "dtype": self.dtype}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
