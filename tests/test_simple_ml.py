"""The homework-0 module: the course's facts hold on this engine."""

import gzip
import math

import numpy as np
import pytest

from manualnn import simple_ml
from manualnn.checks import DataError
from numeric import numerical_gradient


def course_arrays():
    np.random.seed(0)
    X = np.random.randn(50, 5).astype(np.float32)
    y = np.random.randint(3, size=(50,)).astype(np.uint8)
    return X, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_loss_of_zero_logits_is_ln_10(dtype):
    loss = simple_ml.softmax_loss(np.zeros((7, 10), dtype), np.arange(7))
    assert loss == pytest.approx(2.3025850, rel=1e-7)   # the course's tolerance
    assert loss == pytest.approx(math.log(10), rel=1e-7 if dtype == np.float32 else 1e-15)


def test_nn_epoch_steps_by_minus_the_numerical_gradient():
    X, y = course_arrays()
    W1 = np.random.randn(5, 10).astype(np.float32) / np.sqrt(10).astype(np.float32)
    W2 = np.random.randn(10, 3).astype(np.float32) / np.sqrt(3).astype(np.float32)
    # the numerical gradient is taken in float64 (as the course's test does)
    X64, V1, V2 = X.astype(np.float64), W1.astype(np.float64), W2.astype(np.float64)
    def f():
        return simple_ml.softmax_loss(np.maximum(X64 @ V1, 0) @ V2, y)
    dW1, dW2 = numerical_gradient(f, V1), numerical_gradient(f, V2)
    W1_0, W2_0 = W1.copy(), W2.copy()
    simple_ml.nn_epoch(X, y, W1, W2, lr=1.0, batch=50)
    np.testing.assert_allclose(dW1, -(W1 - W1_0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dW2, -(W2 - W2_0), rtol=1e-4, atol=1e-4)
    assert W1.dtype == np.float32 and W2.dtype == np.float32


def test_softmax_regression_epoch_steps_by_minus_the_numerical_gradient():
    X, y = course_arrays()
    theta, theta64 = np.zeros((5, 3), dtype=np.float32), np.zeros((5, 3))
    X64 = X.astype(np.float64)
    dtheta = numerical_gradient(lambda: simple_ml.softmax_loss(X64 @ theta64, y), theta64)
    simple_ml.softmax_regression_epoch(X, y, theta, lr=1.0, batch=50)
    np.testing.assert_allclose(dtheta, -theta, rtol=1e-4, atol=1e-4)


def test_epochs_use_every_batch_in_order_including_the_last_short_one():
    X, y = course_arrays()
    theta = np.zeros((5, 3), np.float32)
    simple_ml.softmax_regression_epoch(X, y, theta, lr=0.5, batch=15)
    expected = np.zeros((5, 3))
    for s in range(0, 50, 15):
        Xb, yb = X[s:s + 15].astype(np.float64), y[s:s + 15]
        S = np.exp(Xb @ expected)
        S /= S.sum(1, keepdims=True)
        S[np.arange(len(yb)), yb] -= 1
        expected -= 0.5 * Xb.T @ S / len(yb)
    np.testing.assert_allclose(theta, expected, rtol=1e-5, atol=1e-6)


def test_loss_err():
    h = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    loss, err = simple_ml.loss_err(h, np.array([0, 0, 0]))
    assert err == pytest.approx(1 / 3)
    assert loss == pytest.approx(np.mean([math.log1p(math.exp(-1)),
                                          1 + math.log1p(math.exp(-1)),
                                          math.log1p(math.exp(-2))]))


def write_idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(array.dtype.newbyteorder(">")).tobytes())


def test_parse_mnist_reads_idx_files(tmp_path, rng):
    images = rng.integers(0, 256, (6, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 6, dtype=np.uint8)
    write_idx(tmp_path / "img.gz", images, 0x08)
    write_idx(tmp_path / "lbl.gz", labels, 0x08)
    X, y = simple_ml.parse_mnist(tmp_path / "img.gz", tmp_path / "lbl.gz")
    assert X.dtype == np.float32 and X.shape == (6, 12) and y.dtype == np.uint8
    np.testing.assert_allclose(X, images.reshape(6, 12) / 255, rtol=1e-6)
    assert X.min() >= 0 and X.max() <= 1
    np.testing.assert_array_equal(y, labels)
    write_idx(tmp_path / "short.gz", labels[:5], 0x08)
    with pytest.raises(DataError, match="short.gz: expected 6 uint8 labels"):
        simple_ml.parse_mnist(tmp_path / "img.gz", tmp_path / "short.gz")


def test_train_functions_print_the_course_table(capsys, rng):
    X = rng.uniform(size=(120, 6)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(np.uint8) + (X[:, 1] > 0.5).astype(np.uint8)
    theta = simple_ml.train_softmax(X[:90], y[:90], X[90:], y[90:], epochs=3, lr=0.5, batch=10)
    W1, W2 = simple_ml.train_nn(X[:90], y[:90], X[90:], y[90:], hidden_dim=7, epochs=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == simple_ml.TABLE_HEAD and lines[4] == simple_ml.TABLE_HEAD
    assert len(lines) == 7 and all(line.count("|") == 6 for line in lines)
    assert theta.shape == (6, 3) and W1.shape == (6, 7) and W2.shape == (7, 3)
    assert W1.dtype == np.float32


def test_homework_functions_reject_bad_input():
    X, y = course_arrays()
    theta = np.zeros((5, 3), np.float32)
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 3\)"):
        simple_ml.softmax_regression_epoch(X, y + 1, theta)
    with pytest.raises(ValueError, match=r"X: expected 5 columns"):
        simple_ml.softmax_regression_epoch(X[:, :4], y, theta)
    with pytest.raises(TypeError, match=r"X: expected float32 to match the weights"):
        simple_ml.softmax_regression_epoch(X.astype(np.float64), y, theta)
    with pytest.raises(ValueError, match=r"lr: expected a value in \(0, inf\]"):
        simple_ml.softmax_regression_epoch(X, y, theta, lr=-1)
    with pytest.raises(TypeError, match=r"batch: expected an integer"):
        simple_ml.softmax_regression_epoch(X, y, theta, batch=2.5)
