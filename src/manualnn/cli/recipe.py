"""Defaults that fit the data: the recipe of a table, chosen from its size.

The default recipe (``RunConfig``'s defaults) is Fashion-MNIST's: 60,000 rows, batches
of 128, 30 epochs, widths 512 and 256.  On a table of a few hundred rows that is a few
hundred steps of a network far wider than the data, and scikit-learn's MLP with its
defaults does better.  For a table (a .csv or .parquet dataset) the options not given on
the command line are chosen from m, its training rows:

    batch_size      m / 20, within [16, 256]: some 20 steps an epoch, or more
    epochs          enough for about STEPS steps in all, within [20, 1000]
    early_stopping  an eighth of the epochs, at least 10 (the best weights are kept)
    hidden          128, 64 up to 20,000 rows; 256, 128 beyond
    dropout         0 below 5,000 rows (the weight decay and early stopping suffice)
    loss            mse for a regression, softmax cross-entropy for classes

Any data: a regression takes ``mse`` (or ``huber``) and refuses a classification loss.
What was chosen is printed before training and recorded in config.json, so that
``--config`` runs it again exactly.
"""

from __future__ import annotations

import dataclasses
import math

ADAPTIVE = ("batch_size", "epochs", "early_stopping", "hidden", "dropout", "loss")
REGRESSION_LOSSES = ("mse", "huber")
STEPS = 4000


def table_recipe(rows: int, task: str) -> dict:
    """The options chosen for a table of ``rows`` training rows."""
    batch = min(256, max(16, rows // 20))
    epochs = min(1000, max(20, math.ceil(STEPS / math.ceil(rows / batch))))
    return {"batch_size": batch, "epochs": epochs, "early_stopping": max(10, epochs // 8),
            "hidden": [128, 64] if rows <= 20_000 else [256, 128],
            "dropout": 0.0 if rows < 5000 else 0.1,
            "loss": "mse" if task == "regression" else "softmax_cross_entropy"}


def adapt(config, ds, rows: int, free=()):
    """(config with the ``free`` options (those the user did not give) chosen for ``ds``,
    the line that says what was chosen, or None)."""
    free = set(free) & set(ADAPTIVE)
    if config.layers is not None:
        free.discard("hidden")
    if not config.val_fraction:
        free.discard("early_stopping")
    chosen = {}
    if ds.encoder is not None or (ds.task == "regression" and "loss" in free):
        wanted = table_recipe(rows, ds.task)
        if ds.encoder is None:   # arrays: only the loss follows the task
            wanted = {"loss": wanted["loss"]}
        chosen = {k: v for k, v in wanted.items() if k in free and getattr(config, k) != v}
    if ds.task == "regression" and chosen.get("loss", config.loss) not in REGRESSION_LOSSES:
        raise ValueError(f"loss: a regression takes {' or '.join(REGRESSION_LOSSES)}, got "
                         f"{config.loss}")
    if not chosen:
        return config, None
    config = dataclasses.replace(config, **chosen)
    shown = " ".join(f"--{k.replace('_', '-')} {_text(v)}" for k, v in chosen.items())
    return config, f"chosen for {rows} training rows ({ds.task}): {shown}"


def _text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
