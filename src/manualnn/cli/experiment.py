"""A training run from a configuration: data, preprocessing, model, optimizer, run folder.

The configuration is a :class:`~manualnn.cli.config.RunConfig` (its defaults are the
default recipe of ``manualnn train``); the whole of it is saved as the run's config.json,
so ``resume`` rebuilds the same run from the folder alone.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from manualnn import checks
from manualnn.cli import memory, recipe
from manualnn.cli.config import DEFAULTS, RunConfig
from manualnn.core.losses import get_loss
from manualnn.core.network import MLP
from manualnn.data.columns import ColumnEncoder
from manualnn.data.datasets import load_dataset
from manualnn.data.files import stratified_split
from manualnn.data.preprocess import Preprocessor
from manualnn.data.targets import fit_scale
from manualnn.io.rundir import CURVES, RunDir
from manualnn.train.distributed import LOCAL, make_step
from manualnn.train.loop import TrainState, fit
from manualnn.train.metrics import RegressionMetrics
from manualnn.train.optim import OPTIMIZERS, get_optimizer
from manualnn.train.schedules import get_schedule


def prepare(config: RunConfig):
    """Load and split the data, fit preprocessing on the training rows only (a table's
    columns first: see data/columns.py).

    Returns (dataset, splits, preprocessor, seeds) with splits a dict of name -> (X, y);
    a table's dataset comes back encoded, with its ``encoder``.
    """
    return split(config, load(config))


def load(config: RunConfig):
    """The dataset ``config`` names (a table's read within the memory limit)."""
    return load_dataset(config.dataset, data_dir=config.data_dir, download=config.download,
                        label_column=config.label_column, drop_columns=config.drop_columns,
                        task=config.task, memory_limit=memory.resolve_limit(config.max_memory))


def split(config: RunConfig, ds):
    """``prepare``'s work after the loading: the seeded split, a table's columns encoded
    and the preprocessing, both fitted on the training rows."""
    seeds = np.random.SeedSequence(config.seed).spawn(4)
    train, val = stratified_split(ds.stratify(), config.val_fraction,
                                  np.random.default_rng(seeds[0]))
    if ds.table is not None:
        ds = encode_table(ds, ColumnEncoder.fit(ds.table.take(train)),
                          memory.resolve_limit(config.max_memory))
    whole = val.size == 0   # no copy of the training arrays
    X, y = (ds.X_train, ds.y_train) if whole else (ds.X_train[train], ds.y_train[train])
    pre = Preprocessor(config.preprocess).fit(X)
    dtype = checks.float_dtype(config.dtype)
    splits = {"train": (pre.transform(X, dtype), y)}
    if not whole:
        splits["val"] = (pre.transform(ds.X_train[val], dtype), ds.y_train[val])
    if ds.X_test is not None:
        splits["test"] = (pre.transform(ds.X_test, dtype), ds.y_test)
    return ds, splits, pre, seeds


def encode_table(ds, encoder, limit=None, as_test: bool = False):
    """``ds`` with its table encoded into X_train (or, ``as_test``, into X_test with
    y_test, the table being a test file), after checking that the matrix fits ``limit``;
    returns the new dataset and, with ``as_test``, the unseen categories' counts."""
    X, unseen = encode_within(ds.table, encoder, limit)
    if as_test:
        return dataclasses.replace(ds, X_test=X, y_test=ds.y_train, table=None,
                                   encoder=encoder), unseen
    return dataclasses.replace(ds, X_train=X, table=None, encoder=encoder)


def encode_within(table, encoder, limit):
    """``encoder.transform(table)``, refused first when the matrix (and the two copies a
    run makes of it: preprocessed, split) would not fit ``limit`` bytes."""
    need = table.rows * encoder.width * 4 * 3
    if limit is not None and need > limit:
        raise ValueError(f"{table.path}: its {table.rows} rows encode to {encoder.width} "
                         f"columns ({memory.describe(need)}), more than the limit of "
                         f"{memory.describe(limit)}; drop columns of many categories with "
                         f"--drop-columns, or set --max-memory")
    return encoder.transform(table)


def device_backend(device: str) -> str:
    """The backend for ``--device``: "auto" for "cpu"; "cupy" for "cuda", or a ValueError
    naming what is missing (CuPy, or a GPU)."""
    checks.choice(device, "device", ("cpu", "cuda"))
    if device == "cpu":
        return "auto"
    from manualnn.backend import cuda_missing
    missing = cuda_missing()
    if missing:
        raise ValueError(f"--device cuda: {missing}")
    return "cupy"


def build(config: RunConfig, n_features: int, n_classes: int, seeds):
    """The network, loss, optimizer and schedule that ``config`` describes."""
    layers = layers_for(config, n_features, n_classes)
    net = MLP(layers, config.activation, bias=config.bias, init=config.init,
              dtype=config.dtype, rng=np.random.default_rng(seeds[1]),
              dropout=config.dropout, backend=device_backend(config.device))
    net.rng = np.random.default_rng(seeds[2])
    options = {"label_smoothing": config.label_smoothing} \
        if config.loss == "softmax_cross_entropy" else {}
    loss = get_loss(config.loss, **options)
    decay_mask = [True, False] * net.L if net.bias else None
    optimizer = get_optimizer(config.optimizer, net.params, lr=config.lr,
                              weight_decay=config.weight_decay, decay_mask=decay_mask,
                              backend=net.ops, **config.optimizer_options())
    extra = config.schedule_options()
    if config.schedule == "cosine":
        extra["total_epochs"] = config.epochs
    schedule = get_schedule(config.schedule, config.lr, warmup_epochs=config.warmup_epochs,
                            **extra)
    return net, loss, optimizer, schedule


def check_schedule(config: RunConfig, schedule, rows: int) -> None:
    """Refuse, before training, a schedule whose learning rate would leave the finite
    positive floats (become 0, or overflow) at some step of the run's epochs over
    ``rows`` training rows, naming the options that set it."""
    names = ["lr", "schedule", *config.schedule_options(), "warmup_epochs", "epochs"]
    options = ", ".join(f"--{n.replace('_', '-')} {getattr(config, n)}" for n in names)
    schedule.check_range(config.epochs, -(-rows // config.batch_size), options)


def layers_for(config: RunConfig, n_features: int, n_classes: int) -> list:
    """All widths: ``layers``, or the data's inputs, ``hidden`` and the data's classes."""
    layers = config.layers or [n_features, *config.hidden, n_classes]
    if layers[0] != n_features or layers[-1] != n_classes:
        raise ValueError(f"layers: expected {n_features} inputs and {n_classes} outputs for "
                         f"this dataset, got {layers[0]} and {layers[-1]}")
    return list(layers)


def plan_memory(config: RunConfig, ds, splits, n_classes: int) -> int:
    """Refuse a run that would need more than ``max_memory`` (memory.plan_training);
    returns the rows per evaluation chunk that fit."""
    X = splits["train"][0]
    layers = layers_for(config, X.shape[1], n_classes)
    itemsize = checks.float_dtype(config.dtype).itemsize
    arrays = [ds.X_train, ds.y_train, ds.X_test, ds.y_test,
              *(a for split in splits.values() for a in split)]
    data = memory.arrays_bytes(*arrays)
    if config.loss != "softmax_cross_entropy":   # one-hot targets, made once per split
        data += sum(len(split[1]) for split in splits.values()) * n_classes * itemsize
    cls = OPTIMIZERS[checks.choice(config.optimizer, "optimizer", OPTIMIZERS)]
    states = cls.state_arrays_per_param(momentum=config.momentum)
    _, chunk = memory.plan_training(
        layers, memory.resolve_limit(config.max_memory), itemsize=itemsize,
        batch=config.batch_size, rows=X.shape[0],
        eval_sizes=[len(split[1]) for name, split in splits.items() if name != "train"],
        activations=[config.activation] * (len(layers) - 2) + ["identity"],
        bias=config.bias, dropout=config.dropout > 0, optimizer_states=states,
        early_stopping=config.early_stopping > 0, data_bytes=data)
    return chunk


def input_range(X) -> list:
    """[min, max] of the raw training inputs: predict scales pictures to it (pixels 0..16
    for digits, 0..255 for MNIST)."""
    return [float(X.min()), float(X.max())] if X.size else [0.0, 0.0]


def background(X, image_shape) -> float | None:
    """The training images' background: the median of their border pixels (0 for MNIST,
    Fashion-MNIST, digits); None for data that are not images."""
    if not image_shape or not X.size:
        return None
    rows, cols = image_shape
    images = X.reshape(-1, rows, cols)
    border = np.concatenate([images[:, 0].ravel(), images[:, -1].ravel(),
                             images[:, :, 0].ravel(), images[:, :, -1].ravel()])
    return float(np.median(border))


def targets_for(loss, y, k: int, dtype, target=None):
    """Labels as the loss needs them: integers, or one-hot rows (m, k) for mse / binary
    CE (set one by one: ``np.eye(k)[y]`` would first build a k x k array); a
    regression's targets (``target`` = (mean, scale)) standardized, ``dtype`` (m, k)."""
    if target is not None:
        return ((np.asarray(y, np.float64).reshape(len(y), -1) - target[0])
                / target[1]).astype(dtype)
    if loss.name == "softmax_cross_entropy":
        return y
    T = np.zeros((len(y), k), dtype=dtype)
    T[np.arange(len(y)), y] = 1
    return T


def run(config, resume_dir=None, log=print, progress: bool = True, comm=LOCAL, adapt=(),
        note=None):
    """Train as ``config`` (a RunConfig, or a dict of its options) says, or continue the
    run in ``resume_dir``; returns the run folder path, the network and the final test
    (loss, error) (a regression: (loss, its scores)) or None.  ``adapt``: the options the
    recipe may choose from the data (those the user did not give, see recipe.py), said
    through ``note`` (default ``log``; rank 0 only).  Over
    several MPI ranks (``comm``, see ``train.distributed``) every rank trains its shard of
    each batch; only rank 0 logs and writes the folder."""
    if not isinstance(config, RunConfig):
        config = RunConfig.from_dict(config)
    device_backend(config.device)   # before any folder or data: a missing GPU says so first
    if comm.size > 1 and config.device == "cuda":
        raise ValueError(f"--device cuda: not over {comm.size} MPI ranks (--distributed): the "
                         f"data-parallel step all-reduces host arrays; give --device cpu")
    lead = comm.rank == 0
    path = resume_dir or config.out
    fixed = fixed_options(config)
    folder = RunDir(path, resume=resume_dir is not None, config_keys=DEFAULTS, fixed=fixed) \
        if lead else _Follower(path, fixed)
    note = log if note is None else note
    if not lead:
        log, progress, note = (lambda *a, **k: None), False, (lambda *a, **k: None)
    try:
        ds = load(config)
        config, said = recipe.adapt(config, ds, adapt)
        if said:
            note(said)
        ds, splits, pre, seeds = split(config, ds)
        X = splits["train"][0]
        folder.fixed, folder.epochs = fixed_options(config), config.epochs
        chunk = plan_memory(config, ds, splits, len(ds.classes))
        net, loss, optimizer, schedule = build(config, X.shape[1], len(ds.classes), seeds)
        check_schedule(config, schedule, X.shape[0])
        state = TrainState(shuffle_rng=np.random.default_rng(seeds[3]))
        if resume_dir is not None:
            folder.load_checkpoint(net, optimizer, state)
            log(f"resuming {folder.path} after epoch {state.epoch}")
        else:
            folder.write_config(config.to_dict())
        step = make_step(net, loss, optimizer, comm, config.clip_norm)
        meta, target = model_meta(config, ds, splits, loss, pre)
        arrays = {f"preprocess.{k}": v for k, v in pre.to_arrays().items()}
        k = len(ds.classes)
        tr = lambda split: (split[0], targets_for(loss, split[1], k, net.dtype, target))
        metrics = None if target is None else RegressionMetrics(*target)

        def end_epoch(s):   # the replicas are compared before rank 0 saves one of them
            step.check()
            folder.save_epoch(net, optimizer, s, meta, arrays)
        fit(net, *tr(splits["train"]), loss, optimizer, epochs=config.epochs,
            batch_size=config.batch_size, state=state, shuffle=config.shuffle,
            schedule=schedule, step=step,
            validation=tr(splits["val"]) if "val" in splits else None,
            test=tr(splits["test"]) if "test" in splits else None,
            patience=config.early_stopping, log=log, progress=progress, eval_chunk=chunk,
            on_epoch_end=end_epoch, metrics=metrics)
        step.check()
        folder.save_model(net, state, meta, arrays)
        if folder.write_curves(state.history) is None and state.history:
            log(f"(no {folder.file(CURVES)}: drawing the learning curves needs "
                f"matplotlib, pip install 'manualnn[plot]')")
        return folder.path, net, _test_result(step, metrics, splits, tr, chunk)
    finally:
        folder.close()


def _test_result(step, metrics, splits, tr, chunk):
    """(loss, error) on the test split, (loss, scores) for a regression; None without."""
    if "test" not in splits:
        return None
    X, Y = tr(splits["test"])
    loss, error = step.evaluate(X, Y, chunk)
    return (loss, error) if metrics is None else (loss, metrics(step.net, X, Y, chunk))


def model_meta(config, ds, splits, loss, pre):
    """(model.json's meta: what every command needs besides the weights, a regression's
    target (mean (t,), scale (t,)) fitted on the training rows or None)."""
    meta = {"task": ds.task, "loss": loss.name, "classes": ds.classes,
            "labels": list(range(len(ds.classes))) if ds.labels is None else ds.labels,
            "input_range": input_range(ds.X_train),
            "background": background(ds.X_train, ds.image_shape),
            "dataset": config.dataset, "preprocess": pre.kind,
            "image_shape": list(ds.image_shape) if ds.image_shape else None}
    if ds.encoder is not None:
        meta["columns"], meta["label_columns"] = ds.encoder.to_json(), ds.label_columns
    if ds.task != "regression":
        return meta, None
    target = fit_scale(np.asarray(splits["train"][1], np.float64))
    meta["labels"] = None
    meta["target_mean"], meta["target_scale"] = (a.tolist() for a in target)
    return meta, target


class _Follower:
    """The run folder as a rank other than 0 sees it: it reads a checkpoint to resume
    from (the same file as rank 0, on a shared file system) and writes nothing."""

    def __init__(self, path, fixed):
        self.path, self.fixed = str(path), fixed

    file = RunDir.file
    load_checkpoint = RunDir.load_checkpoint

    def write_config(self, *args):
        pass

    save_epoch = save_model = write_curves = write_config

    def close(self):
        pass


# options a resume may change: how long, where the data and the folder are, this machine's
# (its threads, memory, device: a checkpoint holds host arrays, so it resumes on either)
MAY_CHANGE = {"epochs", "data_dir", "download", "threads", "max_memory", "out", "device"}


def fixed_options(config: RunConfig) -> dict:
    """The options that a checkpoint fixes: every one but those in MAY_CHANGE."""
    return {k: v for k, v in config.to_dict().items() if k not in MAY_CHANGE}


def default_out(dataset: str) -> str:
    """runs/<dataset name>-<date>-<time>, the folder a run gets without --out."""
    import os
    import time
    base = os.path.splitext(os.path.basename(str(dataset)))[0] or "run"
    return os.path.join("runs", f"{base}-{time.strftime('%Y%m%d-%H%M%S')}")
