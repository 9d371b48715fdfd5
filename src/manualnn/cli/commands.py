"""What each ``manualnn`` subcommand does, given its parsed arguments; each returns 0."""

from __future__ import annotations

import math
import sys

import numpy as np

from manualnn.backend.threads import limit_threads
from manualnn.cli import experiment
from manualnn.cli.config import DEFAULTS, RunConfig
from manualnn.cli.recipe import ADAPTIVE
from manualnn.train.table import TITLES


def train(args) -> int:
    if args.report:   # before the training: a missing extra is said now, not after an hour
        from manualnn.io.report import require
        require()
    if args.resume and args.config:
        raise ValueError("config: give --resume RUN_DIR (continue a run) or --config FILE "
                         "(a new run with its options), not both")
    from manualnn.train.distributed import world
    comm = world(required=args.distributed)   # MPI when a launcher started this process
    say = print if comm.rank == 0 else (lambda *a, **k: None)
    if args.resume:
        config = _resume_config(args)
        with limit_threads(config.threads):   # the run's own count, unless overridden
            folder, _, result = experiment.run(config, resume_dir=args.resume,
                                               log=_log(args), progress=not args.quiet,
                                               comm=comm)
    else:
        if args.config:
            from manualnn.cli.rerun import config_from_file
            config = config_from_file(args, experiment.default_out)
        else:
            config = {k: getattr(args, k) for k in DEFAULTS if hasattr(args, k)}
            if args.layers is not None and "hidden" not in args.given:
                del config["hidden"]
            config["out"] = args.out or experiment.default_out(args.dataset)
            config = RunConfig.from_dict(config)
        # the recipe may choose what the command line left open (a --config file fixed all)
        free = () if args.config else set(ADAPTIVE) - args.given
        with limit_threads(config.threads):   # the file's own count: a re-run is bit for bit
            folder, _, result = experiment.run(config, log=_log(args),
                                               progress=not args.quiet, comm=comm,
                                               adapt=free, note=say)
    if result is not None and isinstance(result[1], dict):
        say("test " + "   ".join(f"{TITLES[k]} {v:.5g}" for k, v in result[1].items()))
    elif result is not None:
        say(f"test accuracy {1 - result[1]:.2%}")
    say(f"run folder: {folder}")
    if args.report and comm.rank == 0:   # rank 0 alone writes the run folder
        from manualnn.cli.report import write_report
        say(f"report: {write_report(folder, download=args.download)}")
    return 0


RESUME_OPTIONS = {"report", "resume", "epochs", "max_memory", "download", "threads", "quiet",
                  "distributed", "device"}


def _resume_config(args):
    """The saved configuration.  --epochs may extend it; --max-memory and --download
    apply to this machine; --threads overrides the run's (said, since the last bits may
    differ); any other option given with another value than the run's is refused.  Downloads
    happen only when asked for on this command line, never because a (possibly foreign)
    config.json says so."""
    from manualnn.io.rundir import read_config
    config = read_config(args.resume)
    changed = sorted(k for k in args.given - RESUME_OPTIONS
                     if config.get(k, DEFAULTS.get(k)) != getattr(args, k))
    if changed:
        names = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise ValueError(f"resume: {names} would change a run that is resumed (its "
                         f"config.json fixes them); give only --epochs, --max-memory, "
                         f"--download, --threads, or start a new run with --out")
    if "epochs" in args.given:
        config["epochs"] = args.epochs
    config["download"], config["max_memory"] = args.download, args.max_memory
    if "device" in args.given:   # a checkpoint resumes on either
        config["device"] = args.device
    if "threads" in args.given and args.threads != config.get("threads"):
        print(f"resume: --threads {args.threads} instead of the run's "
              f"{config.get('threads') or 'default'}: the last digits may differ from an "
              "uninterrupted run", file=sys.stderr)
        config["threads"] = args.threads
    return RunConfig.from_dict({k: v for k, v in config.items() if k in DEFAULTS})


def _log(args):
    return (lambda *a, **k: None) if args.quiet else (lambda text: print(text, flush=True))


def evaluate(args) -> int:
    from manualnn.cli.evaluation import evaluate_run
    report = evaluate_run(args.run_dir, args.dataset, args.data_dir, args.download, args.plot,
                          max_memory=args.max_memory, device=args.device)
    print(report)
    return 0


def predict(args) -> int:
    from manualnn.cli.predict import predict_files
    text = predict_files(args.run_dir, args.inputs, args.output, max_memory=args.max_memory,
                         device=args.device, id_column=args.id_column)
    if text:
        print(text, end="")
    return 0


def gradcheck(args) -> int:
    from manualnn.core.gradcheck import gradcheck as check
    from manualnn.core.network import MLP
    layers = args.layers or [args.inputs, *args.hidden, args.classes]
    net = MLP(layers, args.activation, bias=args.bias, init=args.init, dtype=args.dtype,
              rng=args.seed)
    rng = np.random.default_rng(args.seed)
    m, k = args.batch_size, layers[-1]
    if m < 1:
        raise ValueError(f"batch_size: expected at least 1, got {m}")
    X = rng.standard_normal((m, layers[0]))
    y = rng.integers(0, k, m) if args.loss == "softmax_cross_entropy" else \
        rng.uniform(size=(m, k))
    skipped = {}
    errors = check(net, X, y, args.loss, rng=args.seed, skipped=skipped)
    print(f"{'parameter':<10} {'shape':>14} {'max relative error':>20} {'kinks skipped':>14}")
    for name, p in zip(net.param_names, net.params):
        print(f"{name:<10} {p.shape!s:>14} {errors[name]:>20.3e} {skipped[name]:>14}")
    unchecked = [name for name, e in errors.items() if math.isnan(e)]
    if unchecked:
        print(f"UNCHECKED: every sampled entry of {', '.join(unchecked)} straddles a kink")
        return 1
    worst = max(errors.values())
    verdict = "OK" if worst < 1e-6 else "MISMATCH"
    print(f"{verdict}: largest relative error {worst:.3e} (float64 central differences)")
    return 0 if worst < 1e-6 else 1


def explain(args) -> int:
    from manualnn.cli.explain import explain as text
    layers = args.layers or [args.inputs, *args.hidden, args.classes]
    print(text(layers, args.activation, args.bias, args.batch_size, args.loss), end="")
    return 0


def report(args) -> int:
    from manualnn.cli.report import write_report
    path = write_report(args.run_dir, args.data_dir, args.download, args.max_memory,
                        args.dataset)
    print(f"report: {path}")
    return 0


def export(args) -> int:
    from manualnn.cli.export import export_run
    print(export_run(args.run_dir, args.output))
    return 0


def check(args) -> int:
    """0 when every function found is correct, 1 when any is not."""
    from manualnn.cli.check import check as run
    return run(args)


def exercise(args) -> int:
    from manualnn.cli.check import exercise as run
    return run(args)


def course(args) -> int:
    from manualnn.cli.course import run
    return run(args)
