"""Fuzzing the command line and a run folder's config.json.

Random argument lists, built from the parser's own options and their choices and from
values that are wrong in every way, go to ``manualnn.cli.app``: it returns 0, 1 or 2 and
never raises, and an exit status 2 comes with exactly one line on stderr.  Training is
capped at one epoch, downloads are cut off and plots skipped, so that an example takes
milliseconds; everything else (data loading, checks, the run folder) is real.
"""

import argparse
import importlib
import json
import os
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cli_helpers import write_blobs
from manualnn.checks import DataError
from manualnn.cli import build_parser, experiment, main
from manualnn.cli.config import DEFAULTS
from manualnn.io import rundir

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
VALUES = ["0", "1", "2", "3", "-1", "0.5", "1e-3", "nan", "inf", "-inf", "1e400", "abc", "",
          "2,3", "1,0", "3,,2", "99999999999999999999", "5K", "1G", "0.0", " ", "=", "--",
          "-", "\x00", "é", "1" * 400]


def _options(parser):
    """{command: [(option string, choices or None, takes a value)]} from the parser."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    table = {}
    for name, p in sub.choices.items():
        table[name] = [(s, a.choices, a.nargs != 0) for a in p._actions
                       for s in a.option_strings]
    return table


OPTIONS = _options(build_parser())


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny dataset, a trained run folder, inputs for it, and the paths to use."""
    folder = tmp_path_factory.mktemp("cli")
    X, _ = write_blobs(folder / "d.npz", 80, 4, train=60)
    np.save(folder / "x.npy", X[:5])
    (folder / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    run = folder / "run"
    assert main(["train", "--dataset", str(folder / "d.npz"), "--hidden", "5", "--epochs",
                 "1", "--out", str(run), "--quiet"]) == 0
    paths = [str(folder / n) for n in ("d.npz", "x.npy", "x.png", "run", "none.npz",
                                       "out.csv", "out.json", "out.xml", "new-run")]
    return folder, paths + ["/", "/nonexistent/dir/x.csv", "fashion-mnist", "digits"]


@pytest.fixture
def fast(world, monkeypatch, tmp_path):
    """One epoch at most, no downloads, no plots, no default folders outside tmp_path."""
    from manualnn.data import datasets
    from manualnn.io import plots
    # the package's name is the function; the module may not be loaded yet (lazy names)
    gradcheck = importlib.import_module("manualnn.core.gradcheck")
    fit, check = experiment.fit, gradcheck.gradcheck

    def one_epoch(*args, epochs, state, **kwargs):
        return fit(*args, epochs=min(epochs, state.epoch + 1), state=state, **kwargs)

    def offline(*args, **kwargs):
        raise DataError("offline: no downloads in the tests")
    monkeypatch.setattr(experiment, "fit", one_epoch)
    monkeypatch.setattr(gradcheck, "gradcheck",
                        lambda net, X, y, loss, **kw: check(net, X, y, loss, max_entries=2,
                                                            **kw))
    monkeypatch.setattr(datasets, "download_file", offline)
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {})
    monkeypatch.setattr(rundir.RunDir, "write_curves", lambda self, history: None)
    monkeypatch.setattr(plots, "plot_confusion", lambda *args: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MANUALNN_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    return world


def _check_main(argv, capsys, record=False) -> int:
    try:
        code = main(argv)
    except BaseException as exc:   # the test: nothing escapes
        raise AssertionError(f"main({argv!r}) raised {exc!r}") from exc
    err = capsys.readouterr().err
    if record:
        event(f"{argv[0] if argv else ''}: exit {code}")   # --hypothesis-show-statistics
    assert code in (0, 1, 2), (argv, code)
    assert "Traceback" not in err, err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and len(lines[0]) > 10, (argv, err)
    return code


@st.composite
def argvs(draw, paths):
    command = draw(st.sampled_from([*OPTIONS] * 4 + ["frobnicate", "", "-h", "--version"]))
    argv = [command]
    table = OPTIONS.get(command, [])
    if command in ("evaluate", "predict"):
        argv += draw(st.lists(st.sampled_from(paths), min_size=0, max_size=3))
    for _ in range(draw(st.integers(0, 6))):
        if not table or draw(st.integers(0, 9)) == 0:
            argv.append(draw(st.sampled_from(VALUES + paths + ["--nope", "-x"])))
            continue
        option, choices, takes = draw(st.sampled_from(table))
        if option in ("-h", "--help") and draw(st.integers(0, 4)):
            continue                               # rarely: each prints the whole help
        if draw(st.integers(0, 7)) == 0:
            option = option[:max(3, len(option) - draw(st.integers(1, 4)))]  # abbreviated
        argv.append(option)
        if takes and draw(st.integers(0, 9)):
            sane = list(choices or ["1", "2", "3", "0.5", "0.01", "2,3"])
            argv.append(draw(st.sampled_from(sane if draw(st.booleans()) else
                                             sane + VALUES + paths)))
    if command == "train" and draw(st.booleans()):
        argv += ["--dataset", paths[0], "--out", f"out-{draw(st.integers(0, 30))}"]
    return argv


@FUZZ
@given(data=st.data())
def test_random_command_lines_exit_0_1_or_2_and_never_raise(fast, capsys, data):
    _, paths = fast
    argv = data.draw(argvs(paths))
    _check_main(argv, capsys, record=True)


def test_the_fuzzer_reaches_every_command_and_success(fast, capsys):
    """Not only refusals: with sane values each command runs (so the fuzzer's
    vocabulary can reach the code behind the parser)."""
    folder, _ = fast
    run, data = str(folder / "run"), str(folder / "d.npz")
    for argv in (["train", "--dataset", data, "--hidden", "3", "--out", "t1", "--quiet"],
                 ["evaluate", run], ["predict", run, str(folder / "x.npy")],
                 ["gradcheck", "--hidden", "3", "--activation", "tanh"],
                 ["explain", "--layers", "4,3"], ["--version"], ["train", "--help"]):
        assert _check_main(argv, capsys) == 0, argv


# -- config.json of a run folder -----------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
    | st.text(max_size=6) | st.sampled_from(["relu", "sgd", "cosine", "float64", "1K"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3), max_leaves=6)


@pytest.fixture
def run_copy(fast, tmp_path):
    folder, _ = fast
    copy = tmp_path / "copy"
    shutil.copytree(folder / "run", copy)
    return copy, json.loads((copy / "config.json").read_text())


@FUZZ
@given(edits=st.dictionaries(st.sampled_from(sorted(DEFAULTS) + ["extra"]),
                             JSON_VALUES, min_size=1, max_size=3))
def test_edited_config_json_resumes_or_gives_one_clear_line(run_copy, capsys, edits):
    copy, config = run_copy
    text = json.dumps({**config, **edits})   # NaN and Infinity too, as Python writes them
    (copy / "config.json").write_text(text)
    _check_main(["train", "--resume", str(copy), "--quiet"], capsys, record=True)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode)
       | st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n))
def test_garbage_config_json_is_one_clear_line(run_copy, capsys, blob):
    copy, _ = run_copy
    (copy / "config.json").write_bytes(blob)
    assert _check_main(["train", "--resume", str(copy), "--quiet"], capsys) == 2


def test_config_json_is_read_as_json_only(run_copy, capsys):
    copy, config = run_copy
    (copy / "config.json").write_text(json.dumps({**config, "hidden": "__import__('os')"}))
    assert _check_main(["train", "--resume", str(copy), "--quiet"], capsys) == 2
    (copy / "config.json").write_text("x" * (rundir.MAX_CONFIG + 1))
    assert _check_main(["train", "--resume", str(copy), "--quiet"], capsys) == 2
    (copy / "config.json").write_text("[" * 100_000 + "]" * 100_000)   # RecursionError
    assert _check_main(["train", "--resume", str(copy), "--quiet"], capsys) == 2
    assert os.path.exists(copy / "model.safetensors")
