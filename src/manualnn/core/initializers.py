"""Weight initializers: each draws W of shape (fan_in, fan_out) from a seeded Generator.

- ``course``: randn / sqrt(fan_out), as the course's homework initialises W1 and W2.
- ``he_normal``: N(0, 2 / fan_in); ``he_uniform``: U(-b, b), b = sqrt(6 / fan_in)
  (Kaiming He et al. 2015, for relu-like activations).
- ``glorot_normal``: N(0, 2 / (fan_in + fan_out)); ``glorot_uniform``: U(-b, b),
  b = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio 2010, for tanh and sigmoid).
- ``zeros``: the course's softmax regression start.

Biases start at zero.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from manualnn import checks
from manualnn.checks import Seed


def _scaled_normal(std_of):
    def init(rng, fan_in, fan_out):
        return rng.standard_normal((fan_in, fan_out)) * std_of(fan_in, fan_out)
    return init


def _uniform(bound_of):
    def init(rng, fan_in, fan_out):
        b = bound_of(fan_in, fan_out)
        return rng.uniform(-b, b, size=(fan_in, fan_out))
    return init


INITIALIZERS = {
    "course": _scaled_normal(lambda i, o: 1 / math.sqrt(o)),
    "he_normal": _scaled_normal(lambda i, o: math.sqrt(2 / i)),
    "he_uniform": _uniform(lambda i, o: math.sqrt(6 / i)),
    "glorot_normal": _scaled_normal(lambda i, o: math.sqrt(2 / (i + o))),
    "glorot_uniform": _uniform(lambda i, o: math.sqrt(6 / (i + o))),
    "zeros": lambda rng, i, o: np.zeros((i, o)),
}


def initialize(name: str, fan_in: int, fan_out: int, rng: Seed = None,
               dtype: DTypeLike = np.float32) -> np.ndarray:
    """Draw a weight matrix W of shape (fan_in, fan_out) with initializer ``name``.

    ``rng`` is a ``numpy.random.Generator``, or a seed for one; draws are made in float64
    and then cast, so the same seed gives the same weights in float32 and float64.
    """
    checks.choice(name, "init", INITIALIZERS)
    checks.number(fan_in, "fan_in", 1, integer=True)
    checks.number(fan_out, "fan_out", 1, integer=True)
    rng = checks.generator(rng, none_is_fresh=True)
    return INITIALIZERS[name](rng, fan_in, fan_out).astype(checks.float_dtype(dtype))
