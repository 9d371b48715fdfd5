"""SIGKILL at random moments, and two trainings on one folder, with real processes.

After every kill the run folder must hold a complete, loadable model of a completed epoch
(bit for bit the weights an uninterrupted run had after that epoch), and ``--resume``
must finish with the uninterrupted run's final weights, bit for bit.  Kills come at
random delays and at the moments a temporary file of an atomic write appears, so that
many land while a checkpoint or model is being written.
"""

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cli_helpers import write_blobs
from manualnn.cli import main
from manualnn.io import rundir
from manualnn.io.rundir import load_run
from manualnn.io.serialize import MODEL_FILE, load_arrays

EPOCHS = 60
KILLS = 24
TARGETS = [None, "checkpoint", None, "model", None, "history"]   # None: a random delay
STATS = {}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """2000 rows of a 3-class problem: an epoch of 4 batches takes a few milliseconds,
    about as long as writing its files."""
    folder = tmp_path_factory.mktemp("crash")
    write_blobs(folder / "blobs.npz", 2000, 8, train=1600)
    return folder


def train_args(data, epochs=EPOCHS):
    return ["train", "--dataset", str(data / "blobs.npz"), "--hidden", "16", "--epochs",
            str(epochs), "--batch-size", "400", "--threads", "1", "--quiet"]


def start(args):
    return subprocess.Popen([sys.executable, "-m", "manualnn", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(args):
    proc = subprocess.run([sys.executable, "-m", "manualnn", *args], capture_output=True,
                          text=True, timeout=120, check=False)
    return proc.returncode, proc.stderr


def history(folder):
    with open(os.path.join(folder, "history.csv")) as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def temporaries(folder):
    return [n for n in os.listdir(folder) if n.endswith(".tmp")] if os.path.isdir(folder) \
        else []


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """An uninterrupted run of the same command, with the weights after every epoch."""
    snapshots, real = {}, rundir.RunDir.save_epoch

    def save_epoch(self, net, optimizer, state, meta, arrays):
        snapshots[state.epoch] = [p.copy() for p in net.params]
        real(self, net, optimizer, state, meta, arrays)
    out = tmp_path_factory.mktemp("reference") / "run"
    rundir.RunDir.save_epoch = save_epoch
    began = time.monotonic()
    try:
        assert main(train_args(data) + ["--out", str(out)]) == 0
    finally:
        rundir.RunDir.save_epoch = real
    assert sorted(snapshots) == list(range(1, EPOCHS + 1))
    return str(out), snapshots, (time.monotonic() - began) / EPOCHS


def same(params, expected):
    return len(params) == len(expected) and all(np.array_equal(p, q)
                                                for p, q in zip(params, expected))


def check_folder(out, snapshots):
    """The invariant after a kill; returns the checkpoint's epoch (0: none)."""
    ckpt = os.path.join(out, rundir.CHECKPOINT)
    epoch = 0
    if os.path.exists(ckpt):
        tensors, info = load_arrays(ckpt)
        epoch = info["epoch"]
        assert same([tensors[f"param.{n}"] for n in ("W1", "b1", "W2", "b2")],
                    snapshots[epoch])
    if epoch or os.path.exists(os.path.join(out, MODEL_FILE)):
        net, meta, _ = load_run(out)
        # epochs closer than rundir.SAVE_SECONDS are not saved: the model may be a later one
        assert meta["epoch"] >= max(epoch, 1), (meta["epoch"], epoch)
        assert same(net.params, snapshots[meta["epoch"]])
    return epoch


def kill_when(proc, out, target, delay):
    """SIGKILL ``proc`` once a temporary file of ``target`` appears, or after ``delay``
    seconds; returns (seconds it ran, whether a temporary file was left: killed mid-write)."""
    began, stale = time.monotonic(), set(temporaries(out))   # a killed run's leftovers
    deadline = began + (60 if target else delay)
    while proc.poll() is None and time.monotonic() < deadline:
        if target and any(n.startswith(f".{target}") for n in set(temporaries(out)) - stale):
            break
        time.sleep(0.0005 if target else 0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return time.monotonic() - began, bool(temporaries(out))


def restart_args(data, out, stats):
    """--resume when there is a checkpoint; otherwise check what --resume says, and
    reuse the folder with a fresh --out."""
    if os.path.exists(os.path.join(out, rundir.CHECKPOINT)):
        return train_args(data) + ["--resume", out]
    has_config = os.path.exists(os.path.join(out, rundir.CONFIG))
    if os.path.isdir(out) and not stats.get(f"resume refused, config {has_config}"):
        code, err = finish(["train", "--resume", out, "--quiet"])
        lines = err.strip().splitlines()
        expected = "holds no checkpoint to resume from" if has_config else "not a run folder"
        assert code == 2 and len(lines) == 1 and expected in lines[0], err
        stats[f"resume refused, config {has_config}"] = 1
    return train_args(data) + ["--out", out]


def test_sigkill_at_random_moments_never_loses_the_model(data, reference, tmp_path):
    ref_folder, snapshots, epoch_seconds = reference
    out = str(tmp_path / "run")
    rng = np.random.default_rng(2024)
    stats = {"kills": 0, "mid-write": 0, "finished": 0, "checkpoint epochs seen": set()}
    # first a kill before any epoch, then one at the first checkpoint (which times the
    # start-up), then random delays and kills at the writes, then one after the last epoch
    schedule = ["config", "checkpoint"] + [TARGETS[i % len(TARGETS)] for i in range(KILLS)]
    startup = None
    for target in schedule[:KILLS] + ["curves"]:   # curves.png: after the last epoch
        if target == "curves":   # to the end, then a resume that only saves, killed
            code, err = finish(restart_args(data, out, stats))   # a kill may precede epoch 1
            assert code == 0, err
        proc = start(restart_args(data, out, stats))
        # random kills: from late in the start-up to some 8 epochs into the training
        delay = rng.uniform(0.6, 1.0) * (startup or 1.0) + rng.uniform(0, 8) * epoch_seconds
        seconds, mid_write = kill_when(proc, out, target, delay)
        if target == "checkpoint" and startup is None:
            startup = seconds
        stats["finished"] += proc.returncode == 0
        stats["kills"] += proc.returncode == -signal.SIGKILL
        stats["mid-write"] += mid_write
        stats["checkpoint epochs seen"].add(check_folder(out, snapshots))
    assert check_folder(out, snapshots) == EPOCHS
    code, err = finish(train_args(data) + ["--resume", out])
    assert code == 0, err
    net, meta, _ = load_run(out)
    assert meta["epoch"] == EPOCHS and same(net.params, snapshots[EPOCHS])
    assert same(net.params, load_run(ref_folder)[0].params)
    assert history(out) == history(ref_folder)
    assert temporaries(out) == []   # the next training cleans up after a killed one
    STATS.update(stats, **{"checkpoint epochs seen": len(stats["checkpoint epochs seen"])})
    print(f"\ncrash safety: {STATS}")
    assert stats["kills"] >= KILLS // 2 and stats["mid-write"] >= 3


def test_a_folder_killed_before_its_first_checkpoint_is_reusable(data, tmp_path, capsys):
    out = tmp_path / "early"
    assert main(train_args(data, epochs=1) + ["--out", str(out)]) == 0
    os.unlink(out / rundir.CHECKPOINT)   # as a kill between config.json and epoch 1 leaves it
    (out / ".checkpoint.safetensors.abc123.tmp").write_bytes(b"half a checkpoint")
    (out / ".notes.txt.abc123.tmp").write_bytes(b"not ours")   # kept: not a training file
    assert main(["train", "--resume", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no checkpoint to resume from" in err[0]
    assert f"start again with --out {out}" in err[0]
    assert main(train_args(data, epochs=1) + ["--out", str(out)]) == 0
    assert os.listdir(out).count(rundir.CHECKPOINT) == 1
    assert temporaries(out) == [".notes.txt.abc123.tmp"]


def test_a_second_process_on_the_same_folder_is_refused(data, tmp_path):
    out = str(tmp_path / "busy")
    first = start(train_args(data, epochs=100_000) + ["--out", out])
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(out, rundir.CHECKPOINT)):
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
            time.sleep(0.01)
        code, err = finish(["train", "--resume", out, "--quiet"])
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and f"another training is running in {out}" \
            in lines[0], err
        code, err = finish(train_args(data) + ["--out", out])
        assert code == 2 and "already holds a run; continue it with --resume" in err
        assert first.poll() is None, "the running training must not be disturbed"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # a killed holder leaves no stale lock: the folder can be resumed (and ended) at once
    code, err = finish(["train", "--resume", out, "--epochs", "1", "--quiet"])
    assert code == 0, err
