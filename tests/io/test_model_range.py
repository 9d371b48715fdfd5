"""A model whose numbers overflow its dtype is refused at load, by every command (issue 25,
item 7): preprocessing of 1e-300 or 1e300 in a float32 model, weights of 3e38."""

import shutil

import numpy as np
import pytest

from cli_helpers import one_line
from manualnn.cli import main
from manualnn.io.serialize import load_model, save_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("range")
    assert main(["train", "--dataset", "digits", "--hidden", "4", "--epochs", "1",
                 "--out", str(base / "run"), "--quiet", "--threads", "1"]) == 0
    np.save(base / "x.npy", np.full((2, 64), 8.0))
    return base


def tampered(trained, tmp_path, array=None, value=None, weight=None):
    """A copy of the run with preprocess.``array`` set to ``value``, or W_1 to ``weight``."""
    run = tmp_path / "run"
    shutil.copytree(trained / "run", run)
    net, meta, arrays = load_model(run)
    if array is not None:
        arrays[f"preprocess.{array}"] = np.full_like(arrays[f"preprocess.{array}"], value)
    if weight is not None:
        net.W[0][...] = weight
    save_model(run, net, meta, arrays)
    return run


@pytest.mark.parametrize("array, value, weight, said", [
    ("scale", 1e-300, None, "preprocessing (standardize) overflows float32"),
    ("shift", 1e300, None, "preprocessing (standardize) overflows float32"),
    (None, None, 3e38, "outputs overflow float32")])
def test_every_command_refuses_a_model_that_overflows_its_dtype(trained, tmp_path, capsys,
                                                                array, value, weight, said):
    run = tampered(trained, tmp_path, array, value, weight)
    for command in (["export", str(run), str(tmp_path / "m.onnx")],
                    ["predict", str(run), str(trained / "x.npy")],
                    ["evaluate", str(run)]):
        assert main(command) == 2, command
        assert said in one_line(capsys), command
    assert not (tmp_path / "m.onnx").exists()


def test_the_untouched_model_loads_for_every_command(trained, tmp_path, capsys):
    run = tampered(trained, tmp_path)
    assert main(["predict", str(run), str(trained / "x.npy")]) == 0
    assert main(["export", str(run), str(tmp_path / "m.onnx")]) == 0


def test_outputs_that_overflow_inside_the_range_are_still_refused_when_computed():
    """The load probes three inputs; predict and evaluate check every output they make."""
    from manualnn.checks import DataError
    from manualnn.cli.evaluation import check_outputs
    with pytest.raises(DataError, match="NaN or infinite for 1 of 2 rows"):
        check_outputs(np.array([[0.0, 1.0], [np.inf, 0.0]], np.float32), "run")
