"""docs/lecture.ipynb runs, top to bottom, in a kernel of this Python (nbclient), on a
small slice of the training data; its hand-written gradients agree with finite
differences and with manualnn's engine, or a cell raises and the test fails."""

import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs the test extra")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs the test extra")
pytest.importorskip("ipykernel", reason="the notebook test needs ipykernel (test extra)")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "docs" / "lecture.ipynb"


def execute(nb, tmp_path, monkeypatch):
    # the parameter cell reads these: 2000 training rows, 2 epochs (the kernel inherits them)
    monkeypatch.setenv("MANUALNN_NOTEBOOK_ROWS", "2000")
    monkeypatch.setenv("MANUALNN_NOTEBOOK_EPOCHS", "2")
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for out in cell.outputs)


def test_the_lecture_notebook_runs_and_its_gradients_agree(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = execute(nb, tmp_path, monkeypatch)
    fd = re.search(r"relative error  dW1 (\S+)   dW2 (\S+)", text)
    assert fd and max(float(fd[1]), float(fd[2])) < 1e-7
    deep = re.search(r"relative errors against finite differences: (.*)", text)
    assert deep and max(float(v) for v in deep[1].split(", ")) < 1e-6
    engine = re.search(r"largest relative difference, hand vs manualnn: (\S+)", text)
    assert engine and float(engine[1]) < 1e-14
    assert "every gradient equal bit for bit" in text
    # the slice: 2000 rows of Fashion-MNIST, or all of digits' training split where
    # Debian's dataset-fashion-mnist is not installed (digits has fewer than 2000)
    rows = re.search(r"(\S+): train \((\d+), ", text)
    assert rows and (int(rows[2]) == 2000 or (rows[1] == "digits" and int(rows[2]) < 2000))
    # the exercise section: a deliberately wrong backprop named, then the fixed one correct
    assert "backprop: mistake sigma_prime_of_output (layer 2)" in text
    assert "backprop: correct" in text and "全部 4 个探针都正确" in text
    pictures = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
                if "image/png" in out.get("data", {})]
    assert len(pictures) == 1   # the learning curves


def test_a_wrong_hand_gradient_makes_the_notebook_fail(tmp_path, monkeypatch):
    """The checks can fail: drop relu' from the hand-written dW1 and a cell raises."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in nb.cells if "def grads_two_layer" in c.source]
    cell.source = cell.source.replace("((A > 0) * (G @ W2.T))", "(G @ W2.T)")
    assert "(A > 0)" not in cell.source
    with pytest.raises(nbclient.exceptions.CellExecutionError,
                       match="disagree with finite differences"):
        execute(nb, tmp_path, monkeypatch)
