"""Probes: the inputs the learner's functions are run on, chosen so mistakes show apart.

For each function, from a :class:`Variant` (its widths, batch, sigma, seed, dtype):

    main     the variant's shapes, m rows (m differs from every width, so a missing
             transpose cannot hide)
    rows     other data and another m (epochs: another batch size), so a scale shows as
             m or 1/m
    square   every width, m and the batch equal: a missing transpose or a matrix product
             in place of o has the right shape, and shows in the numbers
    large    logits in the thousands: softmax without its max overflows (no label is its
             row's arg-max, so S - I_y is not 0, where the right update would vanish)
    single   (epochs) fewer rows than one batch: labels used unsliced still work here

A probe is (arrays, scalars): the named arrays handed to the function (fresh copies per
call) and its keyword values (lr, batch) or what the driver needs (sigma's name, L).
``extra`` adds probes from other seeds and shapes (a grader's hidden ones).
"""

from __future__ import annotations

import itertools

import numpy as np

from manualnn.learn import reference
from manualnn.learn.driver import ACTIVATIONS
from manualnn.learn.variant import Variant

FUNCTIONS = ("softmax_loss", "softmax_regression_epoch", "nn_epoch", "backprop",
             "backprop_bias")
LR = 0.5
LARGE = 1e4


def build(variant: Variant | None = None, functions=FUNCTIONS, extra: int = 0) -> dict:
    """{function: {probe name: (arrays, scalars)}} for ``variant`` (default Variant())."""
    variant = Variant() if variant is None else variant
    out = {}
    for function in functions:
        make, fi = _MAKERS[function], FUNCTIONS.index(function)
        probes = {}
        for j in range(1 + extra):
            tag = "" if j == 0 else f"-{j}"
            seed = (variant.seed, fi, j)
            probes.update({name + tag: p for name, p in make(variant, seed, j).items()})
        out[function] = probes
    return out


def _rng(seed, name):
    return np.random.default_rng([*seed, sum(map(ord, name))])


def _labels(rng, m, k):
    y = rng.integers(0, k, m)
    y[:min(m, k)] = rng.permutation(k)[:min(m, k)]   # every class present where m allows
    return rng.permutation(y).astype(np.int64)


def _missed(y, logits):
    """y with each label that is its row's arg-max moved to the next class."""
    top = np.argmax(logits, axis=1)
    return np.where(top == y, (top + 1) % logits.shape[1], y).astype(y.dtype)


def _normal(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _weights(rng, widths, dtype, gain=1.5):
    return [_normal(rng, (a, b), dtype, gain / np.sqrt(a)) for a, b in itertools.pairwise(widths)]


def _rows(variant, shift):
    base = max(variant.widths) + 2 + shift
    return base, base + 3


def _loss_probes(v, seed, shift):
    k, dtype = v.widths[-1], v.dtype
    m1, m2 = _rows(v, shift)
    out = {}
    for name, m, scale in (("main", m1, 2.0), ("rows", m2, 2.0), ("large", m1, LARGE)):
        rng = _rng(seed, name)
        Z = _normal(rng, (m, k), dtype, scale)
        y = _labels(rng, m, k)
        out[name] = ({"Z": Z, "y": _missed(y, Z) if name == "large" else y}, {})
    return out


def _grad_probes(v, seed, shift, bias):
    m1, m2 = _rows(v, shift)
    s = max(v.widths) + shift
    shapes = {"main": (v.widths, m1), "rows": (v.widths, m2),
              "square": ((s,) * len(v.widths), s), "large": (v.widths, m1)}
    out = {}
    for name, (widths, m) in shapes.items():
        rng = _rng(seed, name)
        arrays = {"X": _normal(rng, (m, widths[0]), v.dtype), "y": _labels(rng, m, widths[-1])}
        Ws = _weights(rng, widths, v.dtype)
        arrays.update({f"W{i}": W for i, W in enumerate(Ws, start=1)})
        if bias:
            arrays.update({f"b{i}": _normal(rng, (b,), v.dtype, 0.5)
                           for i, b in enumerate(widths[1:], start=1)})
        if name == "large":
            Ws[-1] *= np.asarray(LARGE, v.dtype)   # in place: arrays holds the same W_L
            bs = [arrays[f"b{i}"] for i in range(1, len(Ws) + 1)] if bias else None
            _, A = reference.forward(arrays["X"], Ws, bs, ACTIVATIONS[v.activation][0])
            arrays["y"] = _missed(arrays["y"], A[-1])
        out[name] = (arrays, {"activation": v.activation, "L": len(widths) - 1})
    return out


def _epoch_probes(v, seed, shift, widths_of, names):
    b = v.batch + shift
    s = max(max(widths_of(v.widths)), b)
    shapes = {"main": (widths_of(v.widths), b, 3 * b + 1),
              "rows": (widths_of(v.widths), b + 1, 2 * (b + 1) + 1),
              "square": ((s,) * (len(names) + 1), s, 2 * s),
              "large": (widths_of(v.widths), b, b),
              "single": (widths_of(v.widths), b, b - 1)}
    out = {}
    for name, (widths, batch, n) in shapes.items():
        rng = _rng(seed, name)
        arrays = {"X": _normal(rng, (n, widths[0]), v.dtype), "y": _labels(rng, n, widths[-1])}
        Ws = _weights(rng, widths, v.dtype, gain=1.0)
        if len(Ws) == 2:   # a relu unit dead on the first batch is turned round: no probe
            dead = (arrays["X"][:batch] @ Ws[0] <= 0).all(axis=0)   # may leave W unchanged
            Ws[0][:, dead] *= -1
        if name == "large":
            Ws[-1] *= np.asarray(LARGE, v.dtype)
            _, A = reference.forward(arrays["X"], Ws, None, ACTIVATIONS["relu"][0])
            arrays["y"] = _missed(arrays["y"], A[-1])
        arrays.update(dict(zip(names, Ws)))
        out[name] = (arrays, {"lr": LR, "batch": batch})
    return out


_MAKERS = {
    "softmax_loss": _loss_probes,
    "softmax_regression_epoch": lambda v, seed, j: _epoch_probes(
        v, seed, j, lambda w: (w[0], w[-1]), ("theta",)),
    "nn_epoch": lambda v, seed, j: _epoch_probes(
        v, seed, j, lambda w: (w[0], w[1], w[-1]), ("W1", "W2")),
    "backprop": lambda v, seed, j: _grad_probes(v, seed, j, bias=False),
    "backprop_bias": lambda v, seed, j: _grad_probes(v, seed, j, bias=True),
}


def starting_params(function: str, arrays: dict) -> list:
    """The parameters an epoch function updates, as handed to it (None for others)."""
    names = {"softmax_regression_epoch": ["theta"], "nn_epoch": ["W1", "W2"]}.get(function)
    return None if names is None else [arrays[n] for n in names]


def output_names(function: str, arrays: dict, scalars: dict) -> list:
    """What each output array is, in the lecture's words: 'grad W_2', 'theta', ..."""
    if function == "softmax_loss":
        return ["the loss"]
    if function in ("softmax_regression_epoch", "nn_epoch"):
        return [n for n in ("theta", "W1", "W2") if n in arrays]
    L = scalars["L"]
    names = [f"grad W_{i}" for i in range(1, L + 1)]
    return names + ([f"grad b_{i}" for i in range(1, L + 1)] if function == "backprop_bias"
                    else [])
