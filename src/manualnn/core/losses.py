"""Losses: each returns the mean loss and G_{L+1} = d loss / d Z_{L+1} together.

Z is the network output Z_{L+1} of shape (m, k).  Every loss is a mean over the m rows,
or, with per-sample weights w, the weighted mean sum_i w_i l_i / sum_i w_i; G then carries
the same 1/m (or w_i / sum w) factor, so that grad W_i = Z_i^T D_i is the gradient of
that mean.

``loss(Z, y)`` validates and allocates; ``loss.value_and_grad_(Z, y, w, ops)`` is the
step's version: no checks, Z overwritten by G, and it returns the mean loss and the number
of misclassified rows (None: not a classifier) as a float and an int, or on a device as 0-d
arrays left there unread (the GPU is not stopped each step): float() and int() read both.

On NumPy arrays the passes below run in NumPy's own calls (the benchmarked paths); on any
other array (CuPy where no fused kernel serves, torch, array-api-strict) the same
equations run in the array API standard's calls, which allocate.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from manualnn import checks
from manualnn.backend import backend_for, namespace
from manualnn.checks import Array, Backend


class Loss:
    """Base class.  Subclasses define ``targets`` (validation) and ``value_and_grad_``."""

    name = "loss"
    label = "loss"   # what reports call its value

    def targets(self, y: Array, m: int, k: int) -> Array:
        """Check the targets for an output of shape (m, k); return them as used."""
        raise NotImplementedError

    def value_and_grad_(self, Z: Array, y: Array, w: Array | None = None,
                        ops: Backend = None) -> tuple[float, int | None]:
        """(mean loss, misclassified rows or None), with Z (m, k) overwritten by G_{L+1}
        (m, k); ``ops`` is the backend whose fused pass may serve (None: NumPy's lines)."""
        raise NotImplementedError

    def __call__(self, Z: Array, y: Array,
                 sample_weight: Array | None = None) -> tuple[float, Array]:
        """Mean loss and G_{L+1}, shape (m, k), for output Z (m, k) and targets y; G is an
        array of Z's library (torch, CuPy, ...: the targets are checked on the host)."""
        if not isinstance(Z, np.ndarray) and hasattr(Z, "shape"):
            return self._call_on(backend_for([Z]), Z, y, sample_weight)
        Z = checks.float_array(Z, "Z", ndim=2)
        y = self.targets(y, *Z.shape)
        w = checks.sample_weight(sample_weight, Z.shape[0], Z.dtype)
        G = Z.copy()
        with np.errstate(over="ignore"):   # z - max(z) may overflow to -inf: exp makes it 0
            return self.value_and_grad_(G, y, w)[0], G

    def _call_on(self, ops, Z, y, sample_weight):
        Z = ops.float_input(Z, "Z", ndim=2)
        host = [ops.to_numpy(a) if ops.is_native(a) else a for a in (y, sample_weight)]
        y = ops.from_host(self.targets(host[0], *Z.shape))
        w = checks.sample_weight(host[1], Z.shape[0], ops.np_dtype(Z.dtype))
        G = ops.copy(Z)
        value = self.value_and_grad_(G, y, None if w is None else ops.from_host(w))[0]
        return float(value), G

    @staticmethod
    def _mean(rows, w) -> float:
        """The mean of per-row losses ``rows`` (m,), weighted by w when given."""
        # accumulated in float64: a float32 sum of m rows would lose digits of the mean
        xp = namespace(rows)
        if xp is not np:
            r64 = xp.astype(rows, xp.float64)
            if w is None:
                return float(xp.sum(r64)) / rows.shape[0]
            w64 = xp.astype(w, xp.float64)
            return float(xp.sum(r64 * w64) / xp.sum(w64))
        if w is None:   # add.reduce: the same sum as mean(), without its ~3 us of wrapping
            return float(np.add.reduce(rows, dtype=np.float64)) / rows.shape[0]
        return float(np.dot(rows.astype(np.float64), w) / w.sum(dtype=np.float64))

    @staticmethod
    def _scale_(G, w, per_row: float = 1.0):
        """Multiply G by 1/m, or by w_i / sum w row by row; times ``per_row``."""
        if w is None:
            G *= per_row / G.shape[0]
        else:
            G *= (w * (per_row / namespace(w).sum(w)))[:, None]
        return G

    def __repr__(self):
        return f"<loss {self.name}>"


class SoftmaxCrossEntropy(Loss):
    """l_i = log sum_j exp z_ij - sum_j q_ij z_ij, with q_i the one-hot row of y_i,
    smoothed to (1 - eps) one-hot + eps / k when ``label_smoothing = eps``.

    G = (S - Q) / m with S = softmax(Z).  The max of each row is subtracted before exp
    (log-sum-exp), and the loss's terms are summed in float64, so any finite logits (up
    to float32's +-3.4e38) give a finite loss.  No one-hot matrix is
    built: the m entries z_{i, y_i} are reached through flat indices i k + y_i (i + y_i m
    for a column-major Z, as the network's output buffer is).
    """

    name, label = "softmax_cross_entropy", "cross-entropy"

    def __init__(self, label_smoothing: float = 0.0) -> None:
        checks.number(label_smoothing, "label_smoothing", 0, 1, high_open=True)
        self.eps = float(label_smoothing)
        self._buffers: dict = {}

    def targets(self, y: Array, m: int, k: int) -> Array:
        return checks.labels(y, "y", m, k)

    def _workspace(self, Z):
        """Buffers for an output shaped and laid out as Z; the last three are kept."""
        key = (Z.shape, Z.strides, Z.dtype)
        ws = self._buffers.get(key)
        if ws is None:
            m, (s0, s1) = Z.shape[0], (st // Z.itemsize for st in Z.strides)
            # r (m, 1): row maxima, then row sums; idx: flat indices of the z_{i, y_i}
            # t64, s64 (m,): the per-row losses and a partial term, in float64
            r = np.empty((m, 1), Z.dtype)
            ws = SimpleNamespace(base=np.arange(m) * s0, col=s1, idx=np.empty(m, np.intp),
                                 r=r, r1=r.reshape(m), zy=np.empty(m, Z.dtype),
                                 t64=np.empty(m), s64=np.empty(m))
            while len(self._buffers) >= 3:
                del self._buffers[next(iter(self._buffers))]
            self._buffers[key] = ws
        return ws

    def value_and_grad_(self, Z: Array, y: Array, w: Array | None = None,
                        ops: Backend = None) -> tuple[float, int | None]:
        if w is None and ops is not None:   # one compiled pass on the fast backend
            done = ops.softmax_cross_entropy_(Z, y, self.eps)
            if done is not None:
                return done
        if type(Z) is not np.ndarray:   # another library's array: the standard's calls
            value, G, errors = self._equations(Z, y, w)
            Z[...] = G
            return float(value), int(errors)
        if not (Z.flags.c_contiguous or Z.flags.f_contiguous):
            C = np.ascontiguousarray(Z)
            done = self.value_and_grad_(C, y, w)
            Z[...] = C
            return done
        m, k = Z.shape
        ws, eps = self._workspace(Z), self.eps
        # element (i, y_i) of Z in memory order: i s0 + y_i s1 (row- or column-major Z)
        flat = Z.ravel(order="K")
        np.multiply(y, ws.col, out=ws.idx, dtype=np.intp)   # intp: uint8 labels would wrap
        ws.idx += ws.base
        np.maximum.reduce(Z, axis=1, keepdims=True, out=ws.r)
        # the loss's terms in float64: a float32 z - max(z) of logits near +-3.4e38 would
        # overflow, its float64 value is finite (mode="clip": the indices are in range)
        target = ws.t64
        if eps:   # target <- eps / k sum_j (z_ij - max_i), then (1 - eps) z_{i, y_i} added
            np.add.reduce(Z, axis=1, dtype=np.float64, out=ws.s64)
            np.multiply(ws.r1, -k, out=target, dtype=np.float64)
            target += ws.s64
            target *= eps / k
        shifted = ws.s64 if eps else target
        np.copyto(shifted, np.take(flat, ws.idx, out=ws.zy, mode="clip"))
        shifted -= ws.r1   # z_{i, y_i} - max_i: 0 where the row's label is its arg-max
        errors = int(np.count_nonzero(shifted))
        if eps:
            shifted *= 1 - eps
            target += shifted
        Z -= ws.r   # an entry that overflows to -inf has exp 0, as it should
        np.exp(Z, out=Z)
        np.add.reduce(Z, axis=1, keepdims=True, out=ws.r)
        np.subtract(np.log(ws.r1, out=ws.zy), target, out=target)   # log sum exp - target
        loss = float(np.add.reduce(target)) / m if w is None else self._mean(target, w)
        # G = (S - Q) / m: with no weights the 1/m goes into the row sums, one pass fewer
        scale = 1.0 / m if w is None else 1.0
        if w is None:
            ws.r *= m
        Z /= ws.r
        if eps:
            Z -= eps / k * scale
        zy = np.take(flat, ws.idx, out=ws.zy, mode="clip")
        zy -= (1 - eps) * scale
        np.put(flat, ws.idx, zy)
        if w is not None:
            self._scale_(Z, w)
        return loss, errors

    def reference(self, Z: Array, y: Array, w: Array | None = None) -> tuple[float, Array]:
        """The same (mean loss, G) written as the equations, for the tests to hold the
        fast passes to: S = softmax(Z), Q = (1 - eps) I_y + eps / k,
        l_i = -sum_j q_ij log s_ij, loss = mean_i l_i (or weighted), G = (S - Q) / m (or
        times w_i / sum w).  Allocates; Z is left alone.  Standard calls only: it is the
        cross-entropy of the backends that are not NumPy's."""
        value, G, _ = self._equations(Z, y, w)
        return float(value), G

    def _equations(self, Z, y, w):
        """(loss as a 0-d array, G, misclassified rows as a 0-d array), for Z (m, k) of
        any array API namespace and labels y (m,) of the same."""
        xp = namespace(Z)
        m, k = Z.shape
        hot = xp.astype(y[:, None] == xp.arange(k, device=_device(Z))[None, :], Z.dtype)
        Q = hot * (1 - self.eps) + self.eps / k
        # in float64, z - max(z) of float32 logits near +-3.4e38 is finite; and since the
        # q_ij sum to 1, l_i = lse_i - sum_j q_ij (z_ij - max_i) has no 0 x inf in it
        shifted = xp.astype(Z, xp.float64)
        shifted = shifted - xp.max(shifted, axis=1, keepdims=True)
        # the row is wrong when its label's logit is not a largest one (NaN: wrong too)
        Q64, hot64 = xp.astype(Q, xp.float64), xp.astype(hot, xp.float64)
        errors = xp.sum(xp.astype(xp.sum(hot64 * shifted, axis=1) != 0, xp.int64))
        lse = xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
        rows = lse[:, 0] - xp.sum(Q64 * shifted, axis=1)
        S = xp.astype(xp.exp(shifted - lse), Z.dtype)
        if w is None:
            return xp.sum(rows) / m, (S - Q) / m, errors
        share = w / xp.sum(w)
        return (xp.sum(rows * xp.astype(share, xp.float64)), (S - Q) * share[:, None],
                errors)


class MeanSquaredError(Loss):
    """l_i = sum_j (z_ij - y_ij)^2 / k (the mean over all m k entries, as PyTorch's
    MSELoss); with ``half=True`` the conventional 1/2 factor (scikit-learn's squared loss).
    G = 2 (Z - Y) / (m k), or (Z - Y) / (m k) with half.  y has shape (m, k), or (m,) if k = 1.
    """

    name, label = "mse", "mean squared error"

    def __init__(self, half: bool = False) -> None:
        self.factor = 0.5 if half else 1.0

    def targets(self, y: Array, m: int, k: int) -> Array:
        return _float_targets(y, m, k)

    def value_and_grad_(self, Z: Array, y: Array, w: Array | None = None,
                        ops: Backend = None) -> tuple[float, int | None]:
        k = Z.shape[1]
        Z -= y
        xp = namespace(Z)
        squares = np.einsum("ij,ij->i", Z, Z) if xp is np else xp.sum(Z * Z, axis=1)
        rows = squares * (self.factor / k)
        self._scale_(Z, w, 2 * self.factor / k)
        return self._mean(rows, w), None


class Huber(Loss):
    """l_i = sum_j h(z_ij - y_ij) / k with h(r) = r^2 / 2 for |r| <= delta, and
    delta (|r| - delta / 2) beyond: squared near the target, linear far from it, so a few
    outlying targets pull less than under MSE.  G = clip(Z - Y, -delta, delta) / (m k).
    """

    name, label = "huber", "Huber loss"

    def __init__(self, delta: float = 1.0) -> None:
        checks.number(delta, "delta", 0, low_open=True)
        self.delta = float(delta)

    def targets(self, y: Array, m: int, k: int) -> Array:
        return _float_targets(y, m, k)

    def value_and_grad_(self, Z: Array, y: Array, w: Array | None = None,
                        ops: Backend = None) -> tuple[float, int | None]:
        k, d = Z.shape[1], self.delta
        Z -= y
        xp = namespace(Z)
        R = xp.abs(Z)
        rows = xp.sum(xp.where(R <= d, R * R / 2, d * (R - d / 2)), axis=1) / k
        Z[...] = xp.clip(Z, -d, d)
        self._scale_(Z, w, 1 / k)
        return self._mean(rows, w), None


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on logits, for k independent yes/no outputs (multi-label):
    l_i = sum_j [softplus(z_ij) - y_ij z_ij] / k with y_ij in [0, 1], computed as
    max(z, 0) - y z + log1p(exp(-|z|)).  G = (sigmoid(Z) - Y) / (m k).
    """

    name, label = "binary_cross_entropy", "binary cross-entropy"

    def targets(self, y: Array, m: int, k: int) -> Array:
        Y = _float_targets(y, m, k)
        if ((Y < 0) | (Y > 1)).any():
            raise ValueError("y: expected targets in [0, 1] for binary cross-entropy")
        return Y

    def value_and_grad_(self, Z: Array, y: Array, w: Array | None = None,
                        ops: Backend = None) -> tuple[float, int | None]:
        k = Z.shape[1]
        xp = namespace(Z)
        E = xp.exp(-xp.abs(Z))
        rows = xp.sum(xp.maximum(Z, 0) - y * Z + xp.log1p(E), axis=1) / k
        Z[...] = xp.where(Z >= 0, 1, E) / (1 + E) - y
        self._scale_(Z, w, 1 / k)
        return self._mean(rows, w), None


def softmax(Z: Array) -> Array:
    """S = exp(Z) normalized over each row of Z (m, k), the max subtracted first; a new array."""
    xp = namespace(Z)
    E = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
    return E / xp.sum(E, axis=1, keepdims=True)


def _device(A):
    """A's device, for arrays made beside it (None for NumPy's)."""
    return getattr(A, "device", None)


def _float_targets(y, m, k):
    Y = checks.float_array(y, "y")
    if Y.ndim == 1 and k == 1:
        Y = Y[:, None]
    if Y.shape != (m, k):
        raise ValueError(f"y: expected targets of shape ({m}, {k}), got {Y.shape}")
    return Y


LOSSES = {c.name: c for c in (SoftmaxCrossEntropy, MeanSquaredError, Huber, BinaryCrossEntropy)}


def get_loss(spec: str | Loss, **options: Any) -> Loss:
    """A new loss instance by name (with its options), or a :class:`Loss` passed through."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str) and spec in LOSSES:
        return LOSSES[spec](**options)
    raise ValueError(f"loss: expected one of {sorted(LOSSES)}, got {spec!r}"
                     f"{checks.did_you_mean(spec, LOSSES)}")
