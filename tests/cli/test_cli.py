"""The ``manualnn`` command end to end, and every way it refuses bad input."""

import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from manualnn.cli import main
from manualnn.data.files import write_idx

FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A tiny Fashion-MNIST look-alike (12x12 images, 10 classes) in IDX files."""
    folder = tmp_path_factory.mktemp("fashion")
    rng = np.random.default_rng(0)
    protos = rng.integers(0, 256, (10, 12, 12))
    for split, n in (("train", 400), ("t10k", 100)):
        y = np.arange(n) % 10
        X = np.clip(protos[y] + rng.normal(scale=40, size=(n, 12, 12)), 0, 255)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", X.astype(np.uint8), gzip=True)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", y.astype(np.uint8), gzip=True)
    return folder, protos


@pytest.fixture(scope="module")
def trained(images, tmp_path_factory):
    folder, _ = images
    out = tmp_path_factory.mktemp("runs") / "run"
    code = main(["train", "--data-dir", str(folder), "--hidden", "32", "--epochs", "3",
                 "--batch-size", "50", "--lr", "0.01", "--out", str(out), "--quiet"])
    assert code == 0
    return str(out)


def run_cli(*args, cwd=None):
    """The real command in a subprocess: exit status, stdout, stderr."""
    proc = subprocess.run([sys.executable, "-m", "manualnn", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_train_prints_the_table_and_the_result(images, tmp_path, capsys):
    folder, _ = images
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(folder), "--hidden", "16", "--epochs", "2",
                 "--out", str(out), "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "| Epoch | Train Loss | Train Err | Val Loss | Val Err | Test Loss" in text
    assert "test accuracy" in text and f"run folder: {out}" in text
    assert json.loads((out / "config.json").read_text())["hidden"] == [16]


def test_resume_continues_a_run(images, tmp_path, capsys):
    folder, _ = images
    out = tmp_path / "run"
    args = ["train", "--data-dir", str(folder), "--hidden", "8", "--out", str(out), "--quiet"]
    assert main(args + ["--epochs", "1"]) == 0
    assert main(["train", "--resume", str(out), "--epochs", "3", "--quiet"]) == 0
    assert len((out / "history.csv").read_text().splitlines()) == 1 + 3


def test_evaluate_reports_accuracy_and_confusion(trained, capsys):
    assert main(["evaluate", trained, "--plot"]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "confusion matrix" in text
    assert "T-shirt/top" in text   # Fashion-MNIST's class names
    assert os.path.isfile(os.path.join(trained, "confusion.png"))


def test_predict_arrays_and_images(trained, images, tmp_path, capsys):
    from PIL import Image
    _, protos = images
    np.save(tmp_path / "x.npy", protos.reshape(10, -1).astype(np.float32))
    assert main(["predict", trained, str(tmp_path / "x.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("input,label,p_T-shirt/top") and len(lines) == 11
    for i in (3, 7):
        Image.fromarray(protos[i].astype(np.uint8)).resize((24, 24)).save(tmp_path / f"{i}.png")
    out = tmp_path / "pred.json"
    assert main(["predict", trained, str(tmp_path / "3.png"), str(tmp_path / "7.png"),
                 "--output", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["input"] for r in rows] == [str(tmp_path / "3.png"), str(tmp_path / "7.png")]
    assert all(abs(sum(v for k, v in r.items() if k.startswith("p_")) - 1) < 1e-4
               for r in rows)


def test_gradcheck_prints_a_table(capsys):
    assert main(["gradcheck", "--hidden", "6,5", "--activation", "tanh", "--inputs", "4",
                 "--classes", "3"]) == 0
    text = capsys.readouterr().out
    assert "W1" in text and "b3" in text and text.strip().splitlines()[-1].startswith("OK")


def test_gradcheck_says_when_an_array_could_not_be_checked(capsys, monkeypatch):
    gradcheck = importlib.import_module("manualnn.core.gradcheck")   # the module, not the function

    def none_checked(net, *args, skipped, **kwargs):
        skipped.update({name: p.size for name, p in zip(net.param_names, net.params)})
        return {name: (float("nan") if name == "W1" else 0.0) for name in net.param_names}

    monkeypatch.setattr(gradcheck, "gradcheck", none_checked)
    assert main(["gradcheck", "--hidden", "3", "--inputs", "2", "--classes", "2"]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "UNCHECKED: every sampled entry of W1 straddles a kink")


@pytest.mark.parametrize("argv, hint", [
    (["train", "--dataset", "digits"], "lower --batch-size or the widths"),
    (["evaluate", "runs/x"], "--max-memory to evaluate in smaller chunks"),
    (["predict", "runs/x", "a.npy"], "--max-memory to predict in smaller chunks"),
])
def test_out_of_memory_is_one_line_with_a_hint_for_the_command(argv, hint, capsys,
                                                                monkeypatch):
    from manualnn.cli import commands

    def exhausted(args):
        raise MemoryError("Unable to allocate 8.0 GiB")

    monkeypatch.setattr(commands, argv[0], exhausted)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("manualnn: error: out of memory (Unable to allocate 8.0 GiB)")
    assert hint in err and "\n" not in err


@pytest.mark.parametrize("text, message", [
    ('{"epochs": 3, "epochs": 5}', "config.json: file is not valid JSON (duplicate key"),
    ('{"epochs": NaN}', "config.json: file is not valid JSON (NaN is not JSON"),
    ("[1, 2]", "config.json: expected a JSON object"),
])
def test_resume_reads_config_json_as_strict_json(text, message, tmp_path, capsys):
    (tmp_path / "config.json").write_text(text)
    assert main(["train", "--resume", str(tmp_path), "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_explain_gives_every_shape(capsys):
    assert main(["explain", "--layers", "784,400,10", "--no-bias", "--batch-size", "100"]) == 0
    text = capsys.readouterr().out
    assert "Z_2 = relu(Z_1 W_1)" in text and "(100, 784) x (784, 400) -> (100, 400)" in text
    assert "grad W_1 = Z_1^T D_1" in text and "(784, 100) x (100, 400) -> (784, 400)" in text
    assert "G_3 = (S - I_y) / m" in text and "G_2 = D_2 W_2^T" in text


def test_python_dash_m_works_and_errors_are_one_line(tmp_path):
    code, out, err = run_cli("explain", "--layers", "4,3")
    assert code == 0 and "Z_2 = identity(Z_1 W_1 + b_1)" in out
    code, out, err = run_cli("train", "--dataset", "imagenet", "--out", str(tmp_path / "r"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "imagenet" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()   # a run that wrote nothing leaves no folder behind
    (tmp_path / "mine").mkdir()            # but a folder the user made stays
    assert run_cli("train", "--dataset", "imagenet", "--out", str(tmp_path / "mine"))[0] == 2
    assert os.listdir(tmp_path / "mine") == [".lock"]


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "nope"], "got 'nope'"),
    (["train", "--epochs", "0"], "epochs: expected a value in [1, 1000000000]"),
    (["train", "--epochs", "ten"], "--epochs: expected an integer, got 'ten'"),
    (["train", "--lr", "-1"], "lr: expected a value in (0, inf]"),
    (["train", "--dropout", "1.5"], "dropout: expected a value in [0, 1)"),
    (["train", "--hidden", "0,3"], "expected positive integers"),
    (["train", "--activation", "swishy"], "got 'swishy'"),
    (["train", "--val-fraction", "2"], "val_fraction: expected a value in [0, 1)"),
    (["train", "--batch-size", "-5"], "batch_size: expected a value in [1, inf]"),
    (["train", "--threads", "0"], "threads: expected a value in [1, inf]"),
    (["train", "--layers", "10,3"], "layers: expected 144 inputs and 10 outputs"),
    (["train", "--resume", "/nonexistent/run"], "not a run folder (no config.json)"),
    (["evaluate", "/nonexistent/run"], "no such file"),
    (["predict", "/nonexistent/run", "x.npy"], "no such file"),
    (["frobnicate"], "command: expected one of train"),
    ([], "the following arguments are required: command"),
])
def test_every_mistake_is_one_line_and_exit_2(images, tmp_path, capsys, args, message):
    folder, _ = images
    if args[:1] == ["train"] and "--resume" not in args:
        args = args + ["--data-dir", str(folder), "--out", str(tmp_path / "r"), "--epochs",
                       "1"] if "--epochs" not in args else args + ["--data-dir", str(folder),
                                                                  "--out", str(tmp_path / "r")]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err


def test_corrupt_and_mismatched_files_are_one_line(trained, tmp_path, capsys):
    import shutil
    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 10)
    (broken / "model.json").unlink()
    np.save(tmp_path / "wide.npy", np.zeros((2, 7)))
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG garbage")
    cases = [(["evaluate", str(broken)], "model.safetensors"),
             (["predict", trained, str(tmp_path / "wide.npy")],
              "the model takes 144 features per row, got 7"),
             (["predict", trained, str(tmp_path / "bad.npy")], "not a readable NumPy file"),
             (["predict", trained, str(tmp_path / "bad.png")], "not a readable image"),
             (["predict", trained, str(tmp_path / "x.txt")], "expected one .npy/.npz file"),
             (["predict", trained, str(tmp_path / "wide.npy"), "--output", "p.xml"],
              "the model takes 144 features")]
    for args, message in cases:
        assert main(args) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, lines)


def test_the_lock_refuses_a_second_training(images, tmp_path, capsys):
    from manualnn.io.rundir import RunDir
    folder, _ = images
    holder = RunDir(tmp_path / "busy")
    try:
        assert main(["train", "--data-dir", str(folder), "--out", str(tmp_path / "busy"),
                     "--epochs", "1"]) == 2
        assert "another training is running in" in capsys.readouterr().err
    finally:
        holder.close()


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")   # 5 iterations on purpose
def test_evaluate_takes_a_model_saved_by_the_estimator(tmp_path, capsys):
    pytest.importorskip("sklearn")
    from manualnn.data.datasets import load_dataset
    from manualnn.sklearn import MLPClassifier
    ds = load_dataset("digits")
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    clf.fit(ds.X_train, ds.y_train).save(tmp_path / "model")
    assert main(["evaluate", str(tmp_path / "model")]) == 2
    assert "not a run folder (no config.json)" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "model"), "--dataset", "digits"]) == 0
    accuracy = float(capsys.readouterr().out.split("accuracy ")[1].split("%")[0]) / 100
    assert accuracy == pytest.approx(clf.score(ds.X_test, ds.y_test), abs=5e-5)  # 2 decimals


@pytest.mark.parametrize("loss, label", [("mse", "mean squared error"),
                                         ("binary_cross_entropy", "binary cross-entropy"),
                                         ("softmax_cross_entropy", "cross-entropy")])
def test_evaluate_reports_the_loss_the_model_was_trained_with(tmp_path, capsys, loss, label):
    pytest.importorskip("sklearn", reason="the digits dataset comes with scikit-learn")
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--hidden", "16", "--epochs", "1",
                 "--loss", loss, "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith(f"{label} ") and "accuracy" in line, line


def _digits_run(tmp_path, *extra):
    pytest.importorskip("sklearn", reason="the digits dataset comes with scikit-learn")
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--hidden", "8", "--epochs", "1",
                 "--batch-size", "1000", "--threads", "1", "--out", str(out), "--quiet",
                 *extra]) == 0
    return out


def test_hidden_and_layers_given_together_are_refused_even_at_the_default(capsys):
    assert main(["train", "--hidden", "512,256", "--layers", "64,32,10", "--quiet"]) == 2
    assert "give either --layers or --hidden, not both" in capsys.readouterr().err


def test_a_resume_refuses_options_it_cannot_honour_and_names_them(tmp_path, capsys):
    out = _digits_run(tmp_path)
    capsys.readouterr()
    argv = ["train", "--resume", str(out), "--lr", "0.5", "--hidden", "999", "--dataset",
            "mnist", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--dataset, --hidden, --lr would change a run" in err
    # the same values as the run's change nothing, and are accepted
    assert main(["train", "--resume", str(out), "--dataset", "digits", "--hidden", "8",
                 "--epochs", "2", "--quiet"]) == 0


def test_a_resume_honours_an_epoch_count_equal_to_the_default(tmp_path):
    from manualnn.io.serialize import load_model
    out = _digits_run(tmp_path)
    assert main(["train", "--resume", str(out), "--epochs", "30", "--quiet"]) == 0
    assert load_model(out)[1]["epoch"] == 30


def test_a_resume_keeps_the_runs_threads_unless_told_and_then_says_so(tmp_path, capsys,
                                                                      monkeypatch):
    from manualnn.cli import commands
    out = _digits_run(tmp_path)
    seen = []
    real = commands.limit_threads
    monkeypatch.setattr(commands, "limit_threads", lambda n: seen.append(n) or real(n))
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--epochs", "2", "--quiet"]) == 0
    assert seen == [1] and "--threads" not in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--epochs", "3", "--threads", "2",
                 "--quiet"]) == 0
    assert seen == [1, 2]
    assert "resume: --threads 2 instead of the run's 1" in capsys.readouterr().err


def test_options_are_not_abbreviated(capsys):
    assert main(["train", "--epo", "3", "--quiet"]) == 2
    assert "unrecognized arguments: --epo" in capsys.readouterr().err
