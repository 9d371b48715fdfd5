"""``manualnn evaluate``: a trained run on a test split, in numbers and (optionally) a picture."""

from __future__ import annotations

import os

import numpy as np

from manualnn.checks import DataError
from manualnn.cli import memory
from manualnn.cli.confusion import Confusion
from manualnn.cli.experiment import device_backend, targets_for
from manualnn.core.losses import get_loss
from manualnn.data.datasets import load_dataset
from manualnn.io.rundir import load_run, read_config


def _picture(matrix, classes, path) -> str:
    """The line that says where the confusion picture went, or why there is none: a
    picture that fails does not take the text report with it."""
    from manualnn.io.plots import plot_confusion
    if matrix is None:
        return (f"(no confusion matrix picture: {len(classes)} classes are more than "
                "one picture shows; see the most confused pairs above)")
    try:
        written = plot_confusion(matrix, classes, path)
    except (ValueError, RuntimeError) as exc:
        return f"(no confusion matrix picture: {exc})"[:200]
    return f"confusion matrix picture: {written}" if written else \
        "(no plot: pip install manualnn[plot])"


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
    meta, Z (the logits, (n_test, k)), pred, loss, value (the model's own loss) and
    confusion (a :class:`Confusion`).  A dataset without a test split is refused, or
    with ``need_test=False`` gives Z None (and no pred, loss, value, confusion).

    The forward pass runs in chunks of rows that fit ``max_memory`` (see memory.py), on
    ``device`` ("cpu" or "cuda").
    """
    net, meta, pre = load_run(run_dir, backend=device_backend(device))
    # a model folder saved by manualnn.sklearn has no config.json: --dataset says what to use
    has_config = os.path.isfile(os.path.join(run_dir, "config.json"))
    config = read_config(run_dir) if dataset is None or has_config else {}
    name = dataset or config.get("dataset")
    ds = load_dataset(name, data_dir=data_dir or config.get("data_dir"), download=download)
    if ds.X_test is None and need_test:
        raise DataError(f"{name}: has no test split to evaluate on")
    if ds.n_features != net.layers[0]:
        raise ValueError(f"dataset: the model takes {net.layers[0]} features, "
                         f"{name} has {ds.n_features}")
    k = net.layers[-1]
    if ds.n_classes != k:
        raise ValueError(f"dataset: the model has {k} classes, {name} has {ds.n_classes}")
    classes = [str(c) for c in meta["classes"]]
    if classes != [str(c) for c in ds.classes]:   # outputs are matched to labels by position
        raise ValueError(f"dataset: the model's classes {str(classes)[:60]} are not "
                         f"{name}'s {str(list(ds.classes))[:60]}; scoring by position would "
                         "name them wrongly")
    if ds.X_test is None:
        return {"name": name, "ds": ds, "net": net, "meta": meta, "Z": None}
    rows, size = ds.X_test.shape[0], net.dtype.itemsize
    # the inputs, Z, the loss's copy and float64 terms, its targets, the confusion counts
    fixed = memory.arrays_bytes(ds.X_train, ds.y_train, ds.X_test, ds.y_test) \
        + rows * (ds.n_features * size + k * (3 * size + 8)) \
        + Confusion.nbytes(rows, k)
    chunk = memory.inference_chunk(net, max_memory, fixed_bytes=fixed, what="evaluation")
    with np.errstate(over="ignore", invalid="ignore"):   # refused below, with a message
        Z = net(pre.transform(ds.X_test, net.dtype), chunk=chunk)
    net.release()   # the chunks' workspaces filled the limit: what follows needs it
    check_outputs(Z, run_dir)
    pred = Z.argmax(axis=1)
    # the model's own loss (label smoothing aside: a regularizer of the training, not a
    # measure of the model), on the targets it was trained against
    loss = get_loss(meta.get("loss", "softmax_cross_entropy"))
    value = loss.value_and_grad_(Z.copy(), targets_for(loss, ds.y_test, k, net.dtype))[0]
    return {"name": name, "ds": ds, "net": net, "meta": meta, "Z": Z, "pred": pred,
            "loss": loss, "value": value, "confusion": Confusion(ds.y_test, pred, k)}


def evaluate_run(run_dir, dataset=None, data_dir=None, download=False, plot=False,
                 max_memory=None, device="cpu") -> str:
    """A text report: loss, accuracy, per-class accuracy and the confusion matrix (the
    most confused pairs for many classes, see confusion.py)."""
    out = outputs_on_test(run_dir, dataset, data_dir, download, max_memory, device=device)
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
    return "\n".join(lines)
