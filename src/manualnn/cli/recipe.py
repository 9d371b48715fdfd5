"""Defaults that fit the data: the recipe of a table, chosen from its size.

The default recipe (``RunConfig``'s defaults) is Fashion-MNIST's: 60,000 rows, batches
of 128, 30 epochs, widths 512 and 256.  On a table of a few hundred rows that is a few
hundred steps of a network far wider than the data, and scikit-learn's MLP with its
defaults does better.  For a table (a .csv or .parquet dataset) the options not given on
the command line are chosen from the table's rows (m: those left for training):

    batch_size      m / 20, within [16, 256]: some 20 steps an epoch, or more
    epochs          enough for about STEPS (600) steps in all, within [20, 1000]
    early_stopping  a quarter of the epochs, at least 10 (the best weights are kept):
                    a small validation split is noisy, a short patience stops too soon
    val_fraction    0.2 below 5,000 rows (a tenth of 150 rows is 15: too few to stop on);
                    none below 10 rows (and then no early stopping)
    hidden          128, 64 up to 20,000 rows; 256, 128 beyond
    lr              3e-3: with about STEPS steps, 1e-3 stops short on the smallest tables
    loss            mse for a regression, softmax cross-entropy for classes

Any data: a regression takes ``mse`` (or ``huber``) and refuses a classification loss.
What was chosen is printed before training and recorded in config.json, so that
``--config`` runs it again exactly.
"""

from __future__ import annotations

import dataclasses
import math

ADAPTIVE = ("batch_size", "epochs", "early_stopping", "val_fraction", "hidden", "lr", "loss")
REGRESSION_LOSSES = ("mse", "huber")
STEPS = 600


def table_recipe(rows: int, task: str, val_fraction=None) -> dict:
    """The options chosen for a table of ``rows`` rows (``val_fraction``: given, or None
    to choose it too)."""
    val = (0.2 if rows < 5000 else 0.1) if val_fraction is None else val_fraction
    if rows < 10 and val_fraction is None:   # no row to spare for a validation split
        val = 0.0
    train = max(1, rows - round(val * rows))
    batch = min(256, max(16, train // 20))
    epochs = min(1000, max(20, math.ceil(STEPS / math.ceil(train / batch))))
    return {"batch_size": batch, "epochs": epochs,
            "early_stopping": max(10, epochs // 4) if val else 0,
            "val_fraction": val, "hidden": [128, 64] if train <= 20_000 else [256, 128],
            "lr": 3e-3,
            "loss": "mse" if task == "regression" else "softmax_cross_entropy"}


def adapt(config, ds, free=()):
    """(config with the ``free`` options (those the user did not give) chosen for ``ds``
    (a loaded, not yet split, Dataset), the line that says what was chosen, or None)."""
    free = set(free) & set(ADAPTIVE)
    if config.layers is not None:
        free.discard("hidden")
    if not config.val_fraction and "val_fraction" not in free:
        free.discard("early_stopping")
    chosen, rows = {}, len(ds.y_train)
    if ds.table is not None or (ds.task == "regression" and "loss" in free):
        wanted = table_recipe(rows, ds.task,
                              None if "val_fraction" in free else config.val_fraction)
        if ds.table is None:   # arrays: only the loss follows the task
            wanted = {"loss": wanted["loss"]}
        chosen = {k: v for k, v in wanted.items() if k in free and getattr(config, k) != v}
    if ds.task == "regression" and chosen.get("loss", config.loss) not in REGRESSION_LOSSES:
        raise ValueError(f"loss: a regression takes {' or '.join(REGRESSION_LOSSES)}, got "
                         f"{config.loss}")
    if not chosen:
        return config, None
    config = dataclasses.replace(config, **chosen)
    shown = " ".join(f"--{k.replace('_', '-')} {_text(v)}" for k, v in chosen.items())
    return config, f"chosen for {rows} rows ({ds.task}): {shown}"


def _text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
