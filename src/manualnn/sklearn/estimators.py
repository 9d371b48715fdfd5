"""scikit-learn estimators on manualnn's engine: a drop-in for MLPClassifier and MLPRegressor.

Replace ``from sklearn.neural_network import MLPClassifier`` with
``from manualnn.sklearn import MLPClassifier`` and keep pipelines, grid searches and the
parameter names.  The training rules are scikit-learn's (see :mod:`manualnn.sklearn.fit`):
the same initial weights for the same ``random_state``, the same shuffles, loss, penalty,
SGD/Adam updates and stopping rules, so results agree with scikit-learn's to rounding.

Parameters, as in scikit-learn (same names, defaults and meaning):

    hidden_layer_sizes  (100,): widths of the hidden layers (an int for one layer)
    activation          'relu'; 'identity', 'logistic', 'tanh', 'relu', and manualnn's
                        others ('sigmoid' = 'logistic', 'leaky_relu', 'softplus', 'gelu',
                        and any registered with ``manualnn.register_activation``)
    solver              'adam', 'sgd' or 'lbfgs' (scipy's L-BFGS-B on the flat parameters)
    alpha               1e-4: L2 penalty alpha / (2 s) ||W||^2 on the coefficients
    batch_size          'auto' = min(200, n_samples)
    learning_rate       'constant', 'invscaling' or 'adaptive' (sgd only)
    learning_rate_init  1e-3;  power_t 0.5 (invscaling);  max_iter 200;  shuffle True
    random_state        None, an int or a RandomState: weights, shuffles, validation split
    tol                 1e-4;  n_iter_no_change 10;  verbose False;  warm_start False
    momentum            0.9;  nesterovs_momentum True (sgd)
    early_stopping      False;  validation_fraction 0.1
    beta_1, beta_2, epsilon   0.9, 0.999, 1e-8 (adam);  max_fun 15000 (lbfgs)

manualnn's additions:

    dropout             0.0: inverted dropout on the hidden units while training (sgd, adam)
    dtype               None: follow X as scikit-learn does (float32 stays float32, anything
                        else float64); 'float32' or 'float64' to force one
    weight_decay        0.0: decoupled weight decay on the coefficients (AdamW / SGDW)

``save(folder)`` / ``load(folder)`` read and write the model folder of ``manualnn train``
(safetensors + model.json), so either side can use a model trained by the other.

Where the estimators differ from scikit-learn's (1.9), on purpose:

- sparse X is accepted and densified (the engine computes on dense arrays);
- ``partial_fit`` adds one to ``n_iter_`` per call (scikit-learn resets it to 1);
- L-BFGS on several regression targets minimises the loss whose gradient it is given
  (scikit-learn pairs the mean over the outputs with the gradient of their sum);
- ``loss_curve_`` and ``best_loss_`` are also kept for ``solver='lbfgs'`` (per iteration);
- ``MLPRegressor``'s ``loss`` is keyword-only, see its docstring.
"""

from __future__ import annotations

import numpy as np

try:
    from sklearn.base import ClassifierMixin, RegressorMixin
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("manualnn.sklearn needs scikit-learn and scipy: "
                      "pip install manualnn[sklearn]") from exc

from manualnn import checks
from manualnn.core.activations import Sigmoid
from manualnn.core.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy
from manualnn.sklearn.array_api import on_input_device
from manualnn.sklearn.base import _BaseMLP
from manualnn.sklearn.fit import HalfPoissonDeviance, SummedOutputLoss

__all__ = ["MLPClassifier", "MLPRegressor"]

class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: softmax cross-entropy for several classes, one
    logistic output for two, k logistic outputs for a multi-label indicator y.

    Parameters and their defaults: see the module docstring (scikit-learn's, plus
    ``dropout``, ``dtype``, ``weight_decay``).  Fitted attributes: ``classes_``,
    ``coefs_``, ``intercepts_``, ``loss_``, ``loss_curve_``, ``best_loss_``,
    ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``,
    ``n_layers_``, ``n_outputs_``, ``out_activation_``, ``n_features_in_`` and
    ``feature_names_in_`` (when X has column names).
    """

    _numeric_targets = False

    @on_input_device
    def fit(self, X, y, sample_weight=None):
        """Fit on X (n, d) and labels y (n,) or a binary indicator matrix (n, k)."""
        return self._fit(X, y, sample_weight)

    @available_if(_BaseMLP._partial_fit_available)
    @on_input_device
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y); ``classes`` (every label there will be) on the first call."""
        known = getattr(self, "classes_", None)
        if known is None and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if known is not None and classes is not None and not np.array_equal(
                np.unique(classes), known):
            raise ValueError(f"classes: expected {known} as on the first call to "
                             f"partial_fit, got {np.unique(classes)}")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _targets(self, y, first, incremental, classes, dtype):
        """Encode y for the loss: (T, stratify); sets classes_ and out_activation_."""
        check_classification_targets(y)
        multilabel = type_of_target(y).startswith("multilabel")
        if multilabel:
            found = np.arange(y.shape[1])
        else:
            found = np.unique(y)
        if first and incremental and classes is not None and not multilabel:
            found = np.unique(np.asarray(classes))
            if np.setdiff1d(np.unique(y), found).size:
                raise ValueError(f"y: labels {np.setdiff1d(np.unique(y), found)} are not in "
                                 f"classes {found}")
        if first:
            if len(found) < 2 and not multilabel:
                raise ValueError(f"y: expected at least two classes, got 1 class ({found[0]!r})")
            self.classes_ = found
            self.out_activation_ = "softmax" if len(found) > 2 and not multilabel else "logistic"
        else:
            self._check_same_classes(y, found, multilabel, incremental)
        if multilabel:
            return y.astype(dtype), None
        codes = np.searchsorted(self.classes_, y)
        if self.out_activation_ == "softmax":
            return codes, None  # scikit-learn stratifies only a binary y
        return codes[:, None].astype(dtype), codes

    def _check_same_classes(self, y, found, multilabel, incremental):
        was_multilabel = self.out_activation_ == "logistic" and self.n_outputs_ > 1
        if multilabel != was_multilabel or (multilabel and len(found) != self.n_outputs_):
            raise ValueError("y: expected targets of the kind fitted before "
                             f"({'multi-label' if was_multilabel else 'single-label'}, "
                             f"{len(self.classes_)} classes)")
        if multilabel:
            return
        if self.warm_start and not incremental and set(found) != set(self.classes_):
            raise ValueError("warm_start can only be used where `y` has the same classes as "
                             f"in the previous call to fit. Previously got {self.classes_}, "
                             f"`y` has {found}")
        if np.setdiff1d(found, self.classes_).size:
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{self.classes_}. 'y' has {found}.")

    def _n_outputs_for(self, T) -> int:
        if T.ndim == 2:
            return T.shape[1]
        return len(self.classes_)

    def _loss(self):
        if self.out_activation_ == "softmax":
            return SummedOutputLoss(SoftmaxCrossEntropy())
        return SummedOutputLoss(BinaryCrossEntropy(), scale=self.n_outputs_)

    def _score_outputs(self, Z, T, w):
        """Accuracy of the outputs Z against the encoded targets T (early stopping)."""
        pred = self._proba_from_outputs(Z)
        if T.ndim == 1:
            return accuracy_score(T, pred.argmax(axis=1), sample_weight=w)
        truth = T if T.shape[1] > 1 else T[:, 0]
        guess = pred > 0.5 if T.shape[1] > 1 else pred.argmax(axis=1)
        return accuracy_score(truth.astype(int), guess.astype(int), sample_weight=w)

    def _proba_from_outputs(self, Z):
        if self.out_activation_ == "softmax":
            Z = Z - Z.max(axis=1, keepdims=True)
            np.exp(Z, out=Z)
            return Z / Z.sum(axis=1, keepdims=True)
        P = Sigmoid().value(Z)
        return P if P.shape[1] > 1 else np.hstack([1 - P, P])

    @on_input_device
    def predict_proba(self, X):
        """Probabilities (n, n_classes) in the order of ``classes_``; for multi-label y,
        each label's probability (n, k)."""
        return self._proba_from_outputs(self._forward(X))

    @on_input_device
    def predict_log_proba(self, X):
        """``log(predict_proba(X))``, as scikit-learn defines it (-inf where a probability
        underflows to 0)."""
        P = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(P, out=P)

    @on_input_device
    def predict(self, X):
        """Labels (n,), or the 0/1 indicator matrix (n, k) for multi-label targets."""
        P = self.predict_proba(X)
        if self.out_activation_ == "logistic" and self.n_outputs_ > 1:
            return (P > 0.5).astype(int)
        return self.classes_[P.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multilabel": True}


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: one or several targets, with scikit-learn's
    ``loss``: 'squared_error' (identity outputs, half mean square) or 'poisson' (half
    Poisson deviance with a log link: outputs exp(z), targets y >= 0).

    ``loss`` is keyword-only here (scikit-learn 1.7+ put it first), so code written for
    either order of scikit-learn keeps working.  Other parameters: see the module
    docstring.  Fitted attributes as :class:`MLPClassifier`'s, without ``classes_``;
    ``out_activation_`` is 'identity' or 'exp'.
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, loss="squared_error",
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, dtype=None, weight_decay=0.0):
        self.loss = loss
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init,
            power_t=power_t, max_iter=max_iter, shuffle=shuffle, random_state=random_state,
            tol=tol, verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dropout=dropout, dtype=dtype, weight_decay=weight_decay)

    @on_input_device
    def fit(self, X, y, sample_weight=None):
        """Fit on X (n, d) and targets y (n,) or (n, k)."""
        return self._fit(X, y, sample_weight)

    @available_if(_BaseMLP._partial_fit_available)
    @on_input_device
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _targets(self, y, first, incremental, classes, dtype):
        checks.choice(self.loss, "loss", {"squared_error", "poisson"})
        if first:
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        if self.out_activation_ == "exp" and (y < 0).any():
            raise ValueError("y: loss='poisson' needs targets y >= 0")
        T = np.asarray(y, dtype)
        return (T[:, None] if T.ndim == 1 else T), None

    def _n_outputs_for(self, T) -> int:
        return T.shape[1]

    def _loss(self):
        if self.out_activation_ == "exp":
            return HalfPoissonDeviance()
        k = self.n_outputs_
        return SummedOutputLoss(MeanSquaredError(half=True), scale=k, report=1 / k)

    def _score_outputs(self, Z, T, w):
        """R^2 of the outputs Z against the targets T (early stopping)."""
        return r2_score(T, np.exp(Z) if self.out_activation_ == "exp" else Z, sample_weight=w)

    @on_input_device
    def predict(self, X):
        """Predictions (n,) for one target, (n, k) for k."""
        Z = self._forward(X)
        if self.out_activation_ == "exp":
            np.exp(Z, out=Z)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multioutput": True}
