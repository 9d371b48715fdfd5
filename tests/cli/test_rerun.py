"""``manualnn train --config RUN_DIR/config.json``: a recorded run again, options given on
the command line first; and the line ``train`` says when no curves.png can be drawn."""

import builtins
import json

import pytest

from manualnn.cli import main
from manualnn.io.rundir import read_history

BASE = ["train", "--dataset", "digits", "--hidden", "16", "--epochs", "2", "--lr", "0.01",
        "--batch-size", "64", "--quiet", "--threads", "1"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("rerun") / "first"
    assert main([*BASE, "--out", str(out)]) == 0
    return out


def config_of(run):
    return json.loads((run / "config.json").read_text())


def losses(run):
    return [(r["train_loss"], r["val_loss"], r["test_loss"]) for r in read_history(run)]


def test_a_recorded_run_runs_again_bit_for_bit(recorded, tmp_path, capsys):
    again = tmp_path / "again"
    assert main(["train", "--config", str(recorded / "config.json"), "--out", str(again),
                 "--quiet"]) == 0
    assert capsys.readouterr().out.endswith(f"run folder: {again}\n")
    assert {**config_of(recorded), "out": None} == {**config_of(again), "out": None}
    assert losses(again) == losses(recorded)
    assert (again / "model.safetensors").read_bytes() == (recorded / "model.safetensors") \
        .read_bytes()


def test_options_given_override_the_file(recorded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # no --out: a new runs/digits-<time>, not the recorded one
    assert main(["train", "--config", str(recorded), "--epochs", "3", "--lr", "0.02",
                 "--layers", "64,8,10", "--no-shuffle", "--quiet"]) == 0
    (new,) = (tmp_path / "runs").iterdir()
    config = config_of(new)
    assert new.name.startswith("digits-") and config["out"] == f"runs/{new.name}"
    assert (config["epochs"], config["lr"], config["layers"], config["hidden"],
            config["shuffle"]) == (3, 0.02, [64, 8, 10], [8], False)
    same = {k: v for k, v in config_of(recorded).items()
            if k not in ("epochs", "lr", "layers", "hidden", "shuffle", "out")}
    assert same == {k: config[k] for k in same}
    assert len(read_history(new)) == 3


def test_hidden_given_replaces_recorded_layers(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main([*BASE[:3], *BASE[5:], "--layers", "64,12,10", "--out", str(first)]) == 0
    assert main(["train", "--config", str(first), "--hidden", "20", "--out", str(second),
                 "--quiet"]) == 0
    assert (config_of(second)["layers"], config_of(second)["hidden"]) == (None, [20])


def test_what_is_of_this_machine_never_comes_from_the_file(tmp_path, capsys):
    config = {"dataset": "digits", "hidden": [8], "epochs": 1, "download": True,
              "max_memory": 1, "out": str(tmp_path / "taken")}
    (tmp_path / "c.json").write_text(json.dumps(config))
    assert main(["train", "--config", str(tmp_path / "c.json"), "--out", str(tmp_path / "n"),
                 "--quiet"]) == 0   # max_memory 1 byte would refuse it; download is off
    written = config_of(tmp_path / "n")
    assert (written["download"], written["max_memory"]) == (False, None)
    assert not (tmp_path / "taken").exists()


@pytest.mark.parametrize("content, message", [
    (None, "no such regular file"),
    ("[1, 2]", "expected a JSON object of options"),
    ('{"dataset": "digits", "colour": 3}', "unknown options ['colour']"),
    ('{"dataset": "digits", "lr": -1}', "lr: expected a value in (0, inf], got -1"),
    ("{nope", "c.json"),
])
def test_a_bad_config_is_one_line(content, message, tmp_path, capsys):
    if content is not None:
        (tmp_path / "c.json").write_text(content)
    assert main(["train", "--config", str(tmp_path / "c.json"), "--out",
                 str(tmp_path / "n")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "n").exists()


def test_config_and_resume_together_are_refused(recorded, capsys):
    assert main(["train", "--config", str(recorded), "--resume", str(recorded)]) == 2
    assert "not both" in capsys.readouterr().err


def test_without_matplotlib_train_says_where_the_curves_would_be(tmp_path, capsys,
                                                                 monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    out = tmp_path / "run"
    assert main([*BASE[:-3], "--threads", "1", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    said = [line for line in lines if "curves.png" in line]
    expected = (f"(no {out / 'curves.png'}: drawing the learning curves needs "
                "matplotlib, pip install 'manualnn[plot]')")
    assert said == [expected]
    assert not (out / "curves.png").exists()
