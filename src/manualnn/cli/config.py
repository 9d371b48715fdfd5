"""The run configuration: one typed object, saved as the run's config.json.

Every field is one ``manualnn train`` option; its default is the default recipe.  Which
fields an optimizer or a schedule takes comes from its class (``Optimizer.hyper``,
``Schedule.options``), so adding one to a class adds it here, not in a second list.
"""

from __future__ import annotations

import dataclasses
import math
import os

from manualnn import checks
from manualnn.backend.threads import MAX_THREADS
from manualnn.cli import memory
from manualnn.core.activations import ACTIVATIONS
from manualnn.core.initializers import INITIALIZERS
from manualnn.core.losses import LOSSES
from manualnn.train.optim import OPTIMIZERS
from manualnn.train.schedules import SCHEDULES

OPTIMIZER_OPTIONS = {name: cls.hyper for name, cls in OPTIMIZERS.items()}
SCHEDULE_OPTIONS = {name: cls.options for name, cls in SCHEDULES.items()}
MAX_EPOCHS = 10 ** 9   # more is a typo: a run that long never ends


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What a training run is: data, model, optimizer, schedule, loop, limits."""

    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    download: bool = False
    task: str = "auto"
    label_column: list | None = None
    drop_columns: list = dataclasses.field(default_factory=list)
    layers: list | None = None
    hidden: list = dataclasses.field(default_factory=lambda: [512, 256])
    activation: str = "relu"
    bias: bool = True
    init: str = "auto"
    loss: str = "softmax_cross_entropy"
    label_smoothing: float = 0.1
    optimizer: str = "adamw"
    lr: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.01
    schedule: str = "cosine"
    step_size: int = 10
    gamma: float = 0.1
    min_lr: float = 0.0
    warmup_epochs: float = 1
    epochs: int = 30
    batch_size: int = 128
    shuffle: bool = True
    dropout: float = 0.2
    clip_norm: float | None = None
    seed: int = 0
    val_fraction: float = 0.1
    early_stopping: int = 0
    preprocess: str = "standardize"
    dtype: str = "float32"
    threads: int | None = None
    device: str = "cpu"
    max_memory: int | None = None
    out: str | None = None

    @classmethod
    def from_dict(cls, config: dict) -> RunConfig:
        """Validated (before any data is read): unknown keys, impossible values and
        contradictions are refused with the option's name.  Missing keys take defaults."""
        if not isinstance(config, dict):
            raise TypeError(f"config: expected a mapping of options, got {type(config).__name__}")
        unknown = sorted(set(config) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"config: unknown options {unknown}")
        c = {**DEFAULTS, **config}
        _check_types(c)
        _check_choices(c)
        _check_numbers(c)
        if c["max_memory"] is not None:
            c["max_memory"] = memory.parse_size(c["max_memory"])
        _widths(c["hidden"], "hidden", 0)
        for key in ("label_column", "drop_columns"):
            _names(c[key], key)
        if c["layers"] is not None:
            _widths(c["layers"], "layers", 2)
            if "hidden" in config and list(config["hidden"]) != list(c["layers"][1:-1]):
                raise ValueError("layers: give either --layers or --hidden, not both")
            c["hidden"] = list(c["layers"][1:-1])
        return cls(**c)

    def to_dict(self) -> dict:
        """The JSON-able options, as config.json holds them."""
        return dataclasses.asdict(self)

    def optimizer_options(self) -> dict:
        """The options of this run's optimizer class (``hyper``), by name."""
        name = checks.choice(self.optimizer, "optimizer", OPTIMIZER_OPTIONS)
        return {k: getattr(self, k) for k in OPTIMIZER_OPTIONS[name]}

    def schedule_options(self) -> dict:
        """The options of this run's schedule class (``options``), by name."""
        name = checks.choice(self.schedule, "schedule", SCHEDULE_OPTIONS)
        return {k: getattr(self, k) for k in SCHEDULE_OPTIONS[name]}


DEFAULTS = RunConfig().to_dict()


def read_run_config(run_dir) -> RunConfig:
    """A run folder's config.json as a RunConfig, every option checked as the command
    line's are (a DataError names the file)."""
    from manualnn.io.rundir import CONFIG, read_config
    config = read_config(run_dir)
    try:
        return RunConfig.from_dict(config)
    except (TypeError, ValueError) as exc:
        raise checks.DataError(f"{os.path.join(run_dir, CONFIG)}: {exc}") from None


_KINDS = {   # an annotation's part: the JSON values it takes (bool is no number here)
    "str": lambda v: isinstance(v, str), "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, (list, tuple)), "None": lambda v: v is None,
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}


def _check_types(c: dict) -> None:
    """Each option of the type its field declares (a config.json may say anything)."""
    for f in dataclasses.fields(RunConfig):
        kinds = [k.strip() for k in str(f.type).split("|")]
        if f.name == "max_memory":   # also a size such as "800M"
            kinds.append("str")
        if not any(_KINDS[k](c[f.name]) for k in kinds):
            wanted = " or ".join("null" if k == "None" else k for k in kinds)
            raise TypeError(f"{f.name}: expected {wanted}, got "
                            f"{type(c[f.name]).__name__} {c[f.name]!r}"[:200])


# the command line's choices (app.py offers these): a config.json is held to the same
CHOICES = {"activation": ACTIVATIONS, "init": ["auto", *INITIALIZERS], "loss": LOSSES,
           "dtype": ("float32", "float64"), "preprocess": ("standardize", "scale", "none"),
           "optimizer": OPTIMIZER_OPTIONS, "schedule": SCHEDULE_OPTIONS,
           "device": ("cpu", "cuda"), "task": ("auto", "classification", "regression")}


def _check_choices(c: dict) -> None:
    for name, options in CHOICES.items():
        checks.choice(c[name], name, options)


def _check_numbers(c: dict) -> None:
    checks.number(c["epochs"], "epochs", 1, MAX_EPOCHS, integer=True)
    checks.number(c["batch_size"], "batch_size", 1, integer=True)
    checks.number(c["lr"], "lr", 0, low_open=True)
    checks.number(c["val_fraction"], "val_fraction", 0, 1, high_open=True)
    checks.number(c["early_stopping"], "early_stopping", 0, integer=True)
    checks.number(c["seed"], "seed", 0, integer=True)
    checks.number(c["warmup_epochs"], "warmup_epochs", 0)
    if c["clip_norm"] is not None:
        checks.number(c["clip_norm"], "clip_norm", 0, low_open=True)
    if c["early_stopping"] and not c["val_fraction"]:
        raise ValueError("early_stopping: needs a validation split (val_fraction > 0)")
    if c["threads"] is not None:
        checks.number(c["threads"], "threads", 1, MAX_THREADS, integer=True)
    if not math.isfinite(c["weight_decay"]) or c["weight_decay"] < 0:
        raise ValueError(f"weight_decay: expected a value >= 0, got {c['weight_decay']!r}")


def _names(value, name: str) -> None:
    """None (label_column only) or a list of distinct, non-empty column names."""
    if value is None and name == "label_column":
        return
    if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value)
            and len(set(value)) == len(value)):
        raise ValueError(f"{name}: expected a list of distinct column names, got {value!r}"
                         [:200])


def _widths(value, name: str, at_least: int) -> None:
    """A list of at least ``at_least`` positive integer widths (checked before any data)."""
    if not (isinstance(value, (list, tuple)) and len(value) >= at_least
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value)):
        count = f"at least {at_least} " if at_least else ""
        raise ValueError(f"{name}: expected a list of {count}positive integer widths, "
                         f"got {value!r}"[:200])
