"""``manualnn predict`` against what issue 25 found (items 4 and 11): an --output that
would replace a run's own file, a link or a FIFO, and a picture too big to decode."""

import os

import numpy as np
import pytest

from cli_helpers import one_line
from manualnn.cli import main, predict
from manualnn.io.rundir import load_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run on digits (8 x 8 pictures) and an input file for it."""
    base = tmp_path_factory.mktemp("predict")
    assert main(["train", "--dataset", "digits", "--hidden", "4", "--epochs", "1",
                 "--out", str(base / "run"), "--quiet", "--threads", "1"]) == 0
    np.save(base / "x.npy", np.zeros((2, 64)))
    return base


@pytest.mark.parametrize("name", ["model.json", "config.json", "history.csv"])
def test_an_output_that_is_the_runs_own_file_is_refused(run, capsys, name):
    target = run / "run" / name
    before = target.read_bytes()
    assert main(["predict", str(run / "run"), str(run / "x.npy"), "--output",
                 str(target)]) == 2
    assert "is a file of the run or model folder" in one_line(capsys)
    assert target.read_bytes() == before
    load_run(run / "run")


def test_an_output_that_is_a_link_or_a_fifo_is_refused_and_left(run, tmp_path, capsys):
    link, fifo = tmp_path / "p.csv", tmp_path / "q.csv"
    os.symlink(tmp_path / "elsewhere.csv", link)
    os.mkfifo(fifo)
    for target, said in ((link, "symbolic link"), (fifo, "not a regular file")):
        assert main(["predict", str(run / "run"), str(run / "x.npy"), "--output",
                     str(target)]) == 2
        assert said in one_line(capsys)
    assert os.path.islink(link) and not os.path.exists(tmp_path / "elsewhere.csv")
    assert os.path.exists(fifo) and not os.path.isfile(fifo)


def test_a_picture_too_big_to_decode_says_what_helps(run, tmp_path, capsys, monkeypatch):
    """A 67,108,864 x 1 PNG is within the pixel limit; where the memory to decode it is
    missing, --max-memory (which chunks the network's rows) cannot help."""
    from PIL import Image
    Image.new("L", (1 << 16, 1)).save(tmp_path / "wide.png")

    def out_of_memory(*args):
        raise MemoryError()
    monkeypatch.setattr(predict, "_grey_levels", out_of_memory)
    assert main(["predict", str(run / "run"), str(tmp_path / "wide.png")]) == 2
    line = one_line(capsys)
    assert "wide.png" in line and "65536x1 pixels" in line and "smaller picture" in line
    assert "--max-memory" not in line
