"""``manualnn report RUN_DIR`` (and ``train --report``): RUN_DIR/report.html.

Gathers what a reader of a run wants to see: the run (data, architecture, recipe, time,
final metrics), the learning curves, per-class accuracy and the confusion matrix on the
test split, for images the first layer's weights and the most confident mistakes, and
the ``explain`` table of the model; io/report.py draws and renders them.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from manualnn import atomic
from manualnn.cli.config import read_run_config
from manualnn.cli.evaluation import outputs_on_test
from manualnn.cli.explain import explain
from manualnn.core.losses import softmax
from manualnn.io.rundir import read_history
from manualnn.train.loop import columns_of
from manualnn.train.table import TITLES

REPORT = "report.html"
MISTAKES = 16           # most confident mistakes shown
EXPLAIN_BATCH = 100     # the batch m of the explain table when the run has none
BLOCK = 1 << 18         # logits per block of the mistakes' softmax: 2 MiB in float64


def write_report(run_dir, data_dir=None, download=False, max_memory=None,
                 dataset=None) -> str:
    """Write RUN_DIR/report.html (atomically) and return its path; ``dataset`` (a test
    table, say) replaces the run's own test split."""
    from manualnn.io import report
    report.require()   # before any work: one line naming the extra
    config, history = read_run_config(run_dir).to_dict(), read_history(run_dir)
    path = atomic.check_target(os.path.join(run_dir, REPORT), "report")
    out = outputs_on_test(run_dir, dataset, data_dir, download, max_memory, need_test=False)
    atomic.write_text(path, report.render(_page(run_dir, config, history, out)))
    return path


def _page(run_dir, config, history, out) -> dict:
    """What the template names.  Without a test split the page leaves out the test
    numbers and pictures and says so."""
    from manualnn import __version__
    from manualnn.io import plots, report
    net, meta, ds = out["net"], out["meta"], out["ds"]
    classes = [str(c) for c in meta["classes"]]
    hidden = net.activations[0].name if net.L > 1 else "none"
    arch = "-".join(map(str, net.layers))
    page = {
        "title": f"{out['name']}: {arch} {hidden}",
        "subtitle": f"{run_dir}, {len(history)} epochs, {_seconds(history):.1f} s of training",
        "cards": [{"value": f"{_params(net):,}", "label": "parameters"},
                  {"value": f"{_seconds(history):.1f} s", "label": "training time"}],
        "summary": _summary(config, net, meta, history, ds),
        "curves": None, "curves_note": "No epochs in the history.",
        "history_columns": [k.replace("_", " ") for k in columns_of(history[0])]
        if history else [],
        "history": [_history_row(row) for row in history],
        "per_class": [], "confusion": None, "confused_pairs": [], "mistakes": [],
        "regression": None,
        "tiles": None, "tiles_note": "", "image_shape": "",
        "explain": explain(net.layers, hidden if net.L > 1 else "relu", net.bias,
                           int(config.get("batch_size") or EXPLAIN_BATCH),
                           meta.get("loss", "softmax_cross_entropy")),
        "version": __version__, "run_dir": os.fspath(run_dir),
    }
    if history:
        page["curves"], page["curves_note"] = _figure(plots.curves_figure, history)
    shape = tuple(meta["image_shape"]) if meta.get("image_shape") else None
    if shape:
        page["image_shape"] = f"{shape[0]} x {shape[1]}"
        page["tiles"] = report.weight_tiles(net.W[0], shape)
        shown = min(report.TILES_UP_TO, net.layers[1])
        page["tiles_note"] = f"Units 1 to {shown} of {net.layers[1]}."
    if out["Z"] is not None and "scores" in out:
        page["cards"][:0] = [{"value": f"{v:.4g}", "label": f"test {TITLES[k]}"}
                             for k, v in out["scores"].items()]
        page["regression"] = _figure(plots.regression_figure, out["P"], ds.y_test,
                                     classes)[0] or ""   # "": the picture failed
    elif out["Z"] is not None:
        confusion = out["confusion"]
        page["cards"][:0] = [
            {"value": f"{np.mean(out['pred'] == ds.y_test):.2%}", "label": "test accuracy"},
            {"value": f"{out['value']:.4f}", "label": f"test {out['loss'].label}"}]
        page["per_class"] = _per_class(confusion, classes)
        if confusion.matrix is not None:
            page["confusion"] = _figure(plots.confusion_figure, confusion.matrix,
                                        classes)[0]
        else:   # thousands of classes: no picture anyone reads, and gigabytes to draw
            page["confused_pairs"] = [(classes[i], classes[j], n)
                                      for i, j, n in confusion.most_confused()]
        page["mistakes"] = _mistakes(out, classes, shape) if shape else []
    return page


def _figure(make, *args) -> tuple[str | None, str]:
    """(the data URI of the figure ``make(*args)``, or None; the line that says why not).
    Drawing is quiet (matplotlib's warnings about extreme values would reach the terminal
    as lines of noise), and a picture that fails leaves the page without it."""
    from manualnn.io import report
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return report.figure_uri(make(*args)), ""
        except (ValueError, OverflowError, RuntimeError) as exc:
            return None, f"The picture could not be drawn ({exc})."[:200]


def _summary(config, net, meta, history, ds) -> list:
    c = config.get
    recipe = (f"{c('optimizer')} lr {c('lr')}, weight decay {c('weight_decay')}, "
              f"{c('schedule')} schedule, {c('warmup_epochs')} warm-up epochs, "
              f"batch {c('batch_size')}, dropout {c('dropout')}, label smoothing "
              f"{c('label_smoothing')}, loss {c('loss')}")
    last = history[-1] if history else {}
    final = ", ".join(f"{k.replace('_', ' ')} {last[k]:.5f}" for k in columns_of(last)[2:-1]
                      if last.get(k) is not None) if last else ""
    acts = ", ".join(a.name for a in net.activations)
    test = "no test split" if ds.y_test is None else f"{len(ds.y_test)} test rows"
    data = (f"{meta.get('dataset', c('dataset'))}: {len(ds.y_train)} training rows (a "
            f"fraction {c('val_fraction')} held out for validation), {test}, "
            + (f"{ds.n_classes} targets" if ds.task == "regression" else
               f"{ds.n_classes} classes"))
    arch = (f"{'-'.join(map(str, net.layers))}, activations {acts}, "
            f"{'with' if net.bias else 'no'} bias, {net.dtype.name}")
    epochs = f"{len(history)} of {c('epochs')}"
    if c("early_stopping"):
        epochs += f", early stopping after {c('early_stopping')} epochs without progress"
    return [("dataset", data), ("architecture", arch), ("parameters", f"{_params(net):,}"),
            ("recipe", recipe), ("preprocessing", meta.get("preprocess", "none")),
            ("epochs", epochs), ("seed", str(c("seed"))),
            ("seconds", f"{_seconds(history):.1f} (training and per-epoch evaluation)"),
            ("final epoch", final or "none")]


def _params(net) -> int:
    return sum(p.size for p in net.params)


def _seconds(history) -> float:
    return float(sum(row.get("seconds") or 0 for row in history))


def _history_row(row) -> list:
    def f(v, spec):
        return "" if v is None else format(v, spec)
    return [row["epoch"], f(row["lr"], ".2e")] + [
        f(row[k], ".5f") for k in columns_of(row)[2:-1]] + [f(row["seconds"], ".1f")]


def _per_class(confusion, classes) -> list:
    return [{"name": name, "rows": int(rows), "accuracy": f"{acc:.2%}",
             "bar": f"{10 * acc:.2f}" if rows else "0"}
            for name, rows, acc in zip(classes, confusion.rows, confusion.accuracy())]


def _mistakes(out, classes, shape) -> list:
    """The MISTAKES wrong test rows of highest top probability, most confident first.
    The softmax runs over blocks of rows of at most BLOCK logits, so its memory does not
    grow with the test split times the classes."""
    from manualnn.io import report
    Z, y = out["Z"], out["ds"].y_test
    wrong = np.flatnonzero(out["pred"] != y)
    step = max(1, BLOCK // Z.shape[1])
    top = np.concatenate([softmax(Z[wrong[i:i + step]].astype(np.float64)).max(axis=1)
                          for i in range(0, len(wrong), step)] or [np.zeros(0)])
    chosen = wrong[np.argsort(-top, kind="stable")[:MISTAKES]]
    result = []
    for i in chosen:
        P = softmax(Z[i:i + 1].astype(np.float64))[0]
        best = np.argsort(-P, kind="stable")[:3]
        result.append({"index": int(i), "true": classes[y[i]],
                       "image": report.picture(out["ds"].X_test[i], shape),
                       "top": [(classes[j], f"{P[j]:.1%}") for j in best]})
    return result
