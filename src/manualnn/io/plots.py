"""Pictures of a run: learning curves and a confusion matrix (matplotlib, optional).

Each ``plot_*`` function writes a PNG atomically and returns its path, or returns None
when matplotlib is not installed (``pip install manualnn[plot]``); each ``*_figure``
function returns the matplotlib figure itself (or None), which ``png_bytes`` renders
for pages that carry their pictures inline (io/report.py).
"""

from __future__ import annotations

import re

from manualnn import atomic

LABEL_UP_TO = 24        # characters of a class name drawn on an axis
# control characters (C0, DEL, C1) and lone surrogates: no font draws them, no page shows them
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def shown(text: str, limit: int | None = None, lines: bool = False) -> str:
    """``text`` as a person is shown it: each control character (but tab and line breaks
    when ``lines``) as U+FFFD, and at most ``limit`` characters, the last one an
    ellipsis where it was cut."""
    text = (_CONTROL_BUT_LINES if lines else _CONTROL).sub("\ufffd", str(text))
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "\u2026"


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")   # no display: render to files only
    import matplotlib.pyplot as plt
    return plt


def plot_curves(history: list, path) -> str | None:
    """Loss and error against epoch, for train, validation and test (when present)."""
    return _save(curves_figure(history), path)


def curves_figure(history: list):
    """The figure of ``plot_curves``, or None (no matplotlib, or no epochs)."""
    plt = _pyplot()
    if plt is None or not history:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [row["epoch"] for row in history]
    second = "r2" if "val_r2" in history[0] else "err"   # a regression's rows: R^2
    for ax, metric in zip(axes, ("loss", second)):
        for split in ("train", "val", "test"):
            values = [row.get(f"{split}_{metric}") for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, marker="o", markersize=3, label=split)
        ax.xaxis.get_major_locator().set_params(integer=True)   # epochs are whole
        ax.set_xlabel("epoch")
        ax.set_ylabel({"err": "error rate", "r2": "R^2"}.get(metric, "loss"))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    # fixed margins: tight_layout measures every tick label, a third of a small run's time
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.96, wspace=0.25)
    return fig


def plot_regression(P, Y, names, path) -> str | None:
    """Predicted against actual values and the residuals (``regression_figure``), as a
    PNG at ``path``."""
    return _save(regression_figure(P, Y, names), path)


def regression_figure(P, Y, names):
    """Predicted against actual, and the residuals (actual - predicted) against the
    prediction, one row of two panels per target (at most 4); None without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return None
    t = min(P.shape[1], 4)
    fig, axes = plt.subplots(t, 2, figsize=(10, 4 * t), squeeze=False)
    for j in range(t):
        p, y = P[:, j], Y[:, j]
        lo, hi = float(min(p.min(), y.min())), float(max(p.max(), y.max()))
        left, right = axes[j]
        left.scatter(y, p, s=10, alpha=0.6)
        left.plot([lo, hi], [lo, hi], color="grey", linewidth=1)   # the perfect model
        left.set_xlabel(f"actual {names[j]}"[:60])
        left.set_ylabel("predicted")
        right.scatter(p, y - p, s=10, alpha=0.6)
        right.axhline(0, color="grey", linewidth=1)
        right.set_xlabel(f"predicted {names[j]}"[:60])
        right.set_ylabel("residual (actual - predicted)")
        for ax in (left, right):
            ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


CELL_TEXT_UP_TO = 30    # classes; beyond, a heat map without a number in each cell
TICKS_UP_TO = 60        # classes; beyond, no class names on the axes
MAX_INCHES = 16         # the picture's side, whatever the number of classes


def plot_confusion(matrix, classes, path) -> str | None:
    """The confusion matrix (rows: true class, columns: predicted), counts in the cells
    for up to CELL_TEXT_UP_TO classes, names cut to LABEL_UP_TO characters.  The picture's size is bounded, so its cost grows
    with the k^2 counts, not with the k^2 cells' text.  Class names are shown as written
    (no TeX: "$x$" stays "$x$")."""
    return _save(confusion_figure(matrix, classes), path)


def confusion_figure(matrix, classes):
    """The figure of ``plot_confusion``, or None without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return None
    k = len(classes)
    side = min(MAX_INCHES, 0.8 + 0.6 * k)
    fig, ax = plt.subplots(figsize=(side + 0.2, side))
    ax.imshow(matrix, cmap="Blues", interpolation="nearest")
    names = [shown(c, LABEL_UP_TO) for c in classes] if k <= TICKS_UP_TO else []
    ax.set_xticks(range(k) if names else [], names, rotation=45, ha="right", parse_math=False)
    ax.set_yticks(range(k) if names else [], names, parse_math=False)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= CELL_TEXT_UP_TO:
        top = matrix.max() or 1
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > top / 2 else "black")
    fig.tight_layout()
    return fig


def png_bytes(fig, dpi: int = 100) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps no reference)."""
    import io

    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _save(fig, path):
    if fig is None:
        return None
    atomic.write_bytes(path, png_bytes(fig))
    return str(path)
