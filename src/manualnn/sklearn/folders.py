"""Model folders for :mod:`manualnn.sklearn`: the same files as ``manualnn train`` writes.

A folder holds ``model.safetensors`` + ``model.json`` (see :mod:`manualnn.serialize`).
The keys both sides agree on, in the document's ``meta``:

    task        "classification" or "regression"
    classes     the labels, in the order of the outputs (classification)
    loss        "softmax_cross_entropy", "binary_cross_entropy" (multi-label), "mse", or
                "half_poisson" (MLPRegressor(loss='poisson'), outputs log-means)
    preprocess  "none" here; a CLI run's "scale"/"standardize" with arrays
                "preprocess.shift", "preprocess.scale": X -> (X - shift) / scale

Saving writes what the CLI can use: a binary classifier's single logistic output z is
written as the two softmax logits (0, z), which give the same probabilities
(softmax(0, z) = (1 - sigmoid(z), sigmoid(z))), and ``meta["binary_logistic"]`` lets a
load turn them back.  Loading a CLI model sorts its classes (scikit-learn's ``classes_`` are
sorted; the output units are permuted alike) and folds its affine preprocessing into the
first layer, ``W_1 <- W_1 / scale`` (row-wise), ``b_1 <- b_1 - (shift / scale) W_1``, so the
estimator takes raw features as the CLI did.  A run folder of a table keeps its column
encoding (``column_encoder_``, model.json's ``columns``): the estimator then takes the
table's columns, encoded by predict as ``manualnn predict`` encodes them.  Estimator parameters and training records
ride along in ``meta["sklearn"]``; the estimator itself is never pickled into the folder.
"""

from __future__ import annotations

import math
import os

import numpy as np

from manualnn.checks import DataError
from manualnn.core.network import MLP
from manualnn.io.serialize import CONFIG_FILE, load_model, save_model

LOSS_FOR = {"softmax": "softmax_cross_entropy", "logistic": "binary_cross_entropy",
            "identity": "mse", "exp": "half_poisson"}
STATE_KEYS = ("n_iter_", "t_", "loss_", "loss_curve_", "best_loss_")


def save(est, folder) -> None:
    """Write the fitted estimator ``est`` into ``folder``."""
    W = [np.asarray(w) for w in est.coefs_]
    b = [np.asarray(v) for v in est.intercepts_]
    classifier = hasattr(est, "classes_")
    binary = classifier and est.out_activation_ == "logistic" and est.n_outputs_ == 1
    if binary:
        W[-1] = np.hstack([np.zeros_like(W[-1]), W[-1]])
        b[-1] = np.concatenate([np.zeros_like(b[-1]), b[-1]])
    net = MLP.from_weights(W, b, activation=est._activation_name())
    meta = {"task": "classification" if classifier else "regression",
            "loss": LOSS_FOR["softmax" if binary else est.out_activation_],
            "preprocess": "none", "binary_logistic": bool(binary),
            "multilabel": bool(classifier and est.out_activation_ == "logistic"
                               and est.n_outputs_ > 1),
            "sklearn": {"estimator": type(est).__name__, "params": _json_params(est),
                        "state": {k: _json(getattr(est, k, None)) for k in STATE_KEYS}}}
    if classifier:
        meta["classes"] = np.asarray(est.classes_).tolist()
    encoder = getattr(est, "column_encoder_", None)
    if encoder is not None:   # a table's model: its columns, as the CLI stores them
        meta["columns"], meta["label_columns"] = encoder.to_json(), est._label_columns
        if not classifier:   # the CLI names a regression's outputs by its targets
            meta["classes"] = list(est._label_columns)
    elif hasattr(est, "feature_names_in_"):
        meta["sklearn"]["feature_names_in_"] = [str(n) for n in est.feature_names_in_]
    save_model(folder, net, meta)


def load(cls, folder):
    """An estimator of class ``cls`` from ``folder`` (written by :func:`save` or the CLI)."""
    net, meta, arrays = load_model(folder)
    path = os.path.join(folder, CONFIG_FILE)
    _check_meta(meta, net.layers, path)
    task = meta.get("task", "classification" if "classes" in meta else "regression")
    want = "classification" if cls.__name__ == "MLPClassifier" else "regression"
    if task != want:
        raise ValueError(f"{folder}: holds a {task} model, {cls.__name__} needs {want}")
    hidden = {a.name for a in net.activations[:-1]} or {"relu"}
    if len(hidden) > 1 or net.activations[-1].name != "identity":
        raise ValueError(f"{folder}: {cls.__name__} needs one hidden activation and an "
                         f"identity output, the model has {[a.name for a in net.activations]}")
    saved = meta.get("sklearn", {})
    est = cls(**_params_from_json(cls, saved.get("params", {})))
    est.set_params(hidden_layer_sizes=tuple(net.layers[1:-1]), activation=hidden.pop())
    if "sklearn" not in meta:
        est.set_params(dropout=float(net.dropout))
    try:
        est._check_hyperparameters()
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: field meta.sklearn.params: {exc}"[:300]) from None
    W = [np.array(w) for w in net.W]
    b = [np.array(v) for v in net.b] if net.bias else [np.zeros(n, net.dtype)
                                                       for n in net.layers[1:]]
    _fold_preprocessing(W, b, meta, arrays, folder)
    parts = _fold_target(W, b, meta, folder, net.layers)
    out = _output_kind(meta, W, folder)
    if meta.get("binary_logistic"):
        W[-1], b[-1] = W[-1][:, 1:] - W[-1][:, :1], b[-1][1:] - b[-1][:1]
        out = "logistic"
    classes = None
    if "classes" in meta and task == "classification":   # a regression's: target names
        classes = np.arange(W[-1].shape[1]) if meta.get("multilabel") \
            else np.asarray(_labels(meta, folder))
    if out == "softmax":
        # scikit-learn keeps classes_ sorted (the CLI keeps the dataset's order): permute
        # the output units to match; the predicted labels stay the same.
        order = np.argsort(classes, kind="stable")
        classes, W[-1], b[-1] = classes[order], W[-1][:, order], b[-1][order]
    _restore(est, W, b, out, classes, meta, saved.get("state", {}))
    if parts.encoder is not None:
        _restore_columns(est, parts)
    return est


def _restore_columns(est, parts) -> None:
    """A table's model takes the table's columns: predict encodes them with the stored
    ColumnEncoder (``column_encoder_``), as ``manualnn predict`` does."""
    names = [s["name"] for s in parts.encoder.specs]
    est.column_encoder_, est._label_columns = parts.encoder, parts.label_columns
    est.feature_names_in_ = np.asarray(names, dtype=object)
    est.n_features_in_ = len(names)


def _check_meta(meta, layers, path) -> None:
    """Every field of ``meta`` that a load reads, of its type and in range, for a model
    of widths ``layers``: a DataError names the file and the field (the CLI's loader
    checks its own fields likewise)."""
    outputs = layers[-1]
    def fail(field, wanted):
        raise DataError(f"{path}: field meta.{field}: expected {wanted}, got "
                        f"{str(_get(meta, field))[:60]}")
    kinds = {"task": str, "loss": str, "preprocess": str, "binary_logistic": bool,
             "multilabel": bool, "classes": list, "sklearn": dict}
    for field, kind in kinds.items():
        if meta.get(field) is not None and not isinstance(meta[field], kind):
            fail(field, f"{'an object' if kind is dict else 'a ' + kind.__name__}")
    classes = meta.get("classes")
    if classes is not None and not all(isinstance(c, (str, int, float)) and not
                                       isinstance(c, bool) for c in classes):
        fail("classes", "a list of numbers or strings")
    if meta.get("binary_logistic") and (outputs != 2 or len(classes or []) != 2):
        fail("binary_logistic", f"false for a model of {outputs} outputs (true only for two "
                                "classes and two outputs)")
    saved = meta.get("sklearn") or {}
    for field in ("params", "state"):
        if not isinstance(saved.get(field, {}), dict):
            fail(f"sklearn.{field}", "an object")
    state = saved.get("state", {})
    for field in ("n_iter_", "t_"):
        value = state.get(field)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool)
                                      and 0 <= value < 1 << 63):
            fail(f"sklearn.state.{field}", "null or a non-negative integer")
    for field in ("loss_", "best_loss_"):
        if state.get(field) is not None and not _finite(state[field]):
            fail(f"sklearn.state.{field}", "null or a finite number")
    curve = state.get("loss_curve_")
    if curve is not None and not (isinstance(curve, list) and all(
            v is None or _finite(v) for v in curve)):
        fail("sklearn.state.loss_curve_", "a list of finite numbers or nulls")
    names = saved.get("feature_names_in_")
    if names is not None and not (isinstance(names, list) and len(names) == layers[0]
                                  and all(isinstance(n, str) for n in names)):
        fail("sklearn.feature_names_in_", f"a list of {layers[0]} strings")


def _get(meta, field):
    for key in field.split("."):
        meta = meta.get(key) if isinstance(meta, dict) else None
    return meta


def _finite(value) -> bool:
    """A JSON number a float holds (an int of 400 digits is none)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value.bit_length() <= 1000 if isinstance(value, int) else math.isfinite(value)


def _labels(meta, folder) -> list:
    """The training labels, in the order of the outputs: what ``predict`` returns and
    ``score(X, y)`` compares with y.  A CLI run records them as ``labels`` (its
    ``classes`` are names, such as Fashion-MNIST's "Coat" for label 4); older runs give
    names only, taken as integers where each is one."""
    names, labels = meta["classes"], meta.get("labels")
    if labels is None:
        ints = all(isinstance(n, str) and n.lstrip("-").isdigit() and str(int(n)) == n
                   for n in names)
        return [int(n) for n in names] if ints and names else names
    if not (isinstance(labels, list) and len(labels) == len(names) and all(
            isinstance(v, (int, float, str)) for v in labels) and len(set(labels)) == len(labels)):
        raise ValueError(f"{folder}: model.json's labels {str(labels)[:60]} are not "
                         f"{len(names)} distinct numbers or strings")
    return labels


def _output_kind(meta, W, folder) -> str:
    loss = meta.get("loss", "mse" if meta.get("task") == "regression" else "")
    kinds = {v: k for k, v in LOSS_FOR.items()}
    multilabel = meta.get("multilabel", False)
    ok = (loss == "softmax_cross_entropy" or (loss == "binary_cross_entropy" and multilabel)
          or (loss in ("mse", "half_poisson") and meta.get("task") == "regression"))
    if not ok:
        raise ValueError(f"{folder}: a {meta.get('task')} model trained with loss {loss!r} "
                         "has no scikit-learn counterpart (expected softmax_cross_entropy, "
                         "binary_cross_entropy for multi-label, mse or half_poisson for "
                         "regression)")
    if "classes" in meta and not multilabel and len(meta["classes"]) != W[-1].shape[1]:
        raise ValueError(f"{folder}: {len(meta['classes'])} classes for "
                         f"{W[-1].shape[1]} outputs")
    return kinds[loss]


def _restore(est, W, b, out, classes, meta, state) -> None:
    """Set the fitted attributes as a fit would have left them."""
    est.coefs_, est.intercepts_ = W, b
    est.n_features_in_, est.n_layers_ = W[0].shape[0], len(W) + 1
    est.n_outputs_, est.out_activation_ = W[-1].shape[1], out
    if classes is not None:
        est.classes_ = classes
    names = meta.get("sklearn", {}).get("feature_names_in_")
    if names is not None:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    est._reset_progress()
    est.n_iter_, est.t_ = int(state.get("n_iter_") or 0), int(state.get("t_") or 0)
    est.loss_curve_ = [np.nan if v is None else v for v in state.get("loss_curve_") or []]
    best = state.get("best_loss_")
    est.best_loss_ = np.inf if best is None else best
    if state.get("loss_") is not None:
        est.loss_ = state["loss_"]


def _fold_preprocessing(W, b, meta, arrays, folder) -> None:
    kind = meta.get("preprocess", "none")
    if kind == "none":
        return
    shift, scale = arrays.get("preprocess.shift"), arrays.get("preprocess.scale")
    if shift is None or scale is None or shift.shape != (W[0].shape[0],) \
            or scale.shape != shift.shape or not (scale > 0).all():
        raise ValueError(f"{folder}: preprocessing {kind!r} needs arrays preprocess.shift "
                         f"and preprocess.scale of shape ({W[0].shape[0]},), scale > 0")
    W64 = W[0].astype(np.float64)
    W[0] = (W64 / scale[:, None]).astype(W[0].dtype)
    b[0] = (b[0] - (shift / scale) @ W64).astype(b[0].dtype)


def _fold_target(W, b, meta, folder, layers):
    """A CLI regression's standardized targets folded into the last layer (P = Z scale +
    mean: W_L scale, b_L scale + mean), so that predict gives the file's units; returns
    model.json's checked parts (see :func:`manualnn.io.rundir.model_parts`)."""
    from manualnn.io.rundir import model_parts
    parts = model_parts(meta, folder, layers)
    if parts.target is not None:
        mean, scale = parts.target
        W[-1] = (W[-1].astype(np.float64) * scale).astype(W[-1].dtype)
        b[-1] = (b[-1].astype(np.float64) * scale + mean).astype(b[-1].dtype)
    return parts


def _json(value):
    """A JSON-safe copy: numpy scalars to Python, tuples to lists, non-finite to None."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value if value is None or isinstance(value, str) else None


def _json_params(est) -> dict:
    params = {}
    for key, value in est.get_params(deep=False).items():
        if isinstance(value, float) and math.isinf(value):
            params[key] = "inf"
        elif key == "dtype" and value is not None:
            params[key] = np.dtype(value).name
        elif _json(value) is not None or value is None:
            params[key] = _json(value)
    return params


def _params_from_json(cls, params: dict) -> dict:
    known = cls().get_params(deep=False)
    out = {k: (np.inf if v == "inf" else v) for k, v in params.items() if k in known}
    if isinstance(out.get("hidden_layer_sizes"), list):
        out["hidden_layer_sizes"] = tuple(out["hidden_layer_sizes"])
    return out
