"""What the loop prints: the epoch table's header and rows, and the progress bar (tqdm on
a terminal, a silent stand-in elsewhere)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["TITLES", "header", "keys", "progress", "row_text"]

TITLES = {"loss": "Loss", "err": "Err", "rmse": "RMSE", "mae": "MAE", "r2": "R^2"}
WIDTHS = {"rmse": 10, "mae": 10, "r2": 8}   # scores in the targets' units: any magnitude


def keys(val: bool, test: bool, scores: Iterable[str] | None = None) -> list[str]:
    """The table's number columns, in order: losses and error rates, or (a regression,
    ``scores`` its metrics' names) the losses and those scores of the splits shown."""
    names = ["err"] if scores is None else list(scores)
    out = ["train_loss"] + ["train_err"] * (scores is None)
    for prefix, shown in (("val", val), ("test", test)):
        out += [f"{prefix}_{k}" for k in ["loss", *names]] * shown
    return out


def _title(key: str) -> str:
    """A column's title, as wide as its cells: 'Val Loss', '  Val RMSE'."""
    split, metric = key.split("_")
    return f"{split.title()} {TITLES[metric]}".rjust(WIDTHS.get(metric, 0))


def header(columns: list[str]) -> str:
    """The header line of the number columns ``columns`` (see :func:`keys`)."""
    cols = ["Epoch"] + [_title(k) for k in columns]
    return "| " + " | ".join(cols + [f"{'LR':>8}", "Seconds"]) + " |"


def row_text(row: dict, columns: list[str]) -> str:
    """One epoch's line under :func:`header`."""
    cells = [f"{row['epoch']:>5}"] + [_cell(row[k], k) for k in columns]
    cells += [f"{row['lr']:.2e}", f"{row['seconds']:>7.1f}"]
    return "| " + " | ".join(cells) + " |"


def _cell(value, key):
    """``value`` in its column: losses and rates to 5 decimals, RMSE and MAE (the targets'
    units) to 5 significant digits."""
    width, spec = len(_title(key)), ".5g" if key.endswith(("rmse", "mae")) else ".5f"
    return f"{'-':>{width}}" if value is None else f"{value:>{width}{spec}}"


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
