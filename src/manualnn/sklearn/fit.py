"""The solvers behind :mod:`manualnn.sklearn`: scikit-learn's training rules on manualnn's engine.

What scikit-learn's MLP does per batch, and what this module does the same way:

- the objective is the data loss plus the L2 penalty ``alpha / (2 s) * sum ||W_i||^2`` on
  the coefficients only (not the intercepts), s the batch's number of rows (or the sum of
  its sample weights); its gradient adds ``alpha W_i / s`` to grad W_i;
- the output delta is ``(P - Y) / s`` summed over the outputs: for k logistic outputs
  (binary, multi-label) the loss is the sum of the k binary cross-entropies, for k
  regression targets the gradient is that of ``1/2 sum_j (z_j - y_j)^2`` while the loss
  reported (``loss_``, ``loss_curve_``) is scikit-learn's mean over the outputs;
- SGD is scikit-learn's rule, not PyTorch's: ``v <- mu v - lr g; theta <- theta + v``
  (Nesterov: ``theta <- theta + mu v - lr g``), with the 'constant', 'invscaling' and
  'adaptive' schedules; Adam is scikit-learn's ``theta <- theta - lr_t m / (sqrt(v) + eps)``
  with ``lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)``.  :mod:`manualnn.train.optim` follows
  PyTorch, whose momentum and epsilon differ; scikit-learn's rules are variants of those
  classes (:mod:`manualnn.train.sklearn_rules`), and with them the estimators follow
  scikit-learn's trajectories.
- ``weight_decay`` (manualnn's addition) is decoupled decay as in AdamW / SGDW: each step
  multiplies the coefficients by ``1 - lr * weight_decay`` before the update.

All parameters live in one contiguous vector theta = [W_1, ..., W_L, b_1, ..., b_L]
(coefficients first, so the penalty and the decay touch one slice), and the network's
gradients in one vector of the same layout: the optimizer steps the two slices of theta
(a handful of in-place ufuncs each for SGD, one compiled pass each for Adam, which adds
the penalty's gradient as it goes), and L-BFGS gets its flat vector for free.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from manualnn.backend import get_backend
from manualnn.core.losses import Loss
from manualnn.core.network import MLP
from manualnn.train.batching import Batches
from manualnn.train.sklearn_rules import SklearnAdam, SklearnSGD


class FlatParams:
    """Coefficients W_i (n_i, n_{i+1}) and intercepts b_i (n_{i+1},) as views of one vector.

    ``theta`` and ``grad`` have length sum n_i n_{i+1} + sum n_{i+1}; the first
    ``n_coef`` entries are the coefficients.  ``coefs``/``intercepts`` are views of theta.
    """

    def __init__(self, coefs, intercepts, dtype, backend="auto"):
        shapes = [np.shape(W) for W in coefs] + [np.shape(b) for b in intercepts]
        sizes = [math.prod(s) for s in shapes]
        self.n_coef = sum(sizes[:len(coefs)])
        self.theta = np.empty(sum(sizes), dtype)
        self.grad = np.zeros_like(self.theta)
        self.scratch = np.empty(self.n_coef, dtype)  # the penalty's gradient, per step
        self.ops = get_backend(backend)
        ends = np.cumsum(sizes)
        views = [(v[e - n:e].reshape(s)) for v in (self.theta, self.grad)
                 for s, n, e in zip(shapes, sizes, ends)]
        L = len(coefs)
        self.coefs, self.intercepts = views[:L], views[L:2 * L]
        self.grad_coefs, self.grad_intercepts = views[2 * L:3 * L], views[3 * L:]
        for view, value in zip(views[:2 * L], [*coefs, *intercepts]):
            view[...] = value

    def parts(self, vector=None) -> list:
        """[coefficients, intercepts] of ``vector`` (theta by default): two views."""
        v = self.theta if vector is None else vector
        return [v[:self.n_coef], v[self.n_coef:]]

    def add_penalty_grad(self, c: float) -> None:
        """grad W_i += c W_i for every coefficient: the L2 penalty's gradient."""
        if c:
            self.ops.axpy(c, self.theta[:self.n_coef], self.grad[:self.n_coef], self.scratch)

    def network(self, activation: str, dropout: float = 0.0, rng=None) -> MLP:
        """An :class:`MLP` computing on theta itself, writing its gradients into ``grad``."""
        net = MLP.from_weights(self.coefs, self.intercepts, activation=activation,
                               backend=self.ops)
        net.set_grad_buffers(self.grad_coefs, self.grad_intercepts)
        net.dropout = float(dropout)
        if rng is not None:
            net.rng = rng
        return net


class SummedOutputLoss(Loss):
    """A manualnn loss whose value and G are multiplied by ``scale`` (k outputs: k), so the
    k outputs add up as in scikit-learn; ``report`` turns the value into the loss that
    scikit-learn reports (1, or 1/k for the squared error's mean over outputs).
    """

    def __init__(self, inner: Loss, scale: float = 1.0, report: float = 1.0):
        self.inner, self.scale, self.report = inner, float(scale), float(report)
        self.name = inner.name

    def targets(self, y, m, k):
        return self.inner.targets(y, m, k)

    def value_and_grad_(self, Z, y, w=None, ops=None):
        value, errors = self.inner.value_and_grad_(Z, y, w, ops)
        if self.scale != 1.0:
            Z *= self.scale
        return value * self.scale, errors


class HalfPoissonDeviance(Loss):
    """scikit-learn's Poisson loss with a log link, on the log-mean Z (m, k):
    l_i = sum_j [y_ij log(y_ij / mu_ij) - y_ij + mu_ij], mu = exp(Z) (0 log 0 = 0);
    G = (mu - Y) / m.  Targets y >= 0, shape (m, k).
    """

    name = "half_poisson"
    report = 1.0

    def targets(self, y, m, k):
        Y = np.asarray(y, dtype=np.float64).reshape(m, k)
        if (Y < 0).any():
            raise ValueError("y: loss='poisson' needs targets y >= 0")
        return Y

    def value_and_grad_(self, Z, y, w=None, ops=None):
        mu = np.exp(Z)
        ylogy = np.zeros_like(y)
        np.multiply(y, np.log(y, where=y > 0, out=np.zeros_like(y)), out=ylogy)
        rows = (ylogy - y * Z - y + mu).sum(axis=1)
        np.subtract(mu, y, out=Z)
        self._scale_(Z, w)
        return self._mean(rows, w), None


def objective(net, flat, loss, X, T, w, alpha):
    """Objective and gradient on one batch: returns (objective, reported loss, c), both
    values with the L2 penalty; ``flat.grad`` holds the data loss's gradient, to which
    the penalty's, c W_i, is still to be added (``add_penalty_grad``, or inside Adam's
    pass, where it costs no pass of its own)."""
    value, _ = net.loss_and_grad(X, T, loss, w)
    penalty = c = 0.0
    if alpha:
        s = X.shape[0] if w is None else float(w.sum())
        coef = flat.theta[:flat.n_coef]
        c = alpha / s
        penalty = 0.5 * c * float(np.dot(coef, coef))
    return value + penalty, value * loss.report + penalty, c


def make_optimizer(est, flat):
    """The update rule that ``est.solver`` names (scikit-learn's, ``train.sklearn_rules``)
    over the two parts of theta, with the estimator's hyperparameters; the penalty and
    the decay touch the coefficients only."""
    common = {"weight_decay": est.weight_decay, "decay_mask": [True, False],
              "backend": flat.ops}
    if est.solver == "sgd":
        return SklearnSGD(flat.parts(), est.learning_rate_init, est.momentum,
                          est.nesterovs_momentum, **common)
    return SklearnAdam(flat.parts(), est.learning_rate_init, est.beta_1, est.beta_2,
                       est.epsilon, **common)


def _iteration_ends(est, opt) -> None:
    """scikit-learn's 'invscaling' schedule: lr = lr_0 / (samples seen + 1)^power_t."""
    if est.solver == "sgd" and est.learning_rate == "invscaling":
        opt.lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t


def _trigger_stopping(est, opt):
    """(stop, what happens), when the loss or score stopped improving: 'adaptive' SGD
    divides its learning rate by 5 instead, down to 1e-6."""
    if est.solver != "sgd" or est.learning_rate != "adaptive":
        return True, "Stopping."
    if opt.lr <= 1e-6:
        return True, "Learning rate too small. Stopping."
    opt.lr /= 5.0
    return False, f"Setting learning rate to {opt.lr:f}"


# -- the stochastic loop -------------------------------------------------------------------
def fit_stochastic(est, flat, net, loss, data, rs, incremental):
    """scikit-learn's epoch loop: loss per epoch, tol / n_iter_no_change stopping (or the
    adaptive learning rate's division by 5), early stopping on a held-out split with the
    best weights restored.  ``data`` is (X, T, w, stratify); sets the fitted attributes.
    """
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    if not incremental or getattr(est, "_optimizer", None) is None:
        est._optimizer = make_optimizer(est, flat)
    opt = est._optimizer
    opt.rebind(flat.parts())   # a partial_fit's theta is a new buffer
    grads = flat.parts(flat.grad)
    train, val = _split(est, data, rs)
    n = train[0].shape[0]
    batch_size = _batch_size(est.batch_size, n)
    batches, order = Batches(*train, batch_size=batch_size), np.arange(n)
    est.n_iter_ = 0 if not incremental else est.n_iter_
    for _ in range(1 if incremental else est.max_iter):
        if est.shuffle:
            order = order[rs.permutation(n)]
        total = 0.0
        for Xb, Tb, wb in batches(order if est.shuffle else None):
            _, reported, c = objective(net, flat, loss, Xb, Tb, wb, est.alpha)
            total += reported * Xb.shape[0]
            opt.penalty = c
            opt.step(grads)
        est.n_iter_ += 1
        est.t_ += n
        est.loss_ = total / n
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        _update_no_improvement(est, flat, net, val)
        _iteration_ends(est, opt)
        if est._no_improvement_count > est.n_iter_no_change and _stop(est, opt):
            break
    else:
        if not incremental:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                          "reached and the optimization hasn't converged yet.",
                          _convergence_warning())
    if est.early_stopping:
        flat.theta[...] = est._best_theta


def _stop(est, opt) -> bool:
    what = "Validation score" if est.early_stopping else "Training loss"
    stop, then = _trigger_stopping(est, opt)
    if est.verbose:
        print(f"{what} did not improve more than tol={est.tol:f} for "
              f"{est.n_iter_no_change} consecutive epochs. {then}")
    if not stop:
        est._no_improvement_count = 0
    return stop


def _batch_size(batch_size, n: int) -> int:
    if batch_size == "auto":
        return min(200, n)
    if batch_size > n:
        warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                      "It is going to be clipped")
    return int(min(batch_size, n))


def _split(est, data, rs):
    """(train, val) with ``validation_fraction`` of the rows held out when early stopping,
    else (all, None).  Stratified by ``stratify`` when given (scikit-learn stratifies a
    binary y only, and so do the estimators, so that the splits are the same)."""
    X, T, w, stratify = data
    if not est.early_stopping:
        return (X, T, w), None
    from sklearn.model_selection import train_test_split

    rows = np.arange(X.shape[0])
    tr, va = train_test_split(rows, random_state=rs, test_size=est.validation_fraction,
                              stratify=stratify)
    if va.size < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                         "or the size of your dataset.")
    pick = (lambda a, r: None if a is None else a[r])
    return (X[tr], T[tr], pick(w, tr)), (X[va], T[va], pick(w, va))


def _update_no_improvement(est, flat, net, val):
    if val is None:
        last = est.loss_curve_[-1]
        est._no_improvement_count = (est._no_improvement_count + 1
                                     if last > est.best_loss_ - est.tol else 0)
        est.best_loss_ = min(est.best_loss_, last)
        return
    Z = net(val[0])
    score = est._score_outputs(Z, val[1], val[2]) if np.isfinite(Z).all() else np.nan
    est.validation_scores_.append(score)
    if est.verbose:
        print(f"Validation score: {score:f}")
    best = est.best_validation_score_
    est._no_improvement_count = (est._no_improvement_count + 1
                                 if not score >= best + est.tol else 0)
    if score > best:
        est.best_validation_score_ = score
        est._best_theta = flat.theta.copy()


# -- L-BFGS ---------------------------------------------------------------------------------
def fit_lbfgs(est, flat, net, loss, data):
    """Minimise the full-batch objective with scipy's L-BFGS-B on theta (in float64);
    ``max_iter`` iterations, ``max_fun`` evaluations, gradient tolerance ``tol``."""
    from scipy.optimize import minimize

    X, T, w, _ = data
    last = {}

    def fun(x):
        flat.theta[...] = x
        value, reported, c = objective(net, flat, loss, X, T, w, est.alpha)
        flat.add_penalty_grad(c)
        last["x"], last["reported"] = x.copy(), reported
        return value, flat.grad.astype(np.float64)

    curve = []

    def callback(xk, *_):
        if "x" in last and np.array_equal(xk, last["x"]):
            curve.append(last["reported"])

    res = minimize(fun, flat.theta.astype(np.float64), method="L-BFGS-B", jac=True,
                   callback=callback,
                   options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol})
    if res.status != 0:
        message = res.message.decode() if isinstance(res.message, bytes) else res.message
        warnings.warn(f"lbfgs failed to converge after {res.nit} iterations "
                      f"(status={res.status}): {message}. Increase the number of "
                      "iterations (max_iter) or scale the data.", _convergence_warning())
    fun(res.x)
    est.n_iter_, est.loss_ = int(res.nit), float(last["reported"])
    est.loss_curve_ = curve or [est.loss_]
    est.best_loss_ = min(est.loss_curve_)


def _convergence_warning():
    from sklearn.exceptions import ConvergenceWarning

    return ConvergenceWarning
