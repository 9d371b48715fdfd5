"""The shared part of :mod:`manualnn.sklearn`'s estimators: parameters and their checks,
``fit``/``partial_fit``, the forward pass, and the model-folder methods.

The parameters and their meaning are listed in :mod:`manualnn.sklearn`; the training
rules are in :mod:`manualnn.sklearn.fit`.
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_is_fitted, column_or_1d
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("manualnn.sklearn needs scikit-learn and scipy: "
                      "pip install manualnn[sklearn]") from exc
try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from manualnn import checks
from manualnn.core.activations import ACTIVATIONS
from manualnn.core.network import MLP
from manualnn.sklearn import folders as sklearn_io
from manualnn.sklearn.fit import FlatParams, fit_lbfgs, fit_stochastic

ALIASES = {"logistic": "sigmoid"}
_BOOLEANS = ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping")
_REALS = {  # name: (low, high, low_open, high_open)
    "alpha": (0, None, False, False), "learning_rate_init": (0, None, True, False),
    "power_t": (0, None, False, False), "tol": (0, None, False, False),
    "momentum": (0, 1, False, False), "validation_fraction": (0, 1, False, True),
    "beta_1": (0, 1, False, True), "beta_2": (0, 1, False, True),
    "epsilon": (0, None, True, False), "dropout": (0, 1, False, True),
    "weight_decay": (0, None, False, False),
}


class _BaseMLP(BaseEstimator):
    """Shared parameters, validation, fitting and forward pass of the two estimators.

    Subclasses define ``_targets`` (y -> what the loss takes), ``_n_outputs_for``,
    ``_loss``, ``_score_outputs`` (early stopping's score) and ``_numeric_targets``.
    """

    _numeric_targets = True

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, dtype=None, weight_decay=0.0):
        self.hidden_layer_sizes, self.activation = hidden_layer_sizes, activation
        self.solver, self.alpha, self.batch_size = solver, alpha, batch_size
        self.learning_rate, self.learning_rate_init = learning_rate, learning_rate_init
        self.power_t, self.max_iter, self.shuffle = power_t, max_iter, shuffle
        self.random_state, self.tol, self.verbose = random_state, tol, verbose
        self.warm_start, self.momentum = warm_start, momentum
        self.nesterovs_momentum, self.early_stopping = nesterovs_momentum, early_stopping
        self.validation_fraction, self.beta_1, self.beta_2 = validation_fraction, beta_1, beta_2
        self.epsilon, self.n_iter_no_change, self.max_fun = epsilon, n_iter_no_change, max_fun
        self.dropout, self.dtype, self.weight_decay = dropout, dtype, weight_decay

    # -- validation --------------------------------------------------------------------
    def _check_hyperparameters(self) -> list[int]:
        """Raise ValueError/TypeError naming a bad parameter; return the hidden widths."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
        try:
            sizes = list(sizes)
        except TypeError:
            raise TypeError("hidden_layer_sizes: expected an int or a sequence of ints, "
                            f"got {self.hidden_layer_sizes!r}") from None
        for s in sizes:
            checks.number(s, "hidden_layer_sizes", 1, integer=True)
        checks.choice(self.activation, "activation", {*ACTIVATIONS, *ALIASES})
        checks.choice(self.solver, "solver", {"sgd", "adam", "lbfgs"})
        checks.choice(self.learning_rate, "learning_rate", {"constant", "invscaling", "adaptive"})
        if self.batch_size != "auto":
            checks.number(self.batch_size, "batch_size ('auto' or an int)", 1, integer=True)
        for name in ("max_iter", "max_fun"):
            checks.number(getattr(self, name), name, 1, integer=True)
        if self.n_iter_no_change != np.inf:
            checks.number(self.n_iter_no_change, "n_iter_no_change (an int or inf)", 1,
                          integer=True)
        for name, (low, high, low_open, high_open) in _REALS.items():
            checks.number(getattr(self, name), name, low, high, low_open=low_open,
                          high_open=high_open)
        for name in _BOOLEANS:
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name}: expected True or False, got {getattr(self, name)!r}")
        if self.dtype is not None:
            checks.float_dtype(self.dtype)
        if self.solver == "lbfgs" and (self.dropout or self.weight_decay):
            raise ValueError("dropout, weight_decay: solver='lbfgs' needs a deterministic "
                             "loss; use solver='sgd' or 'adam' with them")
        return [int(s) for s in sizes]

    def _validate_xy(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=["csr", "csc"],
                             multi_output=True, dtype=(np.float64, np.float32),
                             y_numeric=self._numeric_targets)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _working_dtype(self, X, first) -> np.dtype:
        if self.dtype is not None:
            return checks.float_dtype(self.dtype)
        return X.dtype if first else self.coefs_[0].dtype

    # -- fitting -----------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        sizes = self._check_hyperparameters()
        first = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        if getattr(self, "column_encoder_", None) is not None:
            if not first:
                raise ValueError("X: this estimator was loaded from a model of a table's "
                                 "columns; warm_start and partial_fit cannot continue it "
                                 "(train it on the table with `manualnn train`)")
            del self.column_encoder_   # a fresh fit takes arrays
        X, y = self._validate_xy(X, y, reset=first)
        dtype = self._working_dtype(X, first)
        X = _dense(X, dtype)
        w = _sample_weight(sample_weight, X.shape[0], dtype)
        T, stratify = self._targets(y, first, incremental, classes, dtype)
        rs = check_random_state(self.random_state)
        widths = [X.shape[1], *sizes, self._n_outputs_for(T)]
        if first:
            self._initialize(widths, dtype, rs)
        elif [W.shape[0] for W in self.coefs_] + [self.n_outputs_] != widths:
            raise ValueError(f"hidden_layer_sizes: warm_start and partial_fit continue the "
                             f"fitted network of widths {self._widths()}, got {widths}")
        flat = FlatParams(self.coefs_, self.intercepts_, dtype)
        rng = np.random.default_rng(rs.randint(2**31 - 1)) if self.dropout else None
        net = flat.network(self._activation_name(), self.dropout, rng)
        data = (X, T, w, stratify)
        if self.solver == "lbfgs":
            fit_lbfgs(self, flat, net, self._loss(), data)
        else:
            self._prepare_stochastic(flat)
            fit_stochastic(self, flat, net, self._loss(), data, rs, incremental)
        self.coefs_, self.intercepts_ = flat.coefs, flat.intercepts
        if not np.isfinite(flat.theta).all():
            raise ValueError("Solver produced non-finite parameter weights. The input data "
                             "may contain large values and need to be preprocessed.")
        return self

    def _initialize(self, widths, dtype, rs):
        """scikit-learn's start: W_i and b_i from U(-r, r), r = sqrt(f / (n_i + n_{i+1})),
        f = 2 for logistic hidden units, else 6 (Glorot and Bengio), drawn in that order."""
        f = 2.0 if self._activation_name() == "sigmoid" else 6.0
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in itertools.pairwise(widths):
            r = np.sqrt(f / (fan_in + fan_out))
            self.coefs_.append(rs.uniform(-r, r, (fan_in, fan_out)).astype(dtype))
            self.intercepts_.append(rs.uniform(-r, r, fan_out).astype(dtype))
        self.n_layers_, self.n_outputs_ = len(widths), widths[-1]
        self.n_iter_, self.t_ = 0, 0
        self._reset_progress()

    def _reset_progress(self):
        self.loss_curve_, self._no_improvement_count = [], 0
        self.validation_scores_ = self.best_validation_score_ = None
        self.best_loss_, self._best_theta, self._optimizer = np.inf, None, None

    def _prepare_stochastic(self, flat):
        """Early stopping's records, (re)made when it is switched on for a warm start."""
        if self.early_stopping:
            if self.validation_scores_ is None:
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
            if self._best_theta is None or self._best_theta.shape != flat.theta.shape:
                self._best_theta = flat.theta.copy()
            self.best_loss_ = None
        elif self.best_loss_ is None:
            self.best_loss_ = np.inf

    def _activation_name(self) -> str:
        return ALIASES.get(self.activation, self.activation)

    def _widths(self) -> list[int]:
        return [self.coefs_[0].shape[0]] + [W.shape[1] for W in self.coefs_]

    # -- prediction --------------------------------------------------------------------
    def _forward(self, X):
        """The network's output Z_{L+1} (n, n_outputs_), logits for classifiers."""
        check_is_fitted(self)
        W, b = list(self.coefs_), list(self.intercepts_)
        if getattr(self, "column_encoder_", None) is not None:
            X = self._encode_columns(X, W[0].dtype)
        else:
            X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"],
                              dtype=(np.float64, np.float32))
        net = MLP.from_weights(W, b, activation=self._activation_name())
        return net(_dense(X, W[0].dtype))

    def _encode_columns(self, X, dtype) -> np.ndarray:
        """A table's columns X (a DataFrame, a pyarrow Table, a dict of name -> 1-D array,
        or a 2-D array in ``feature_names_in_``'s order) encoded as ``manualnn predict``
        encodes a file's; unseen categories (all-zero) are counted in a warning."""
        import warnings

        from manualnn.data.columns import unseen_lines
        X, unseen = self.column_encoder_.transform_columns(X, dtype)
        for line in unseen_lines(unseen):
            warnings.warn(f"X: {line}", UserWarning, stacklevel=4)
        return X

    def _partial_fit_available(self) -> bool:
        """``partial_fit`` exists for the stochastic solvers only, as in scikit-learn."""
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    # -- model folders -----------------------------------------------------------------
    def save(self, folder) -> None:
        """Write the fitted model into ``folder`` as ``manualnn train`` does (model.json,
        model.safetensors); ``manualnn evaluate/predict`` and :meth:`load` read it."""
        check_is_fitted(self)
        sklearn_io.save(self, folder)

    @classmethod
    def load(cls, folder):
        """An estimator from a model folder written by :meth:`save` or ``manualnn train``
        (whose preprocessing is folded into the first layer: the estimator takes raw X)."""
        return sklearn_io.load(cls, folder)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True   # see manualnn.sklearn.array_api
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"X_types": ["2darray", "sparse"]}


def _sample_weight(sample_weight, n: int, dtype):
    """Checked weights (n,) or None; all-zero weights get scikit-learn's wording."""
    w = None if sample_weight is None else np.asarray(sample_weight)
    if w is not None and w.shape == (n,) and not np.any(w != 0):
        raise ValueError("sample_weight: expected some weights above zero, got all zero "
                         "weights")
    return checks.sample_weight(w, n, dtype)


def _dense(X, dtype) -> np.ndarray:
    """X as a C-ordered dense array of ``dtype`` (sparse input is densified)."""
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=dtype)
