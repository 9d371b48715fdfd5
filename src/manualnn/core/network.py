"""The fully-connected network and its hand-written backward pass.

For layer widths n_1, ..., n_{L+1} and a batch X of shape (m, n_1):

    forward    Z_1 = X,   A_i = Z_i W_i + b_i,   Z_{i+1} = sigma_i(A_i)       i = 1..L
    backward   D_i = G_{i+1} o sigma_i'(A_i)                                 i = L..1
               grad W_i = Z_i^T D_i,   grad b_i = sum of the rows of D_i
               G_i = D_i W_i^T

W_i has shape (n_i, n_{i+1}), b_i (n_{i+1},), Z_i and G_i (m, n_i), A_i and D_i
(m, n_{i+1}).  Python lists are 0-based, so the lecture's W_i is ``W[i - 1]``.

Every array of the training step lives in a workspace made once per batch size, and the
step writes into it in place; ``backward`` consumes what ``forward`` kept (the
activations' derivatives overwrite their outputs), so each backward needs its forward.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from manualnn import checks
from manualnn.backend import backend_for, get_backend
from manualnn.checks import Array, Seed
from manualnn.core.activations import Activation, get_activation
from manualnn.core.initializers import initialize

if TYPE_CHECKING:
    from manualnn.core.losses import Loss

RELU_LIKE = {"relu", "leaky_relu", "gelu", "softplus"}


class MLP:
    """A multi-layer perceptron with hand-written backpropagation.

    layers      widths [n_1, ..., n_{L+1}], L >= 1 (L = 1 is softmax regression)
    activation  sigma_1..sigma_{L-1} for the hidden layers: one name, or a list of L - 1
    output      sigma_L, "identity" by default (logits for softmax cross-entropy)
    bias        False gives the lecture's Z_{i+1} = sigma_i(Z_i W_i)
    init        initializer name (see ``initializers``); "auto" is he_normal for relu-like
                hidden layers, glorot_uniform otherwise
    dtype       float32 (default) or float64; every array of a step keeps it
    rng         numpy Generator or seed, for the initial weights and dropout masks
    dropout     probability p of zeroing a hidden unit while training (inverted dropout:
                kept units are scaled by 1 / (1 - p)); off at evaluation
    backend     "auto" (the fast backend where numba is installed), "numpy", "fast", "cupy"
                (an NVIDIA GPU), "array_api", or an array namespace (``torch``,
                ``array_api_strict``): the object every product and fused pass goes
                through (``manualnn.backend``).  The initial weights are drawn on the host
                by NumPy and then moved, so a seed gives the same start on every backend.
    """

    def __init__(self, layers: Sequence[int], activation: str | Sequence[Any] = "relu",
                 output: str | Activation = "identity", bias: bool = True, init: str = "auto",
                 dtype: DTypeLike = "float32", rng: Seed = None, dropout: float = 0.0,
                 backend: Any = "auto") -> None:
        self.layers = _check_layers(layers)
        self.ops = get_backend(backend)
        L = len(self.layers) - 1
        hidden = [activation] * (L - 1) if isinstance(activation, str) else list(activation)
        if len(hidden) != L - 1:
            raise ValueError(f"activation: expected one name or a list of {L - 1}, "
                             f"got a list of {len(hidden)}")
        self.activations = [get_activation(a) for a in hidden] + [get_activation(output, "output")]
        self.bias = bool(bias)
        self.dtype = checks.float_dtype(dtype)
        self.dropout = float(checks.number(dropout, "dropout", 0, 1, high_open=True))
        self.rng = checks.generator(rng, none_is_fresh=True)
        if init == "auto":
            relu_like = L > 1 and self.activations[0].name in RELU_LIKE
            init = "he_normal" if relu_like else "glorot_uniform"
        n = self.layers
        ops = self.ops
        self.W: list[Array] = [ops.from_host(initialize(init, n[i], n[i + 1], self.rng, self.dtype))
                  for i in range(L)]
        self.b: Any = [ops.zeros(n[i + 1], self.dtype) for i in range(L)] if self.bias \
            else None   # list[Array] | None, read only where self.bias says it is a list
        self.set_grad_buffers([ops.zeros_like(w) for w in self.W],
                              [ops.zeros_like(v) for v in self.b or ()] if self.bias else None)
        self._workspaces = self.ops.workspaces(self._build_workspace)
        self._ws: Any = None

    # -- parameters -------------------------------------------------------------------
    @property
    def L(self) -> int:
        return len(self.W)

    @property
    def params(self) -> list[Array]:
        """[W_1, b_1, ..., W_L, b_L] (no b without bias), the arrays themselves."""
        if not self.bias:
            return list(self.W)
        return [p for pair in zip(self.W, self.b) for p in pair]

    @property
    def param_names(self) -> list[str]:
        return [f"{c}{i + 1}" for i in range(self.L) for c in ("Wb" if self.bias else "W")]

    @classmethod
    def from_weights(cls, W: Iterable[Array], b: Iterable[Array] | None = None,
                     activation: str | Sequence[Any] = "relu",
                     output: str | Activation = "identity", backend: Any = "auto") -> MLP:
        """A network that works on the given arrays W_i (n_i, n_{i+1}) and b_i (n_{i+1},)
        themselves, not copies: training it updates them in place.  ``b=None``: no bias.
        The backend is the one of the arrays (NumPy's: ``backend``; CuPy's: "cupy"; any
        other library's: the array API backend over it).
        """
        W = list(W)
        if not W or not all(getattr(w, "ndim", None) == 2 for w in W):
            raise TypeError("W: expected a non-empty list of 2-D arrays")
        b = None if b is None else list(b)
        ops = backend_for(W + list(b or ()), backend)
        W = [ops.weight_input(w, f"W{i + 1}", tuple(w.shape)) for i, w in enumerate(W)]
        layers = [int(W[0].shape[0])] + [int(w.shape[1]) for w in W]
        net = cls(layers, activation, output, bias=b is not None, init="zeros",
                  dtype=ops.np_dtype(W[0].dtype), backend=ops)
        for i, w in enumerate(W):
            net.W[i] = ops.weight_input(w, f"W{i + 1}", (layers[i], layers[i + 1]))
        for i, v in enumerate(b or ()):
            net.b[i] = ops.weight_input(v, f"b{i + 1}", (layers[i + 1],))
        if any(ops.np_dtype(p.dtype) != net.dtype for p in net.params):
            raise TypeError(f"W, b: expected every array in {net.dtype}, got a mix of dtypes")
        return net

    def copy(self, dtype: DTypeLike | None = None, dropout: float | None = None) -> MLP:
        """A new network with copies of the weights, optionally in another dtype or dropout."""
        net = MLP(self.layers, self.activations[:-1], self.activations[-1], bias=self.bias,
                  init="zeros", dtype=self.dtype if dtype is None else dtype,
                  dropout=self.dropout if dropout is None else dropout, backend=self.ops)
        net.set_params(self.params)
        return net

    def set_grad_buffers(self, dW: Iterable[Array], db: Iterable[Array] | None = None) -> None:
        """Backward writes grad W_i into ``dW[i]`` and grad b_i into ``db[i]`` (arrays of
        the parameters' shapes and dtype, e.g. views of one flat vector); ``grads`` is
        them in the order of ``params``."""
        dW, db = list(dW), None if db is None else list(db)
        grads = dW if db is None else [g for pair in zip(dW, db) for g in pair]
        if (db is not None) != self.bias or len(dW) != self.L or len(grads) != len(self.params):
            raise ValueError(f"dW, db: expected {self.L} arrays each (db None without bias), "
                             f"got {len(dW)} and {'None' if db is None else len(db)}")
        for name, p, g in zip(self.param_names, self.params, grads):
            if tuple(g.shape) != tuple(p.shape) or g.dtype != p.dtype:
                raise ValueError(f"grad {name}: expected {p.dtype} {p.shape}, got "
                                 f"{g.dtype} {g.shape}")
        self.dW, self.db, self.grads = dW, db, grads

    def set_params(self, values: Iterable[Array]) -> None:
        """Copy ``values`` (same order, shapes and dtype as ``params``) into the network."""
        values = list(values)
        if len(values) != len(self.params):
            raise ValueError(f"values: expected {len(self.params)} arrays, got {len(values)}")
        for name, p, v in zip(self.param_names, self.params, values):
            self.ops.assign(p, self.ops.weight_input(v, name, tuple(p.shape)))

    # -- forward and backward ----------------------------------------------------------
    def forward(self, X: Array, train: bool = False) -> Array:
        """Z_{L+1} of shape (m, n_{L+1}) for X of shape (m, n_1); keeps what backward needs.

        ``train=True`` applies dropout.  Returns a new array, a NumPy one for a NumPy X.
        """
        return self._like(self.ops.copy(self._forward(self._check_X(X), train)), X)

    def backward(self, G: Array,
                 input_grad: bool = False) -> list[Array] | tuple[list[Array], Array]:
        """Gradients for G_{L+1} = d loss / d Z_{L+1} of shape (m, n_{L+1}).

        Returns the list ``grads`` in the order of ``params`` (overwritten by the next
        backward), and with ``input_grad=True`` also G_1 of shape (m, n_1).
        """
        ws = self._ws
        if ws is None or ws.consumed:
            raise RuntimeError("backward: call forward first (each backward uses one forward)")
        G = self.ops.float_input(G, "G", ndim=2)
        if tuple(G.shape) != tuple(ws.Gout.shape):
            raise ValueError(f"G: expected shape {tuple(ws.Gout.shape)} to match the last "
                             f"forward, got {tuple(G.shape)}")
        self.ops.xp.copyto(ws.Gout, G)
        grads = self._backward(ws.Gout, input_grad)
        return (grads, self.ops.copy(ws.G[0])) if input_grad else grads

    def loss_and_grad(self, X: Array, y: Array, loss: Loss, sample_weight: Array | None = None,
                      hook: Callable[[int, Array, Array], bool] | None = None,
                      return_errors: bool = False) -> tuple[Any, ...]:
        """One training step's math: forward with dropout, the loss and G_{L+1}, backward.

        X (m, n_1) in the model's dtype and y already checked by ``loss.targets``; returns
        (mean loss, grads), or with ``return_errors`` (mean loss, misclassified rows or
        None, grads).  With an identity output, G_{L+1} = (S - I_y) / m is written over
        the logits buffer.  ``hook`` is backward's (see ``_backward``); it is not called
        at all when the loss is not finite.
        """
        Z = self._forward(X, train=True)
        G = self._ws.Gout
        if G is not Z:
            self.ops.xp.copyto(G, Z)
        value, errors = loss.value_and_grad_(G, y, sample_weight, self.ops)
        if hook is not None and not self.ops.finite(value):
            self._ws.consumed = True
            grads = self.grads
        else:
            grads = self._backward(G, False, hook)
        return (value, errors, grads) if return_errors else (value, grads)

    def __call__(self, X: Array, chunk: int = 4096) -> Array:
        """Z_{L+1} for X, without dropout, computed ``chunk`` rows at a time (bounded
        memory); a NumPy X gives a NumPy array on every backend (moved chunk by chunk)."""
        given = X
        if self.ops.host or not isinstance(X, np.ndarray):
            X = self._check_X(X)
        else:   # to the device a chunk at a time: the whole X need not fit there
            X = checks.float_array(X, "X", ndim=2, cols=self.layers[0], dtype=self.dtype)
        out = self.ops.empty((X.shape[0], self.layers[-1]), self.dtype)
        m = X.shape[0]
        for start in range(0, m, chunk):
            stop = min(start + chunk, m)   # the standard leaves slices past the end open
            out[start:stop, ...] = self._forward(self.ops.from_host(X[start:stop, ...]), False)
        self._ws = None
        return self._like(out, given)

    def _forward(self, X, train):
        ws = self._workspaces.get(X.shape[0])
        drop = train and self.dropout > 0
        ws.Z[0], ws.dropped, ws.consumed = X, drop, False
        for i, act in enumerate(self.activations):
            A = self.ops.matmul(ws.Z[i], self.W[i], out=ws.A[i])
            H = act.forward_layer_(A, self.b[i] if self.bias else None, ws.H[i], self.ops)
            if drop and i < self.L - 1:
                H = self.ops.xp.multiply(H, self._draw_mask(ws.M[i]), out=ws.Zd[i])
            ws.Z[i + 1] = H
        self._ws = ws
        return ws.Z[-1]

    def _backward(self, G, input_grad, hook=None):
        """The recurrence, i = L..1: D_i = G_{i+1} o sigma_i'(A_i) (and db_i, its row
        sums), G_i = D_i W_i^T, dW_i = Z_i^T D_i.

        ``hook(i, Z_i, D_i)``, if given, is called once G_i no longer needs W_i and before
        anything it reads is overwritten; returning True says it has used Z_i^T D_i
        itself (an update fused into the product), and then dW_i is not formed.
        """
        ws = self._ws
        ws.consumed = True
        for i in reversed(range(self.L)):
            if ws.dropped and i < self.L - 1:
                G *= ws.M[i]
            D = self.activations[i].backward_layer_(G, ws.A[i], ws.H[i],
                                                    self.db[i] if self.bias else None, self.ops)
            Z = ws.Z[i]
            if i > 0 or input_grad:   # before a hook may change W_i
                G = self.ops.matmul(D, self.W[i].T, out=ws.G[i])
            if hook is None or not hook(i, Z, D):
                self.ops.matmul(Z.T, D, out=self.dW[i])
        return self.grads

    def weight_index(self, i: int) -> int:
        """The position of W_{i+1} (``W[i]``) in ``params`` and ``grads``."""
        return 2 * i if self.bias else i

    # -- helpers -----------------------------------------------------------------------
    def _draw_mask(self, M):
        """M <- 1/(1-p) where a uniform draw u >= p, else 0: floor(u + 1 - p) is that 0/1."""
        p = self.dropout
        self.ops.uniform_(M, self.rng)
        M += 1 - p
        self.ops.xp.floor(M, out=M)
        M *= 1 / (1 - p)
        return M

    def _build_workspace(self, m):
        return _layout(self.layers, self.activations, self.dropout > 0, m,
                       lambda shape, order="C": self.ops.empty(shape, self.dtype, order))

    def release(self) -> None:
        """Drop the workspaces (made again when next needed): an inference that filled a
        memory limit with its chunks gives that memory back to what comes after it."""
        self._workspaces.clear()
        self._ws = None

    def workspace_nbytes(self, m: int) -> int:
        """Bytes of the buffers of one workspace for a batch of m rows."""
        return self.workspace_nbytes_for(self.layers, self.activations, self.dropout > 0,
                                         self.dtype.itemsize, m)

    @staticmethod
    def workspace_nbytes_for(layers: Sequence[int], activations: Sequence[Any], dropout: bool,
                             itemsize: int, m: int) -> int:
        """``workspace_nbytes`` of a network not yet built (for memory plans): widths
        ``layers``, sigma_1..sigma_L ``activations`` (names or objects), dropout or not."""
        entries: list[int] = []

        def count(shape, order="C"):
            entries.append(math.prod(shape))
            return SimpleNamespace(shape=shape)
        _layout(list(layers), [get_activation(a) for a in activations], dropout, m, count)
        return sum(entries) * itemsize

    def _check_X(self, X):
        return self.ops.float_input(X, "X", ndim=2, cols=self.layers[0], dtype=self.dtype)

    def _like(self, Z, X):
        """Z as a NumPy array where X was one (array type in, array type out)."""
        return self.ops.to_numpy(Z) if isinstance(X, np.ndarray) else Z

    def __repr__(self):
        acts = ",".join(a.name for a in self.activations)
        return (f"MLP(layers={self.layers}, activations=[{acts}], bias={self.bias}, "
                f"dtype={self.dtype}, dropout={self.dropout})")


def _layout(n, activations, dropout: bool, m: int, empty):
    """The buffers of a workspace for m rows, each made by ``empty(shape, order)``: A_i
    (m, n_{i+1}), sigma(A_i) where it cannot overwrite A_i, G_i (m, n_i), the dropout
    masks and outputs of the hidden layers, G_{L+1} unless the output is the identity."""
    L = len(n) - 1
    # The output Z_{L+1} (m, k) is column-major: the loss reduces along its rows of
    # only k entries, which NumPy does ~5x faster as k vector passes over m.
    A = [empty((m, n[i + 1]), "F" if i == L - 1 else "C") for i in range(L)]
    H = [a if act.from_output else empty(a.shape) for a, act in zip(A, activations)]
    hidden = range(L - 1) if dropout else ()
    ws = SimpleNamespace(A=A, H=H, Z=[None] * (L + 1),
                         M={i: empty(A[i].shape) for i in hidden},
                         Zd={i: empty(A[i].shape) for i in hidden},
                         G=[empty((m, n[i])) for i in range(L)])
    ws.Gout = H[-1] if activations[-1].name == "identity" else empty(H[-1].shape, "F")
    return ws


def _check_layers(layers):
    try:
        widths = [int(n) for n in layers]
    except (TypeError, ValueError):
        raise TypeError(f"layers: expected a list of integer widths, got {layers!r}") from None
    if len(widths) < 2 or min(widths) < 1 or any(w != n for w, n in zip(widths, layers)):
        raise ValueError(f"layers: expected at least two positive integer widths, got {layers!r}")
    return widths
