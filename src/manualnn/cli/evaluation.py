"""``manualnn evaluate``: a trained run on a test split, in numbers and (optionally) a picture."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from manualnn.checks import DataError
from manualnn.cli import memory
from manualnn.cli.confusion import Confusion
from manualnn.cli.experiment import device_backend, encode_table, targets_for
from manualnn.core.losses import get_loss
from manualnn.data.columns import unseen_lines
from manualnn.data.datasets import load_dataset
from manualnn.data.tables import is_table
from manualnn.data.userdata import load_table
from manualnn.io.rundir import load_run, model_parts, read_config
from manualnn.train.metrics import RegressionMetrics, regression_scores
from manualnn.train.table import TITLES


def _picture(matrix, classes, path) -> str:
    """The line that says where the confusion picture went, or why there is none."""
    from manualnn.io.plots import plot_confusion
    if matrix is None:
        return (f"(no confusion matrix picture: {len(classes)} classes are more than "
                "one picture shows; see the most confused pairs above)")
    return _drawn(lambda to: plot_confusion(matrix, classes, to), "confusion matrix", path)


def _drawn(draw, what: str, path) -> str:
    """The line that says where the picture ``draw(path)`` went (the confusion matrix, a
    regression's predictions), or why there is none: a picture that fails does not take
    the text report with it."""
    try:
        written = draw(path)
    except (ValueError, RuntimeError) as exc:
        return f"(no {what} picture: {exc})"[:200]
    return f"{what} picture: {written}" if written else "(no plot: pip install manualnn[plot])"


def check_outputs(Z, run_dir) -> None:
    """Refuse NaN or infinite outputs Z (m, k): finite weights can still overflow (3e38
    times anything), and a loss or a label of NaN would be printed as if it were one."""
    bad = int(np.count_nonzero(~np.isfinite(Z).all(axis=1)))
    if bad:
        raise DataError(f"{run_dir}: the model's outputs are NaN or infinite for {bad} of "
                        f"{Z.shape[0]} rows (its weights overflow {Z.dtype}); it cannot "
                        "score them")


def outputs_on_test(run_dir, dataset=None, data_dir=None, download=False, max_memory=None,
                    need_test=True, device="cpu"):
    """The run's model on its test split (or ``dataset``'s): a dict with name, ds, net,
    meta, Z (the outputs, (n_test, k)), pred, loss, value (the model's own loss) and
    confusion (a :class:`Confusion`); a regression's has P (the predictions, in the
    targets' units, (n_test, t)) and scores (RMSE, MAE, R^2) in place of pred and
    confusion.  A table given as ``dataset`` is all test split (its unseen categories
    counted in ``unseen``).  A dataset without a test split is refused, or with
    ``need_test=False`` gives Z None (and no pred, loss, value, confusion).

    The forward pass runs in chunks of rows that fit ``max_memory`` (see memory.py), on
    ``device`` ("cpu" or "cuda").
    """
    net, meta, pre = load_run(run_dir, backend=device_backend(device))
    parts = model_parts(meta, run_dir, net.layers)
    # a model folder saved by manualnn.sklearn has no config.json: --dataset says what to use
    has_config = os.path.isfile(os.path.join(run_dir, "config.json"))
    config = read_config(run_dir) if dataset is None or has_config else {}
    name = dataset or config.get("dataset")
    ds, unseen = _test_data(name, dataset is not None, parts, meta, config, data_dir,
                            download, max_memory)
    if ds.X_test is None and need_test:
        raise DataError(f"{name}: has no test split to evaluate on"
                        + ("; give --dataset TEST.csv" if parts.encoder else ""))
    k = net.layers[-1]
    _check_fits(ds, net, meta, name)
    out = {"name": name, "ds": ds, "net": net, "meta": meta, "Z": None, "unseen": unseen}
    if ds.X_test is None:
        return out
    rows, size = ds.X_test.shape[0], net.dtype.itemsize
    # the inputs, Z, the loss's copy and float64 terms, its targets, the confusion counts
    fixed = memory.arrays_bytes(ds.X_train, ds.y_train, ds.X_test, ds.y_test) \
        + rows * (ds.X_test.shape[1] * size + k * (3 * size + 8)) \
        + Confusion.nbytes(rows, k)
    chunk = memory.inference_chunk(net, max_memory, fixed_bytes=fixed, what="evaluation")
    with np.errstate(over="ignore", invalid="ignore"):   # refused below, with a message
        Z = net(pre.transform(ds.X_test, net.dtype), chunk=chunk)
    net.release()   # the chunks' workspaces filled the limit: what follows needs it
    check_outputs(Z, run_dir)
    # the model's own loss (label smoothing aside: a regularizer of the training, not a
    # measure of the model), on the targets it was trained against
    loss = get_loss(meta.get("loss", "softmax_cross_entropy"))
    value = loss.value_and_grad_(Z.copy(), targets_for(loss, ds.y_test, k, net.dtype,
                                                       parts.target))[0]
    out.update(Z=Z, loss=loss, value=value)
    if parts.target is not None:
        P = RegressionMetrics(*parts.target).values(Z)
        return {**out, "P": P, "scores": regression_scores(P, ds.y_test)}
    pred = Z.argmax(axis=1)
    return {**out, "pred": pred, "confusion": Confusion(ds.y_test, pred, k)}


def _test_data(name, given, parts, meta, config, data_dir, download, max_memory):
    """(the Dataset to score, unseen categories' counts): a table given on the command
    line is read against the model's columns and is all test split; the run's own table
    has no test split."""
    if not is_table(str(name)) or parts.encoder is None:
        if parts.encoder is not None:
            raise ValueError(f"dataset: the model takes a table's columns "
                             f"{[s['name'] for s in parts.encoder.specs][:8]}; give a .csv "
                             f"or .parquet file")
        return load_dataset(name, data_dir=data_dir or config.get("data_dir"),
                            download=download, task=parts.task), {}
    limit = memory.resolve_limit(max_memory)
    ds = load_table(name, parts.label_columns, (), parts.task, limit,
                    types=parts.encoder.types())
    if parts.task == "classification":   # the file's classes are some of the model's
        model = [str(c) for c in meta["classes"]]
        lookup = np.array([model.index(c) if c in model else -1 for c in ds.classes])
        if (lookup < 0).any():
            raise DataError(f"{name}: label {ds.classes[int(np.argmin(lookup))]!r} is not one "
                            f"of the model's classes {model[:20]}"[:300])
        ds = dataclasses.replace(ds, y_train=lookup[ds.y_train], classes=model,
                                 labels=meta.get("labels"))
    if not given:   # the training file itself: no test split in it
        return dataclasses.replace(ds, table=None, X_train=np.zeros((0, parts.encoder.width),
                                                                    np.float32)), {}
    return encode_table(ds, parts.encoder, limit, as_test=True)


def _check_fits(ds, net, meta, name) -> None:
    """The dataset's features, classes or targets are the model's (by name: outputs are
    matched to labels by position)."""
    X = ds.X_train if ds.X_test is None else ds.X_test
    if X.shape[1] != net.layers[0]:
        raise ValueError(f"dataset: the model takes {net.layers[0]} features, "
                         f"{name} has {X.shape[1]}")
    k = net.layers[-1]
    if ds.n_classes != k:
        what = "targets" if ds.task == "regression" else "classes"
        raise ValueError(f"dataset: the model has {k} {what}, {name} has {ds.n_classes}")
    classes = [str(c) for c in meta["classes"]]
    if classes != [str(c) for c in ds.classes]:
        raise ValueError(f"dataset: the model's classes {str(classes)[:60]} are not "
                         f"{name}'s {str(list(ds.classes))[:60]}; scoring by position would "
                         "name them wrongly")


def evaluate_run(run_dir, dataset=None, data_dir=None, download=False, plot=False,
                 max_memory=None, device="cpu") -> str:
    """A text report: loss, accuracy, per-class accuracy and the confusion matrix (the
    most confused pairs for many classes, see confusion.py; a regression: RMSE, MAE and
    R^2, and each target's)."""
    out = outputs_on_test(run_dir, dataset, data_dir, download, max_memory, device=device)
    if "scores" in out:
        lines = regression_lines(out)
        if plot:
            from manualnn.io.plots import plot_regression
            names = [str(c) for c in out["meta"]["classes"]]
            lines.append(_drawn(lambda to: plot_regression(out["P"], out["ds"].y_test, names,
                                                           to),
                                "predictions", os.path.join(run_dir, "predictions.png")))
        return "\n".join(lines + unseen_lines(out["unseen"]))
    name, ds, meta, pred, loss, value, confusion = (out[key] for key in (
        "name", "ds", "meta", "pred", "loss", "value", "confusion"))
    classes = [str(c) for c in meta["classes"]]
    lines = [f"{name} test split: {len(ds.y_test)} rows",
             f"{loss.label} {value:.4f}   accuracy {np.mean(pred == ds.y_test):.2%}", "",
             f"{'class':<16} {'accuracy':>9} {'rows':>6}"]
    lines += [f"{c[:16]:<16} {acc:>9.2%} {rows:>6}" for c, acc, rows in
              zip(classes, confusion.accuracy(), confusion.rows)]
    lines += ["", *confusion.text(classes)]
    if plot:
        lines.append(_picture(confusion.matrix, classes,
                              os.path.join(run_dir, "confusion.png")))
    return "\n".join(lines + unseen_lines(out["unseen"]))


def regression_lines(out) -> list:
    """The loss and the scores, then (several targets) each target's."""
    ds, scores, P = out["ds"], out["scores"], out["P"]
    lines = [f"{out['name']} test split: {len(ds.y_test)} rows",
             f"{out['loss'].label} {out['value']:.4f} (standardized targets)   "
             + "   ".join(f"{TITLES[k]} {v:.5g}" for k, v in scores.items())]
    if P.shape[1] > 1:
        lines += ["", f"{'target':<16} {'RMSE':>10} {'MAE':>10} {'R^2':>8}"]
        for j, name in enumerate(out["meta"]["classes"]):
            one = regression_scores(P[:, j], ds.y_test[:, j])
            lines.append(f"{str(name)[:16]:<16} {one['rmse']:>10.5g} {one['mae']:>10.5g} "
                         f"{one['r2']:>8.4f}")
    return lines
