"""The learner's code is untrusted: an endless loop, a raise, sys.exit, os._exit, a 50 GB
allocation, megabytes of printing, a wrong return, NaN, inputs changed in place, a file
that does not parse, a forbidden import: each is a one-line verdict, never a hang or a
broken checker.  The child sees neither the parent's environment nor its folder."""

import os
import textwrap
import time

import pytest

from manualnn.checks import DataError
from manualnn.learn.check import check_file

HOSTILE = '''\
import os, sys
import numpy as np

def softmax_loss(Z, y):
    while True:
        pass

def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    os._exit(3)

def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    raise ValueError("not yet")

def backprop(X, y, Ws, sigma, sigma_prime):
    sys.exit(3)

def backprop_bias(X, y, Ws, bs, sigma, sigma_prime):
    big = np.ones(50 * 10**9 // 8)
    return big
'''

SLOPPY = '''\
import numpy as np

def softmax_loss(Z, y):
    return float("nan")

def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    return theta - lr

def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    print("x" * 10_000_000)
    for s in range(0, len(X), batch):
        Xb, yb = X[s:s + batch], y[s:s + batch]
        Z1 = np.maximum(Xb @ W1, 0)
        E = np.exp(Z1 @ W2 - (Z1 @ W2).max(axis=1, keepdims=True))
        G2 = E / E.sum(axis=1, keepdims=True)
        G2[np.arange(len(yb)), yb] -= 1
        G1 = (Z1 > 0) * (G2 @ W2.T)
        W1 -= lr * Xb.T @ G1 / len(yb)
        W2 -= lr * Z1.T @ G2 / len(yb)
    X[:] = 0
    y[:] = 0

def backprop(X, y, Ws, sigma, sigma_prime):
    return [W.T for W in Ws]

def backprop_bias(X, y, Ws, bs, sigma, sigma_prime):
    return None
'''


def write(tmp_path, text, name="learner.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def by_function(verdicts):
    return {v.function: v for v in verdicts}


def test_loops_exits_crashes_and_huge_allocations_are_one_line_errors(tmp_path):
    start = time.monotonic()
    got = by_function(check_file(write(tmp_path, HOSTILE), timeout=1.5))
    assert time.monotonic() - start < 20   # a generous bound: the loop costs 1.5 s
    assert all(v.verdict == "error" and "\n" not in v.message for v in got.values())
    assert "did not finish" in got["softmax_loss"].message
    assert got["softmax_loss"].line in (5, 6)
    assert "exit status 3" in got["softmax_regression_epoch"].message
    assert got["nn_epoch"].message.startswith("raised ValueError: not yet")
    assert got["nn_epoch"].line == 12
    assert "SystemExit: 3" in got["backprop"].message and got["backprop"].line == 15
    assert "MemoryError" in got["backprop_bias"].message and got["backprop_bias"].line == 18


def test_nan_wrong_types_and_shapes_and_changed_inputs_are_told(tmp_path):
    got = by_function(check_file(write(tmp_path, SLOPPY)))
    assert got["softmax_loss"].verdict == "error" and "NaN" in got["softmax_loss"].message
    assert "left theta unchanged" in got["softmax_regression_epoch"].message
    assert got["nn_epoch"].verdict == "correct"   # its printing and its vandalism harm none
    assert "shape" in got["backprop"].message and got["backprop"].verdict == "error"
    assert "returned None" in got["backprop_bias"].message


def test_a_syntax_error_names_its_line(tmp_path):
    path = write(tmp_path, "import numpy as np\n\ndef backprop(X, y, Ws, sigma, sigma_prime):\n"
                           "    return [W for W in Ws\n")
    (v,) = check_file(path)
    assert v.function == "backprop" and v.verdict == "error" and v.line == 4
    assert "SyntaxError" in v.message and "line 4" in v.message


def test_a_forbidden_import_is_refused_by_name(tmp_path):
    path = write(tmp_path, "import numpy as np\nimport manualnn.core\n\n"
                           "def softmax_loss(Z, y):\n    return 0.0\n")
    (v,) = check_file(path, forbidden_imports=("manualnn", "torch"))
    assert v.verdict == "error" and "refused: imports manualnn" in v.message
    assert v.line == 2


def test_the_child_gets_a_fresh_folder_and_none_of_the_parents_environment(
        tmp_path, monkeypatch):
    monkeypatch.setenv("MANUALNN_TEST_SECRET", "hunter2")
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "import os\n\ndef softmax_loss(Z, y):\n    raise RuntimeError("
                           "os.environ.get('MANUALNN_TEST_SECRET', 'none') + ' ' + os.getcwd())\n")
    (v,) = check_file(path)
    assert "hunter2" not in v.message and "none " in v.message
    assert str(tmp_path) not in v.message and "manualnn-check-" in v.message


def test_a_file_that_cannot_be_read_or_defines_nothing_is_refused(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        check_file(tmp_path / "missing.py")
    with pytest.raises(ValueError, match="defines none of the functions"):
        check_file(write(tmp_path, "x = 1\n"))
    (tmp_path / "latin1.py").write_bytes(b"# \xe9\n")
    with pytest.raises(DataError, match="UTF-8"):
        check_file(tmp_path / "latin1.py")
    os.mkfifo(tmp_path / "fifo.py")
    with pytest.raises(DataError, match="FIFO"):
        check_file(tmp_path / "fifo.py")
    with pytest.raises(ValueError, match="functions"):
        check_file(write(tmp_path, "x = 1\n"), functions=["forward"])
    with pytest.raises(ValueError, match="timeout"):
        check_file(write(tmp_path, "x = 1\n"), timeout=0)


def test_a_function_asked_for_and_missing_is_an_error_verdict(tmp_path):
    path = write(tmp_path, "def softmax_loss(Z, y):\n    return 0.0\n")
    got = by_function(check_file(path, functions=["softmax_loss", "nn_epoch"]))
    assert got["nn_epoch"].verdict == "error" and "not defined" in got["nn_epoch"].message
    assert got["softmax_loss"].verdict == "unknown"


def test_a_file_that_loops_or_exits_while_loading_is_an_error_for_each_function(tmp_path):
    path = write(tmp_path, "def backprop(X, y, Ws, sigma, sigma_prime):\n    return Ws\n\n"
                           "while True:\n    pass\n")
    (v,) = check_file(path, timeout=1)
    assert v.verdict == "error" and "did not finish within 1 s" in v.message and v.line in (4, 5)
    path = write(tmp_path, "import sys\nsys.exit(0)\n\ndef softmax_loss(Z, y):\n    return 0\n")
    (v,) = check_file(path)
    assert v.verdict == "error" and "SystemExit" in v.message and v.line == 2


def test_in_a_notebook_an_interrupt_stops_the_check_instead_of_becoming_a_verdict():
    from manualnn.learn.check import check

    def backprop(X, y, Ws, sigma, sigma_prime):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        check(backprop)


def test_the_checkers_own_sentences_about_a_failure_are_in_chinese_too(tmp_path):
    got = by_function(check_file(write(tmp_path, SLOPPY), lang="zh",
                                 functions=["softmax_regression_epoch", "backprop_bias"]))
    assert got["softmax_regression_epoch"].message.startswith("没有改变 theta")
    assert got["backprop_bias"].message.startswith("返回了 None")
    path = write(tmp_path, "import torch\n\ndef softmax_loss(Z, y):\n    return 0.0\n", "t.py")
    (v,) = check_file(path, forbidden_imports=["torch"], lang="zh")
    assert "拒绝：导入了 torch" in v.message and v.line == 1
