"""The ``manualnn`` command: train, evaluate, predict, gradcheck, explain, report, export,
course.

Every mistake a user can make (an unknown dataset, a bad option value, a missing or
corrupt file, a model that does not fit the input) ends in one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import copy
import sys
from argparse import SUPPRESS

from manualnn import __version__
from manualnn.checks import DataError, did_you_mean
from manualnn.cli.config import CHOICES, DEFAULTS
from manualnn.train.distributed import DistributedError
from manualnn.train.loop import TrainingDiverged

EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 2, 130, 141


class _Help(argparse.HelpFormatter):
    """Each option's help ends with its default ("not set" for None), unless the help
    already says it or the option is a switch (store_true/false)."""

    def _format_action(self, action):
        text, default = action.help or "", action.default
        if not action.option_strings or "default" in text or default is SUPPRESS \
                or action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction):
            return super()._format_action(action)
        shown = ",".join(map(str, default)) if isinstance(default, list) else \
            "not set" if default is None else str(default)
        action = copy.copy(action)
        action.help = f"{text} (default: {shown.replace('%', '%%')})".lstrip()
        return super()._format_action(action)


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line errors: ``manualnn: error: --opt: expected
    ..., got ...``, and "did you mean" from the close matches for an unknown option, an
    unknown choice (command, activation, optimizer, loss) or value of a typed option.
    Subcommands are parsers of this class too, so an option added later gets all this."""

    def __init__(self, *args, **kwargs):   # no abbreviations: what was given is exact
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message):
        where = self.prog.removeprefix("manualnn").strip()
        message = message.removeprefix("argument ")
        if where and not message.startswith("-"):
            message = f"{where}: {message}"
        raise _UsageError(f"manualnn: error: {message}")

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            raise argparse.ArgumentError(
                action, f"expected one of {', '.join(map(str, action.choices))}, got "
                        f"{value!r}{did_you_mean(value, action.choices)}")

    def _get_value(self, action, arg_string):
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError:
            kind = {int: "an integer", float: "a number"}.get(action.type)
            if kind is None:
                raise
            raise argparse.ArgumentError(action, f"expected {kind}, got {arg_string!r}") \
                from None

    def parse_args(self, args=None, namespace=None):
        """The options, with ``given``: the names of those the command line set (a value
        given counts even where it equals the default)."""
        argv = sys.argv[1:] if args is None else list(args)
        parsed, extra = super().parse_known_args(argv, namespace)
        parsers = self._subparsers_of(parsed)
        if extra:
            self._unrecognized(extra, parsers)
        actions = [a for p in parsers for a in p._actions]
        parsed.given = {a.dest for a in actions for tok in argv for s in a.option_strings
                        if tok == s or tok.startswith(s + "=")}
        return parsed

    def _unrecognized(self, extra, parsers):
        known = [s for p in parsers for a in p._actions for s in a.option_strings]
        unknown = [t.split("=", 1)[0] for t in extra if t.startswith("--")
                   or t.startswith("-") and not t[1:2].isdigit()]
        hint = did_you_mean(unknown[0], known) if unknown else ""
        parsers[-1].error(f"unrecognized arguments: {' '.join(extra)}{hint}")

    def _subparsers_of(self, parsed):
        out = [self]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest, None))
                out += [chosen] if chosen is not None else []
        return out


class _UsageError(Exception):
    pass


def _ints(text: str) -> list[int]:
    try:   # an empty part ("1,,2", "16,") is a typo, not a width to skip
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}"
                                         [:200]) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _size(text: str) -> int:
    from manualnn.cli.memory import parse_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("max_memory: ")) from None


def _add_memory_option(group):
    group.add_argument("--max-memory", type=_size, metavar="BYTES",
                       help="refuse a run (or split an evaluation) that would need more "
                            "memory, e.g. 800M or 4G (default: half the available memory)")


def _add_device_option(group, default="cpu"):
    group.add_argument("--device", choices=CHOICES["device"], default=default,
                       help="cuda: an NVIDIA GPU through CuPy (pip install 'manualnn[cuda]')")


def _add_model_options(p, defaults=DEFAULTS, ends="the data"):
    g = p.add_argument_group("model")
    g.add_argument("--layers", type=_ints,
                   help="all widths, e.g. 784,256,10 (default: from --hidden)")
    g.add_argument("--hidden", type=_ints, default=defaults["hidden"],
                   help=f"hidden widths; inputs and outputs come from {ends}")
    g.add_argument("--activation", choices=sorted(CHOICES["activation"]),
                   default=defaults["activation"])
    g.add_argument("--bias", action=argparse.BooleanOptionalAction, default=defaults["bias"])
    g.add_argument("--init", choices=sorted(CHOICES["init"]), default=defaults["init"])
    g.add_argument("--loss", choices=sorted(CHOICES["loss"]), default=defaults["loss"])
    g.add_argument("--dtype", choices=CHOICES["dtype"], default=defaults["dtype"])
    g.add_argument("--seed", type=int, default=defaults["seed"])


def _columns(text: str) -> list:
    names = text.split(",")
    if not all(n.strip() for n in names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got "
                                         f"{text!r}"[:200])
    return [n.strip() for n in names]


def _add_data_options(p, dataset_default=DEFAULTS["dataset"]):
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=dataset_default,
                   help="fashion-mnist, mnist, digits, or a .npz, .csv or .parquet file"
                        + (" (default: the run's own)" if dataset_default is None else ""))
    g.add_argument("--data-dir", help="folder that holds the dataset's files (default: "
                   "$MANUALNN_DATA/<name>, ~/.cache/manualnn/<name>, then system folders)")
    g.add_argument("--download", action="store_true",
                   help="fetch missing files from the dataset's mirrors (checksums verified)")


def _add_train_options(p):
    d = DEFAULTS
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=d["epochs"])
    g.add_argument("--batch-size", type=int, default=d["batch_size"])
    g.add_argument("--lr", type=float, default=d["lr"], help="(peak) learning rate")
    g.add_argument("--optimizer", choices=sorted(CHOICES["optimizer"]), default=d["optimizer"])
    g.add_argument("--momentum", type=float, default=d["momentum"], help="sgd only")
    g.add_argument("--nesterov", action="store_true", help="sgd only")
    g.add_argument("--beta1", type=float, default=d["beta1"], help="adam, adamw")
    g.add_argument("--beta2", type=float, default=d["beta2"], help="adam, adamw")
    g.add_argument("--eps", type=float, default=d["eps"], help="adam, adamw")
    g.add_argument("--weight-decay", type=float, default=d["weight_decay"],
                   help="decoupled for adamw, an L2 penalty otherwise; biases are exempt")
    g.add_argument("--schedule", choices=sorted(CHOICES["schedule"]), default=d["schedule"])
    g.add_argument("--step-size", type=int, default=d["step_size"], help="step schedule")
    g.add_argument("--gamma", type=float, default=d["gamma"], help="step schedule")
    g.add_argument("--min-lr", type=float, default=d["min_lr"], help="cosine schedule")
    g.add_argument("--warmup-epochs", type=float, default=d["warmup_epochs"])
    g.add_argument("--dropout", type=float, default=d["dropout"])
    g.add_argument("--label-smoothing", type=float, default=d["label_smoothing"])
    g.add_argument("--clip-norm", type=float, default=d["clip_norm"],
                   help="scale the gradients to at most this global L2 norm (default: none)")
    g.add_argument("--no-shuffle", dest="shuffle", action="store_false")
    g.add_argument("--val-fraction", type=float, default=d["val_fraction"])
    g.add_argument("--early-stopping", type=int, default=d["early_stopping"], metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation loss")
    g.add_argument("--preprocess", choices=CHOICES["preprocess"],
                   default=d["preprocess"])
    t = p.add_argument_group("tables (.csv, .parquet)")
    t.add_argument("--task", choices=CHOICES["task"],
                   default=d["task"], help="auto: classes for text, booleans and a few "
                   "whole numbers, regression for real numbers; unsure: refused")
    t.add_argument("--label-column", action="append", metavar="NAME",
                   help="the label column (default: 'label', else the last); repeat it "
                        "for several regression targets")
    t.add_argument("--drop-columns", type=_columns, action="extend", default=[],
                   metavar="A,B", help="columns to leave out (an id, a leak)")
    g.add_argument("--out", metavar="RUN_DIR", help="run folder (default runs/<dataset>-<time>)")
    g.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR (default: a new run)")
    g.add_argument("--config", metavar="CONFIG_JSON",
                   help="re-run a recorded run (RUN_DIR/config.json) as a new run; options "
                        "given here override the file's")
    g.add_argument("--report", action="store_true",
                   help="also write RUN_DIR/report.html (pip install 'manualnn[report]')")
    g.add_argument("--quiet", action="store_true", help="no table, no progress bar")
    _add_device_option(g, d["device"])
    _add_memory_option(g)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="manualnn", description="Train fully-connected networks with "
                     "backpropagation written by hand; see 'manualnn COMMAND --help'.")
    parser.add_argument("--version", action="version", version=f"manualnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser("train", help="train a network and write a run folder")
    _add_data_options(train)
    _add_model_options(train)
    _add_train_options(train)
    train.add_argument("--distributed", action="store_true",
                       help="be one of the ranks an MPI launcher started (mpiexec, srun): "
                            "refuse to train alone when none did")
    ev = sub.add_parser("evaluate", help="test loss, accuracy and confusion matrix of a run")
    ev.add_argument("run_dir", metavar="RUN_DIR")
    _add_data_options(ev, dataset_default=None)
    ev.add_argument("--plot", action="store_true", help="also write confusion.png")
    _add_device_option(ev)
    _add_memory_option(ev)
    pr = sub.add_parser("predict", help="labels and probabilities for new inputs")
    pr.add_argument("run_dir", metavar="RUN_DIR")
    pr.add_argument("inputs", metavar="INPUT", nargs="+",
                    help=".npy/.npz array, a .csv/.parquet table, or PNG images")
    pr.add_argument("--output", help="write a .csv, .parquet or .json file instead of "
                                     "printing")
    pr.add_argument("--id-column", metavar="NAME",
                    help="a table's column copied into each prediction row")
    _add_device_option(pr)
    _add_memory_option(pr)
    gc = sub.add_parser("gradcheck", help="check backward against finite differences")
    _add_model_options(gc, ends="--inputs and --classes")
    gc.add_argument("--inputs", type=int, default=20, help="input width when no --layers")
    gc.add_argument("--classes", type=int, default=5, help="output width when no --layers")
    gc.add_argument("--batch-size", type=int, default=8, help="rows of the random batch")
    ex = sub.add_parser("explain", help="the forward and backward passes with every shape")
    _add_model_options(ex, ends="--inputs and --classes")
    ex.add_argument("--inputs", type=int, default=784, help="input width when no --layers")
    ex.add_argument("--classes", type=int, default=10, help="output width when no --layers")
    ex.add_argument("--batch-size", type=int, default=100, help="rows of the batch m")
    rp = sub.add_parser("report", help="write RUN_DIR/report.html, one self-contained page")
    rp.add_argument("run_dir", metavar="RUN_DIR")
    rp.add_argument("--dataset", help="a test table (.csv, .parquet) or dataset to score "
                                      "instead of the run's test split")
    rp.add_argument("--data-dir", help="folder that holds the dataset's files")
    rp.add_argument("--download", action="store_true", help="fetch missing dataset files")
    _add_memory_option(rp)
    xp = sub.add_parser("export", help="the model and its preprocessing as an ONNX file")
    xp.add_argument("run_dir", metavar="RUN_DIR")
    xp.add_argument("output", metavar="MODEL_ONNX", help="the .onnx file to write")
    from manualnn.cli.check import add_parsers as add_learner_parsers
    add_learner_parsers(sub)   # check, exercise
    for p in (train, ev, pr, gc, rp):
        p.add_argument("--threads", type=int, help="BLAS threads (default: the library's own)")
    from manualnn.cli.course import add_parser as add_course
    add_course(sub)
    return parser


MEMORY_HINTS = {"train": "lower --batch-size or the widths, or set --max-memory",
                "evaluate": "set --max-memory to evaluate in smaller chunks",
                "predict": "set --max-memory to predict in smaller chunks"}


def main(argv=None) -> int:
    """Run one command; under MPI a rank that fails ends the whole job (``-m mpi4py``
    does that for an uncaught exception, this for the ones turned into exit 2)."""
    from manualnn.train.distributed import abort_on_failure
    try:
        code = _main(argv)
    except BaseException:
        abort_on_failure(1, traceback=True)
        raise
    abort_on_failure(code)
    return code


def _main(argv) -> int:
    command = None
    try:
        args = build_parser().parse_args(argv)
        command = args.command
        from manualnn.backend.threads import limit_threads
        with limit_threads(getattr(args, "threads", None)):
            code = _dispatch(args)
        sys.stdout.flush()   # here, where a closed pipe is caught, not at the exit
        return code
    except _UsageError as exc:
        return _fail(str(exc))
    except BrokenPipeError:   # `manualnn evaluate RUN | head -1`: the reader has gone
        return _quiet_pipe()
    except (ValueError, TypeError, DataError, OSError, TrainingDiverged,
            DistributedError) as exc:
        return _fail(f"manualnn: error: {exc}")
    except MemoryError as exc:
        hint = MEMORY_HINTS.get(command, "use smaller sizes")
        return _fail(f"manualnn: error: out of memory ({exc}); {hint}")
    except KeyboardInterrupt:
        print("manualnn: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:   # --help and --version: their text is printed, all is well
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else EXIT_USAGE


def _quiet_pipe() -> int:
    """Exit as a Unix tool killed by SIGPIPE does (status 128 + 13, nothing said), with
    stdout pointed at /dev/null so that the interpreter's last flush cannot fail again."""
    import os
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def _fail(message: str) -> int:
    print(" ".join(message.split()), file=sys.stderr)
    return EXIT_USAGE


def _dispatch(args) -> int:
    from manualnn.cli import commands
    return getattr(commands, args.command)(args)


if __name__ == "__main__":
    sys.exit(main())
