"""``manualnn train`` against what issue 25 found (items 2, 3 and 5): a schedule that
leaves the floats, a --config whose threads were not applied or not checked, and launcher
variables that MPI aborts on or that say more ranks than MPI sees."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from cli_helpers import one_line
from manualnn.cli import experiment, main
from manualnn.train import launcher

TINY = ["--dataset", "digits", "--hidden", "4", "--epochs", "1", "--quiet"]


@pytest.mark.parametrize("gamma, shown", [("1e300", "about 1e+600"), ("1e-300", "1e-1200")])
def test_a_step_schedule_leaving_the_floats_is_refused_before_training(tmp_path, capsys,
                                                                       gamma, shown):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--hidden", "4", "--lr", "1e-300", "--schedule", "step",
                 "--step-size", "1", "--gamma", gamma, "--warmup-epochs", "0", "--epochs",
                 "4", "--out", str(out), "--quiet"]) == 2
    line = one_line(capsys)
    assert f"--gamma {float(gamma)}" in line and "--step-size 1" in line and shown in line
    assert not out.exists()


def test_a_warm_up_that_starts_below_the_floats_is_refused(tmp_path, capsys):
    assert main(["train", *TINY, "--lr", "1e-306", "--schedule", "constant",
                 "--warmup-epochs", "1000", "--out", str(tmp_path / "run")]) == 2
    assert "--warmup-epochs 1000.0" in one_line(capsys)


def threads_seen(monkeypatch):
    """The BLAS threads NumPy's library runs with inside each ``experiment.run``."""
    from manualnn.backend.threads import blas_info
    seen, run = [], experiment.run
    monkeypatch.setattr(experiment, "run", lambda *a, **k: seen.append(
        blas_info()["threads"]) or run(*a, **k))
    return seen


def test_config_applies_its_threads_and_checks_them_as_the_command_line(tmp_path, capsys,
                                                                        monkeypatch):
    seen = threads_seen(monkeypatch)
    assert main(["train", *TINY, "--threads", "1", "--out", str(tmp_path / "a")]) == 0
    assert main(["train", "--config", str(tmp_path / "a"), "--quiet",
                 "--out", str(tmp_path / "b")]) == 0
    assert seen == [1, 1]
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    (tmp_path / "c.json").write_text(json.dumps({**config, "threads": 100000}))
    capsys.readouterr()
    assert main(["train", "--config", str(tmp_path / "c.json"), "--out",
                 str(tmp_path / "c")]) == 2
    assert "threads: expected a value in [1, 65536], got 100000" in one_line(capsys)
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("env, name", [
    ({"PMI_SIZE": "abc"}, "PMI_SIZE"), ({"PMI_SIZE": "2", "PMI_RANK": "2"}, "PMI_RANK=2"),
    ({"OMPI_COMM_WORLD_SIZE": "0"}, "OMPI_COMM_WORLD_SIZE"),
    ({"PMI_SIZE": "2", "OMPI_COMM_WORLD_SIZE": "3"}, "PMI_SIZE=2, OMPI_COMM_WORLD_SIZE=3"),
    ({"PMIX_RANK": "3"}, "PMIX_NAMESPACE")])
def test_launcher_variables_that_cannot_be_a_launch_are_named(env, name):
    with pytest.raises(launcher.LauncherError, match=name):
        launcher.world_size(env)


needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                               reason="mpi4py is not installed (pip install 'manualnn[mpi]')")


@needs_mpi
@pytest.mark.parametrize("variables, said", [
    ("OMPI_COMM_WORLD_SIZE=4", "OMPI_COMM_WORLD_SIZE"),   # MPICH's mpi4py: one rank
    ("PMIX_RANK=3 PMIX_NAMESPACE=job", "PMIX_RANK"),        # MPICH aborted in MPI_Init
    ("PMI_SIZE=abc", "PMI_SIZE='abc'"), ("PMI_SIZE=4", "PMI_SIZE=4")])
def test_distributed_refuses_a_launch_mpi_cannot_honour_in_one_line(tmp_path, variables,
                                                                     said):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI", "OMPI", "PMIX"))}
    env.update(v.split("=") for v in variables.split())
    code = ("import sys; from manualnn.cli import main; sys.exit(main(['train', "
            "'--distributed', '--dataset', 'digits', '--out', 'run']))")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and said in done.stderr, done.stderr
    assert not os.listdir(tmp_path)
