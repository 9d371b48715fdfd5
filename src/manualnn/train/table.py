"""What the loop prints: the epoch table's header and rows, and the progress bar (tqdm on
a terminal, a silent stand-in elsewhere)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["header", "progress", "row_text"]


def header(val: bool, test: bool) -> str:
    cols = ["Epoch", "Train Loss", "Train Err"] + ["Val Loss", "Val Err"] * val \
        + ["Test Loss", "Test Err"] * test + [f"{'LR':>8}", "Seconds"]
    return "| " + " | ".join(cols) + " |"


def row_text(row: dict, val: bool, test: bool) -> str:
    keys = ["train_loss", "train_err"] + ["val_loss", "val_err"] * val \
        + ["test_loss", "test_err"] * test
    cells = [f"{row['epoch']:>5}"] + [_cell(row[k], k) for k in keys]
    cells += [f"{row['lr']:.2e}", f"{row['seconds']:>7.1f}"]
    return "| " + " | ".join(cells) + " |"


def _cell(value, key):
    width = len(key)
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.5f}"


def progress(total: int, desc: str, enabled: bool) -> Any:
    """A tqdm bar on a terminal; a silent stand-in when output is not a terminal."""
    if enabled and sys.stderr.isatty():
        try:
            from tqdm import tqdm
            return tqdm(total=total, desc=desc, leave=False, unit="batch")
        except ImportError:
            pass
    return _NoBar()


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass
