"""atheris target: the command line, ``manualnn.cli.app(argv)``, for argument lists made
of the parser's own options and choices, paths of a small world, and arbitrary text.

main must return 0, 1 or 2 and never raise; with 2, stderr is one line.  Training is
capped at one epoch, downloads and plots are stubbed out, so an input takes milliseconds.
"""

import argparse
import contextlib
import io
import os
import sys

import atheris
import numpy as np
from common import SCRATCH, run, scratch

with atheris.instrument_imports(include=["manualnn"]):
    from manualnn.checks import DataError
    from manualnn.cli import build_parser, experiment, main
    from manualnn.data import datasets
    from manualnn.io import plots, rundir

VALUES = ["0", "1", "2", "3", "-1", "0.5", "1e-3", "nan", "inf", "1e400", "abc", "", "2,3",
          "1,0", "99999999999999999999", "5K", "1G", "=", "--", "-", "\x00", "é"]


def _world():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 80)
    X = rng.normal(scale=3, size=(3, 4))[y] + rng.normal(size=(80, 4))
    np.savez(scratch("d.npz"), X=X[:60], y=y[:60], X_test=X[60:], y_test=y[60:])
    np.save(scratch("x.npy"), X[:5])
    scratch("x.png", b"\x89PNG\r\n\x1a\n")
    assert main(["train", "--dataset", scratch("d.npz"), "--hidden", "5", "--epochs", "1",
                 "--out", scratch("run"), "--quiet"]) == 0
    return [scratch(n) for n in ("d.npz", "x.npy", "x.png", "run", "none.npz", "o.csv",
                                 "o.json", "o.xml")] + ["/", "fashion-mnist", "digits"]


def _stubs():
    fit = experiment.fit
    gradcheck = sys.modules["manualnn.core.gradcheck"]
    check = gradcheck.gradcheck

    def offline(*args, **kwargs):
        raise DataError("offline: no downloads while fuzzing")
    experiment.fit = lambda *a, epochs, state, **k: fit(*a, epochs=min(epochs, state.epoch + 1),
                                                        state=state, **k)
    gradcheck.gradcheck = lambda net, X, y, loss, rng: check(net, X, y, loss, max_entries=2,
                                                             rng=rng)
    datasets.download_file = offline
    datasets.SYSTEM_DIRS = {}
    rundir.RunDir.write_curves = lambda self, history: None
    plots.plot_confusion = lambda *args: None
    os.environ["XDG_CACHE_HOME"] = scratch("cache")
    os.environ.pop("MANUALNN_DATA", None)
    os.chdir(SCRATCH)


def _table():
    sub = next(a for a in build_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    return {name: [(s, list(a.choices or []), a.nargs != 0) for a in p._actions
                   for s in a.option_strings] for name, p in sub.choices.items()}


_stubs()
PATHS = _world()
TABLE = _table()
COMMANDS = sorted(TABLE)


def argv_from(fdp) -> list:
    command = fdp.PickValueInList(COMMANDS + ["frobnicate", "", "--version"])
    argv, options = [command], TABLE.get(command, [])
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        kind = fdp.ConsumeIntInRange(0, 9)
        if kind == 0:
            argv.append(fdp.ConsumeUnicodeNoSurrogates(12))
        elif kind <= 2 or not options:
            argv.append(fdp.PickValueInList(VALUES + PATHS))
        else:
            option, choices, takes = fdp.PickValueInList(options)
            if option in ("-h", "--help"):
                continue
            argv.append(option)
            if takes:
                argv.append(fdp.PickValueInList(choices + ["1", "2", "0.5"] + VALUES + PATHS))
    return argv


def target(data: bytes) -> None:
    argv = argv_from(atheris.FuzzedDataProvider(data))
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code in (0, 1, 2), (argv, code)
    if code == 2:
        assert len(err.getvalue().strip().splitlines()) == 1, (argv, err.getvalue())


if __name__ == "__main__":
    run(target)
