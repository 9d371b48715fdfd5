"""Run folders held against an adversary (issue 18): divergence on an epoch's last step,
folders that hold no run, links and special files, tampered checkpoints, an edited
config.json, and a reader racing a training's saves."""

import json
import multiprocessing
import os
import shutil
import signal
import string
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import one_line, write_blobs
from manualnn.cli import main
from manualnn.io import rundir, serialize
from manualnn.io.rundir import load_run

FOLDER_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("blobs") / "blobs.npz"
    write_blobs(path, 400, 6, train=300)
    return path


def train_args(data, *extra):
    return ["train", "--dataset", str(data), "--hidden", "8", "--epochs", "2",
            "--batch-size", "100", "--threads", "1", "--quiet", *extra]


@pytest.fixture(scope="module")
def template(data, tmp_path_factory):
    """A finished two-epoch run, copied by each test that spoils it."""
    out = tmp_path_factory.mktemp("template") / "run"
    assert main(train_args(data, "--out", str(out))) == 0
    return out


@pytest.fixture
def run(template, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(template, out)
    return out


class _Hung(Exception):
    pass


def within(seconds, call):
    """call(), or _Hung after ``seconds``: a FIFO must not block a reader."""
    def ring(signum, frame):
        raise _Hung
    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        return call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# -- 1: divergence on an epoch's last step ------------------------------------------------
@pytest.mark.parametrize("gamma", ["1e45", "1e37"])   # weights overflow / outputs overflow
def test_divergence_on_an_epochs_last_step_keeps_the_last_good_model(data, tmp_path, capsys,
                                                                     gamma):
    out = tmp_path / "div"
    # one batch per epoch: epoch 2's only loss is finite (computed before its update), and
    # the update at lr 0.01 x gamma spoils the weights (1e45) or the outputs (1e37)
    args = ["train", "--dataset", str(data), "--hidden", "16", "--epochs", "3", "--optimizer",
            "sgd", "--momentum", "0", "--lr", "0.01", "--schedule", "step", "--step-size",
            "1", "--gamma", gamma, "--warmup-epochs", "0", "--batch-size", "100000",
            "--quiet"]
    assert main([*args, "--out", str(out)]) == 2
    line = one_line(capsys)
    assert "training diverged" in line and "epoch 2" in line, line
    assert "the last completed epoch is 1" in line, line
    net, meta, _ = load_run(out)
    assert meta["epoch"] == 1 and all(np.isfinite(p).all() for p in net.params)
    assert main(["evaluate", str(out)]) == 0
    assert "nan" not in capsys.readouterr().out
    # the checkpoint is whole: a resume reaches the same divergence, not a file error
    assert main(["train", "--resume", str(out), "--quiet"]) == 2
    assert "training diverged" in one_line(capsys)
    assert main(["train", "--resume", str(out), "--epochs", "1", "--quiet"]) == 0


# -- 2: --out on a folder that holds no run of ours ---------------------------------------
OTHER_FILES = st.lists(st.sampled_from(["config.json", "history.csv", "notes.txt", "model.json",
                                        "model.safetensors", "data.npz", ".hidden", "curves.png"]),
                       min_size=1, max_size=4, unique=True)


@FOLDER_SETTINGS
@given(names=OTHER_FILES, text=st.text(string.ascii_letters, max_size=20))
def test_out_refuses_a_folder_that_holds_no_run_and_names_its_files(data, tmp_path, capsys,
                                                                     names, text):
    folder = tmp_path / f"mine-{len(os.listdir(tmp_path))}"
    folder.mkdir()
    for name in names:   # the user's own files, a config.json that is not one of ours
        (folder / name).write_text(json.dumps({"note": text}) if name.endswith("json") else text)
    before = {n: (folder / n).read_bytes() for n in names}
    capsys.readouterr()
    assert main(train_args(data, "--out", str(folder))) == 2
    line = one_line(capsys)
    assert "is not empty and holds no unfinished run" in line and names[0] in line, line
    assert {n: (folder / n).read_bytes() for n in os.listdir(folder)} == before


def test_out_refuses_a_model_saved_by_the_estimator(data, tmp_path, capsys):
    from manualnn.core.network import MLP
    folder = tmp_path / "estimator"
    serialize.save_model(folder, MLP([6, 4, 3], rng=0), {"classes": [0, 1, 2]})
    before = sorted(os.listdir(folder))
    assert main(train_args(data, "--out", str(folder))) == 2
    assert "model.json" in one_line(capsys)
    assert sorted(os.listdir(folder)) == before


def test_out_takes_an_empty_folder_and_one_of_ours_left_before_its_first_checkpoint(
        data, run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(train_args(data, "--out", str(empty))) == 0
    os.unlink(run / rundir.CHECKPOINT)   # as a kill before the first checkpoint leaves it
    assert main(train_args(data, "--out", str(run))) == 0


# -- 3: links and special files -----------------------------------------------------------
FIXED_NAMES = ["model.json", "model.safetensors", "config.json", "checkpoint.safetensors"]
COMMANDS = {"evaluate": lambda run: ["evaluate", str(run)],
            "predict": lambda run: ["predict", str(run), str(run.parent / "x.npy")],
            "resume": lambda run: ["train", "--resume", str(run), "--epochs", "3", "--quiet"]}


READS = {"evaluate": {"model.json", "model.safetensors", "config.json"},
         "predict": {"model.json", "model.safetensors"},
         "resume": {"config.json", "checkpoint.safetensors"}}


def spoil(path, kind, outside):
    """Replace ``path`` by a FIFO, a link outside the folder (to a copy of the file, or to
    a FIFO) or a folder."""
    shutil.copy(path, outside / path.name)
    os.unlink(path)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link":
        os.symlink(outside / path.name, path)
    elif kind == "link to fifo":
        os.mkfifo(outside / f"{path.name}.fifo")
        os.symlink(outside / f"{path.name}.fifo", path)
    else:
        path.mkdir()


@FOLDER_SETTINGS
@given(name=st.sampled_from(FIXED_NAMES), kind=st.sampled_from(["fifo", "link", "link to fifo",
                                                                 "folder"]),
       command=st.sampled_from(sorted(COMMANDS)))
def test_special_files_and_links_in_a_run_folder_are_refused_without_hanging(
        template, tmp_path, capsys, name, kind, command):
    base = tmp_path / f"case-{len(os.listdir(tmp_path))}"
    shutil.copytree(template, base / "run")
    (base / "outside").mkdir()
    np.save(base / "x.npy", np.zeros((2, 6)))
    run = base / "run"
    spoil(run / name, kind, base / "outside")
    before = {n: (base / "outside" / n).read_bytes() for n in os.listdir(base / "outside")
              if not n.endswith(".fifo")}
    capsys.readouterr()
    code = within(20, lambda: main(COMMANDS[command](run)))
    after = {n: (base / "outside" / n).read_bytes() for n in before}
    assert after == before, "a file outside the run folder was written"
    if name not in READS[command]:   # a file the command replaces (resume) or never reads
        assert code == 0 or code == 2 and one_line(capsys)
        return
    assert code == 2, command
    line = one_line(capsys)
    assert name in line and ("symbolic link" in line or "regular file" in line
                             or "no checkpoint" in line), line


def test_a_lock_that_is_a_link_is_refused_and_its_target_not_made(data, tmp_path, capsys):
    folder, target = tmp_path / "run", tmp_path / "elsewhere" / "made-by-train"
    folder.mkdir()
    target.parent.mkdir()
    os.symlink(target, folder / ".lock")
    assert main(train_args(data, "--out", str(folder))) == 2
    assert "symbolic link" in one_line(capsys)
    assert not target.exists()


# -- 4: tampered checkpoints --------------------------------------------------------------
BAD_VALUES = {
    "epoch": st.sampled_from([-1, True, 2.0, "2", None, 2 ** 200]),
    "history": st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=3),
                         st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                         st.just([{"lr": 0.1}, {"lr": 0.1}])),
    "history.row": st.sampled_from(["epoch", "lr", "train_loss"]),
    "history.value": st.sampled_from(["x", [1], {"a": 1}, True, 10 ** 400]),
    "shuffle_rng": st.sampled_from([-1, 2 ** 200, "x", 1.5]),
    "dropout_rng": st.sampled_from([-5, 2 ** 128, None]),
    "rng.name": st.sampled_from(["MT19937", "", 3]),
    "best_loss": st.sampled_from(["x", [1.0], True, {}]),
    "bad_epochs": st.sampled_from([-1, "0", 0.5, None]),
    "stopped_early": st.sampled_from([0, 1, "no", None]),
    "optimizer": st.sampled_from([[], "adamw", 3]),
    "config": st.sampled_from([[], "x"]),
}


def tamper(info, field, value):
    if field == "history.row":
        del info["history"][0][value]
    elif field == "history.value":
        info["history"][1]["train_loss"] = value
    elif field in ("shuffle_rng", "dropout_rng"):
        info[field]["state"]["state"] = value
    elif field == "rng.name":
        info["shuffle_rng"]["bit_generator"] = value
    else:
        info[field] = value


@FOLDER_SETTINGS
@given(st.sampled_from(sorted(BAD_VALUES)).flatmap(
    lambda f: st.tuples(st.just(f), BAD_VALUES[f])))
def test_a_tampered_checkpoint_is_one_line_and_exit_2(template, tmp_path, capsys, case):
    field, value = case
    run = tmp_path / f"run-{len(os.listdir(tmp_path))}"
    shutil.copytree(template, run)
    path = run / rundir.CHECKPOINT
    tensors, info = serialize.load_arrays(path)
    tamper(info, field, value)
    serialize.save_arrays(path, tensors, info)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 2
    line = one_line(capsys)
    assert "checkpoint.safetensors" in line, line


def test_a_checkpoint_with_foreign_arrays_is_refused(run, capsys):
    path = run / rundir.CHECKPOINT
    tensors, info = serialize.load_arrays(path)
    tensors["param.W9"] = np.zeros(3, np.float32)
    serialize.save_arrays(path, tensors, info)
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 2
    assert "param.W9" in one_line(capsys)


# -- 7: config.json edited before a resume --------------------------------------------------
EDITS = {"activation": st.sampled_from(["tanh", "sigmoid", "gelu"]),
         "loss": st.sampled_from(["mse", "binary_cross_entropy"]),
         "seed": st.integers(1, 2 ** 40), "bias": st.just(False),
         "label_smoothing": st.floats(0.0, 0.05), "preprocess": st.sampled_from(["scale", "none"]),
         "init": st.sampled_from(["he_normal", "glorot_uniform"]), "val_fraction": st.floats(0.2, 0.5),
         "shuffle": st.just(False), "dropout": st.floats(0.3, 0.9)}


@FOLDER_SETTINGS
@given(st.sampled_from(sorted(EDITS)).flatmap(lambda f: st.tuples(st.just(f), EDITS[f])))
def test_a_resume_refuses_a_config_json_edited_in_any_field_the_checkpoint_fixes(
        template, tmp_path, capsys, edit):
    field, value = edit
    run = tmp_path / f"run-{len(os.listdir(tmp_path))}"
    shutil.copytree(template, run)
    config = json.loads((run / "config.json").read_text())
    if config[field] == value:
        return
    config[field] = value
    (run / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 2
    line = one_line(capsys)
    assert "differs from what its checkpoint was trained with" in line and field in line, line


def test_a_resume_still_takes_an_unedited_config_json(run):
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 0
    assert serialize.load_model(run)[1]["epoch"] == 3


# -- 8: a reader racing a training's saves ------------------------------------------------
def _saver(folder, stop):
    """Save models of alternating architectures and epochs until told to stop, as a
    training's save_epoch does."""
    from manualnn.core.network import MLP
    nets = [MLP([6, 8, 3], rng=0), MLP([6, 8, 3], "tanh", rng=1)]
    epoch = 0
    while not stop.is_set():
        epoch += 1
        serialize.save_model(folder, nets[epoch % 2], {"classes": [0, 1, 2], "epoch": epoch})


def test_load_run_always_sees_one_consistent_model_while_a_training_saves(tmp_path):
    from manualnn.core.network import MLP
    folder = tmp_path / "live"
    serialize.save_model(folder, MLP([6, 8, 3], rng=0), {"classes": [0, 1, 2], "epoch": 0})
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    writer = ctx.Process(target=_saver, args=(str(folder), stop))
    writer.start()
    failures, epochs = [], set()
    try:
        started = time.monotonic()
        while serialize.load_model(folder)[1]["epoch"] == 0:   # the writer's start-up
            assert time.monotonic() - started < 120, "the writer never saved"
        for _ in range(2500):
            try:
                net, meta, _ = load_run(folder)
            except Exception as exc:  # noqa: BLE001  (any failure is what is counted)
                failures.append(str(exc))
                continue
            epochs.add(meta["epoch"])
            # the pair is one save's: epoch parity fixes the activation
            assert net.activations[0].name == ("tanh" if meta["epoch"] % 2 else "relu")
    finally:
        stop.set()
        writer.join(30)
    assert not failures, f"{len(failures)} failures, e.g. {failures[0]}"
    assert len(epochs) > 10, "the writer did not overlap the reads"
