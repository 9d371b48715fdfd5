"""Pictures of a run: learning curves and a confusion matrix (matplotlib, optional).

Each function writes a PNG atomically and returns its path, or returns None when
matplotlib is not installed (``pip install manualnn[plot]``).
"""

from __future__ import annotations

from manualnn import atomic


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
    plt = _pyplot()
    if plt is None or not history:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [row["epoch"] for row in history]
    for ax, metric in zip(axes, ("loss", "err")):
        for split in ("train", "val", "test"):
            values = [row.get(f"{split}_{metric}") for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, marker="o", markersize=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel("error rate" if metric == "err" else "loss")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _save(plt, fig, path)


def plot_confusion(matrix, classes, path) -> str | None:
    """The confusion matrix (rows: true class, columns: predicted), counts in the cells."""
    plt = _pyplot()
    if plt is None:
        return None
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * k, 0.8 + 0.6 * k))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(k), classes, rotation=45, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = matrix.max() or 1
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > top / 2 else "black")
    fig.tight_layout()
    return _save(plt, fig, path)


def _save(plt, fig, path):
    with atomic.atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)
    return str(path)
