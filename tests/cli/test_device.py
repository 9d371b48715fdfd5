"""--device on train, evaluate and predict: cpu runs, cuda runs where CuPy and a GPU are,
and says in one line what is missing where they are not (exit 2, no traceback)."""

import numpy as np
import pytest

from backends import REASONS
from manualnn.backend import cuda_missing
from manualnn.cli import main

NO_GPU = REASONS["cupy"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("device") / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--hidden", "16", "--quiet",
                 "--device", "cpu", "--out", str(out)]) == 0
    return out


@pytest.mark.skipif(not NO_GPU, reason="CuPy and a GPU are here: --device cuda runs")
@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_device_cuda_without_a_gpu_is_one_line_and_exit_2(command, run_dir, tmp_path,
                                                          capsys):
    X = tmp_path / "X.npy"
    np.save(X, np.zeros((2, 64)))
    argv = {"train": ["train", "--dataset", "digits", "--out", str(tmp_path / "r")],
            "evaluate": ["evaluate", str(run_dir)],
            "predict": ["predict", str(run_dir), str(X)]}[command]
    capsys.readouterr()
    assert main([*argv, "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("manualnn: error: --device cuda: ") and cuda_missing() in err
    assert not (tmp_path / "r").exists()   # refused before any folder is made


def test_a_run_folder_records_its_device(run_dir):
    import json
    assert json.loads((run_dir / "config.json").read_text())["device"] == "cpu"


@pytest.mark.skipif(bool(NO_GPU), reason=NO_GPU or "")
def test_train_on_cuda_evaluates_the_same_on_cpu(tmp_path, capsys):
    out = tmp_path / "gpu"
    assert main(["train", "--dataset", "digits", "--epochs", "2", "--quiet", "--device",
                 "cuda", "--out", str(out)]) == 0
    gpu = capsys.readouterr().out.splitlines()[0]
    assert main(["evaluate", str(out), "--device", "cpu"]) == 0
    assert gpu.removeprefix("test accuracy ") in capsys.readouterr().out
    assert main(["train", "--resume", str(out), "--epochs", "3", "--device", "cpu",
                 "--quiet"]) == 0   # a GPU's checkpoint resumes on the CPU


@pytest.fixture
def numpy_as_cuda(monkeypatch):
    """--device cuda served by the NumPy backend: the CLI's device logic runs without a GPU."""
    from manualnn.cli import experiment
    monkeypatch.setattr(experiment, "device_backend",
                        lambda device: "numpy" if device == "cuda" else "auto")


def test_a_cuda_checkpoint_resumes_on_the_cpu(numpy_as_cuda, tmp_path, capsys):
    """The device is this machine's, not the run's: a resume may change it
    (docs/guide/devices.md's promise that checkpoints move between devices)."""
    import json
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--hidden", "16", "--quiet",
                 "--device", "cuda", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--epochs", "2", "--device", "cpu",
                 "--quiet"]) == 0, capsys.readouterr().err
    assert json.loads((out / "config.json").read_text())["device"] == "cuda"


def test_a_checkpoint_that_recorded_its_device_still_resumes_elsewhere():
    """Checkpoints written while the device was fixed hold it: it is no longer compared."""
    from manualnn.io.checkpoint import check_config
    check_config({"device": "cuda", "lr": 0.1}, {"lr": 0.1}, "run")
    with pytest.raises(ValueError, match=r"lr 0.2 \(checkpoint: 0.1\)"):
        check_config({"device": "cuda", "lr": 0.1}, {"lr": 0.2}, "run")


class TwoRanks:
    """The communicator of rank 0 of two, as far as the checks before training look."""

    rank, size = 0, 2


def test_device_cuda_over_several_ranks_is_refused_before_training(numpy_as_cuda, tmp_path):
    from manualnn.cli import experiment
    config = {"dataset": "digits", "device": "cuda", "out": str(tmp_path / "run")}
    with pytest.raises(ValueError, match=r"^--device cuda: not over 2 MPI ranks .*--device cpu"):
        experiment.run(config, comm=TwoRanks())
    assert not (tmp_path / "run").exists()


def test_the_data_parallel_step_refuses_a_network_on_a_device():
    """A library user's DataParallelStep over a device network: refused at construction,
    not mid-run (its all-reduce takes NumPy buffers)."""
    from manualnn import MLP, get_loss
    from manualnn.backend.numpy import NumpyBackend
    from manualnn.train.distributed import DataParallelStep
    from manualnn.train.optim import SGD

    class Device(NumpyBackend):   # NumPy standing in for a device backend
        host = False

    net = MLP([4, 3], backend=Device())
    with pytest.raises(TypeError, match="net: DataParallelStep expected a network on NumPy"):
        DataParallelStep(net, get_loss("softmax_cross_entropy"), SGD(net.params, lr=0.1), TwoRanks())
