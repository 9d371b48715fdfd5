"""Check a network's backward pass against finite differences, in float64.

The numerical derivative of the loss f with respect to one parameter entry uses the
fourth-order central difference

    f'(t) ~ [8 (f(t + h) - f(t - h)) - (f(t + 2h) - f(t - 2h))] / (12 h),

whose truncation error is O(h^4), so h = 1e-4 gives about ten correct digits where the
loss is smooth.  Each parameter array is compared as a whole: its error is
max_j |analytic_j - numeric_j| / max_j max(|analytic_j|, |numeric_j|).

Where the stencil straddles a kink (a relu unit switching on or off between t - 2h and
t + 2h) no difference quotient is right, so such entries are left out: on a smooth
stretch the two-point quotients over h and over 2h agree to O(h^2), and across a kink
they do not.
"""

from __future__ import annotations

import math

import numpy as np

from manualnn import checks
from manualnn.backend import namespace
from manualnn.checks import Array, Seed
from manualnn.core.losses import Loss, get_loss
from manualnn.core.network import MLP


def gradcheck(net: MLP, X: Array, y: Array, loss: str | Loss = "softmax_cross_entropy",
              sample_weight: Array | None = None, h: float = 1e-4, max_entries: int | None = 256,
              rng: Seed = 0, skipped: dict | None = None) -> dict[str, float]:
    """Largest relative error of ``net``'s analytic gradient per parameter array.

    X (m, n_1) and targets y for ``loss`` (NumPy arrays); the check runs on a float64 copy
    of ``net`` without dropout, on ``net``'s backend.  Arrays with more than ``max_entries`` entries are checked on that
    many entries drawn at random (``rng``); ``None`` checks every entry.
    Returns {"W1": err, "b1": err, ...}, NaN for an array whose every checked entry
    straddles a kink; ``skipped``, when given a dict, receives the number of entries of
    each array left out for that.
    """
    net64 = net.copy(dtype=np.float64, dropout=0.0)
    ops = net64.ops
    X = checks.float_array(X, "X", ndim=2, cols=net64.layers[0], dtype=np.float64)
    loss = get_loss(loss)
    y = loss.targets(y, X.shape[0], net64.layers[-1])
    w = checks.sample_weight(sample_weight, X.shape[0], np.float64)
    checks.number(h, "h", 0, low_open=True)
    rng = checks.generator(rng, none_is_fresh=True)

    def f():   # the loss on the host, of the outputs the backend computes
        return loss.value_and_grad_(net64(X), y, w)[0]

    on = ops.from_host
    _, grads = net64.loss_and_grad(on(X), on(y), loss, None if w is None else on(w))
    errors = {}
    for name, p, g in zip(net64.param_names, net64.params,
                          [ops.to_numpy(g, copy=True) for g in grads]):
        size = math.prod(p.shape)
        entries = np.arange(size)
        if max_entries is not None and size > max_entries:
            entries = rng.choice(size, size=max_entries, replace=False)
        flat = namespace(p).reshape(p, (-1,))   # a view: writing it perturbs the weight
        numeric, d1, d2 = np.array([_derivative(f, flat, int(j), h) for j in entries]).T
        analytic = g.reshape(-1)[entries]
        smooth = np.abs(d1 - d2) <= 1e-5 * max(np.abs(analytic).max(), np.abs(numeric).max())
        if skipped is not None:
            skipped[name] = int(np.count_nonzero(~smooth))
        errors[name] = _relative_error(analytic[smooth], numeric[smooth])
    return errors


def _relative_error(analytic, numeric) -> float:
    """max |analytic - numeric| / max(|analytic|, |numeric|) over the entries checked;
    0 where both are all zero, NaN where no entry could be checked."""
    if analytic.size == 0:
        return float("nan")
    scale = max(np.abs(analytic).max(), np.abs(numeric).max())
    return float(np.abs(analytic - numeric).max() / scale) if scale else 0.0


def _derivative(f, flat, j, h):
    t = float(flat[j])
    values = []
    for step in (h, -h, 2 * h, -2 * h):
        flat[j] = t + step
        values.append(f())
    flat[j] = t
    fp, fm, f2p, f2m = values
    d1, d2 = (fp - fm) / (2 * h), (f2p - f2m) / (4 * h)
    return (4 * d1 - d2) / 3, d1, d2
