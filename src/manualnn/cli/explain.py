"""The forward and backward passes written out as the lecture writes them, with shapes.

``manualnn explain`` prints this for a given architecture and batch size, so a learner can
follow the dimension bookkeeping of every Z_i, W_i, G_i, D_i and gradient.
"""

from __future__ import annotations

from manualnn import checks
from manualnn.core.activations import get_activation
from manualnn.core.network import _check_layers


def explain(layers, activation="relu", bias=True, batch_size=100,
            loss="softmax_cross_entropy") -> str:
    """The lecture's recurrences for ``layers`` = [n_1, ..., n_{L+1}] and m = batch_size."""
    n = _check_layers(layers)
    m = checks.number(batch_size, "batch_size", 1, integer=True)
    sigma = get_activation(activation).name
    L = len(n) - 1
    b = " + b_{i}" if bias else ""
    title = (f"Network {'-'.join(map(str, n))}: L = {L} layer{'s' * (L > 1)}, batch m = {m}, "
             f"hidden activation {sigma}, output identity, "
             f"{'with' if bias else 'no'} bias, loss {loss}.")
    out = [title, "", "Forward",
           "  Z_1 = X".ljust(42) + _shape(m, n[0])]
    for i in range(1, L + 1):
        act = sigma if i < L else "identity"
        out.append(f"  Z_{i + 1} = {act}(Z_{i} W_{i}{b.format(i=i)})".ljust(42)
                   + f"{_shape(m, n[i - 1])} x {_shape(n[i - 1], n[i])} -> {_shape(m, n[i])}")
    k = n[-1]
    out += ["", "Loss",
            f"  S = softmax(Z_{L + 1})".ljust(42) + _shape(m, k),
            f"  G_{L + 1} = (S - I_y) / m".ljust(42) + f"{_shape(m, k)}   I_y: one-hot rows of y"
            if loss == "softmax_cross_entropy" else
            f"  G_{L + 1} = d loss / d Z_{L + 1}".ljust(42) + _shape(m, k),
            "", "Backward (i = L .. 1)"]
    for i in range(L, 0, -1):
        act = sigma if i < L else "identity"
        out.append(f"  D_{i} = G_{i + 1} o {act}'(Z_{i} W_{i}{b.format(i=i)})".ljust(42)
                   + _shape(m, n[i]))
        out.append(f"  grad W_{i} = Z_{i}^T D_{i}".ljust(42)
                   + f"{_shape(n[i - 1], m)} x {_shape(m, n[i])} -> {_shape(n[i - 1], n[i])}")
        if bias:
            out.append(f"  grad b_{i} = sum of the rows of D_{i}".ljust(42) + f"({n[i]},)")
        if i > 1:
            out.append(f"  G_{i} = D_{i} W_{i}^T".ljust(42)
                       + f"{_shape(m, n[i])} x {_shape(n[i], n[i - 1])} -> {_shape(m, n[i - 1])}")
    params = sum(n[i] * n[i + 1] + (n[i + 1] if bias else 0) for i in range(L))
    flops = sum(2 * m * n[i] * n[i + 1] for i in range(L))
    backward = sum(2 * m * n[i] * n[i + 1] for i in range(L)) \
        + sum(2 * m * n[i] * n[i + 1] for i in range(1, L))
    out += ["", (f"Parameters: {params:,}.  Matrix products per step: forward {flops:,} "
                 f"flops, backward {backward:,} (no G_1: nothing needs the input's gradient).")]
    return "\n".join(out) + "\n"


def _shape(rows, cols):
    return f"({rows}, {cols})"
