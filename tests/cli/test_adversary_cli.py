"""The command held against an adversary (issue 18): evaluation losses independent of the
chunk, non-finite outputs, class names of another dataset, pictures by their real format
and depth, config.json of wrong types, 3-D arrays, CLI models in scikit-learn, Ctrl-C at
start-up and a closed pipe."""

import io
import json
import math
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cli_helpers import one_line
from manualnn.backend import get_backend
from manualnn.cli import main
from manualnn.cli.config import DEFAULTS, RunConfig
from manualnn.cli.predict import read_image, read_inputs
from manualnn.core.losses import SoftmaxCrossEntropy, get_loss
from manualnn.core.network import MLP
from manualnn.io import serialize
from manualnn.train.loop import evaluate

SOME = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
Image = pytest.importorskip("PIL.Image", reason="pictures need Pillow")


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """8x8 images of 0..16 (as digits), labels cat/dog/emu, and a run trained on them."""
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    protos = rng.integers(0, 17, (3, 8, 8))
    y = rng.integers(0, 3, 450)
    X = np.clip(protos[y] + rng.integers(-2, 3, (450, 8, 8)), 0, 16).astype(np.float64)
    X[:, 0, :] = X[:, -1, :] = X[:, :, 0] = X[:, :, -1] = 0   # a black border, as digits
    names = np.array(["cat", "dog", "emu"])[y]
    np.savez(folder / "pets.npz", X=X[:350], y=names[:350], X_test=X[350:], y_test=names[350:])
    np.savez(folder / "codes.npz", X=X[:350], y=y[:350], X_test=X[350:], y_test=y[350:])
    out = folder / "run"
    assert main(["train", "--dataset", str(folder / "pets.npz"), "--hidden", "16",
                 "--epochs", "15", "--batch-size", "50", "--lr", "0.01", "--threads", "1",
                 "--out", str(out), "--quiet"]) == 0
    return folder, out, X[350:], y[350:]


# -- 6: evaluation losses do not depend on the chunk ---------------------------------------
@SOME
@given(m=st.integers(513, 5000), seed=st.integers(0, 2 ** 16),
       chunk=st.sampled_from([512, 1024, 2048]), dtype=st.sampled_from(["float32", "float64"]))
def test_evaluation_losses_do_not_depend_on_the_chunk(m, seed, chunk, dtype):
    rng = np.random.default_rng(seed)
    net = MLP([5, 7, 4], dtype=dtype, rng=seed)
    X = rng.standard_normal((m, 5)).astype(dtype) * 3
    y = rng.integers(0, 4, m)
    loss = get_loss("softmax_cross_entropy")
    assert evaluate(net, X, y, loss, chunk) == evaluate(net, X, y, loss, 4096)


# -- 13: the loss at float32's edges, and non-finite outputs --------------------------------
EDGE = np.finfo(np.float32).max
LOGITS = hnp.arrays(np.float32, st.tuples(st.integers(1, 9), st.integers(2, 6)),
                    elements=st.sampled_from([EDGE, -EDGE, 3.4e38, -3.4e38, 0.0, 1.0, -1e30]))


@SOME
@given(Z=LOGITS, eps=st.sampled_from([0.0, 0.1]), data=st.data())
@pytest.mark.parametrize("backend", ["numpy", "fast"])
def test_softmax_cross_entropy_is_finite_up_to_float32s_largest_logits(Z, eps, data, backend):
    y = np.asarray(data.draw(st.lists(st.integers(0, Z.shape[1] - 1), min_size=Z.shape[0],
                                      max_size=Z.shape[0])), dtype=np.intp)
    ops = get_backend(backend)
    loss = SoftmaxCrossEntropy(eps)
    G = np.array(Z)
    with np.errstate(over="ignore"):
        value, _ = loss.value_and_grad_(G, y, ops=ops)
    Z64 = Z.astype(np.float64)
    ref = SoftmaxCrossEntropy(eps).reference(Z64, y)[0]
    assert math.isfinite(value) and np.isfinite(G).all()
    assert value == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_outputs_that_overflow_are_refused_with_a_message(pictures, tmp_path, capsys, command):
    _, out, X, _ = pictures
    net, meta, arrays = serialize.load_model(out)
    for W in net.W:
        W[...] = 3e38   # finite weights whose products overflow
    bad = tmp_path / "bad"
    os.makedirs(bad)
    serialize.save_model(bad, net, meta, arrays)
    with open(out / "config.json") as f, open(bad / "config.json", "w") as g:
        g.write(f.read())
    np.save(tmp_path / "x.npy", X.reshape(len(X), -1))
    argv = ["evaluate", str(bad)] if command == "evaluate" else \
        ["predict", str(bad), str(tmp_path / "x.npy")]
    capsys.readouterr()
    assert main(argv) == 2   # refused at load since issue 25 (outputs at the range's ends)
    assert "outputs overflow float32" in one_line(capsys)


# -- 12: evaluate on a dataset with other class names ---------------------------------------
def test_evaluate_refuses_a_dataset_whose_class_names_differ(pictures, capsys):
    folder, out, _, _ = pictures
    capsys.readouterr()
    assert main(["evaluate", str(out), "--dataset", str(folder / "codes.npz")]) == 2
    line = one_line(capsys)
    assert "['cat', 'dog', 'emu']" in line and "['0', '1', '2']" in line, line
    assert main(["evaluate", str(out), "--dataset", str(folder / "pets.npz")]) == 0


# -- 9: pictures by their real format and bit depth, on the training range ------------------
def _png(array, mode=None):
    out = io.BytesIO()
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(out, "PNG")
    return out.getvalue()


@SOME
@given(levels=hnp.arrays(np.uint8, (8, 8)), alpha=hnp.arrays(np.uint8, (8, 8)),
       kind=st.sampled_from(["L", "I;16", "LA", "RGBA", "RGB"]),
       value_range=st.sampled_from([(0.0, 16.0), (0.0, 255.0), (-1.0, 1.0)]))
def test_pictures_are_read_by_their_depth_and_alpha_on_the_training_range(
        tmp_path, levels, alpha, kind, value_range):
    lo, hi = value_range
    expected = levels / 255.0
    if kind == "I;16":
        blob = _png(levels.astype(np.uint16) * 257)   # Pillow reads it as mode I;16
    elif kind == "LA":   # white ink whose coverage is alpha, on a transparent background
        blob = _png(np.stack([np.full_like(levels, 255), alpha], axis=-1), "LA")
        expected = alpha / 255.0
    elif kind == "RGBA":
        blob = _png(np.stack([levels] * 3 + [np.full_like(levels, 255)], axis=-1), "RGBA")
    else:
        blob = _png(np.stack([levels] * 3, axis=-1) if kind == "RGB" else levels)
    path = tmp_path / f"p-{kind}.png"
    path.write_bytes(blob)
    x = read_image(str(path), (8, 8), value_range, background=lo)
    np.testing.assert_allclose(x, lo + expected.reshape(-1) * (hi - lo),
                               atol=(hi - lo) / 255 * 0.51 + 1e-6)


@pytest.mark.parametrize("real, name", [("TIFF", ".png"), ("BMP", ".png"), ("PNG", ".jpg"),
                                        ("GIF", ".bmp")])
def test_a_picture_whose_content_is_not_the_format_its_name_says_is_refused(tmp_path, real,
                                                                           name):
    path = tmp_path / f"x{name}"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path, real)
    from manualnn.checks import DataError
    with pytest.raises(DataError, match="no .* data"):
        read_image(str(path), (8, 8))


def test_predict_on_pngs_agrees_with_the_arrays_they_show(pictures, tmp_path, capsys):
    _, out, X, _ = pictures
    paths = []
    for i, image in enumerate(X[:40]):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(np.round(image * 255 / 16).astype(np.uint8)).save(paths[-1])
    np.save(tmp_path / "x.npy", X[:40])   # 3-D, as the training file held them
    meta = serialize.load_model(out)[1]
    assert meta["input_range"] == [0.0, 16.0] and meta["background"] == 0.0
    _, from_png = read_inputs(paths, meta["image_shape"], meta["input_range"],
                              meta["background"])
    np.testing.assert_allclose(from_png, X[:40].reshape(40, -1), atol=16 / 255)
    capsys.readouterr()
    assert main(["predict", str(out), *paths]) == 0
    png_labels = [r.split(",")[1] for r in capsys.readouterr().out.splitlines()[1:]]
    assert main(["predict", str(out), str(tmp_path / "x.npy")]) == 0
    npy_labels = [r.split(",")[1] for r in capsys.readouterr().out.splitlines()[1:]]
    assert len(npy_labels) == 40
    assert np.mean(np.array(png_labels) == np.array(npy_labels)) >= 0.95


def test_a_model_without_a_recorded_range_reads_pictures_as_0_to_255(tmp_path):
    path = tmp_path / "x.png"
    Image.fromarray(np.full((4, 4), 200, np.uint8)).save(path)
    _, X = read_inputs([str(path)], [4, 4])
    assert (X == 200).all()


# -- 14: config.json of wrong types; 3-D arrays; CLI models in scikit-learn -----------------
WRONG = st.one_of(st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2),
                  st.integers(), max_size=1), st.text(max_size=4), st.booleans(),
                  st.integers(-10 ** 30, 10 ** 30), st.floats(allow_nan=False))


def _declared(field):
    """The JSON types RunConfig declares for ``field`` (bool is no number)."""
    import dataclasses
    (f,) = [f for f in dataclasses.fields(RunConfig) if f.name == field]
    kinds = {"str": (str,), "bool": (bool,), "list": (list,), "None": (type(None),),
             "int": (int,), "float": (int, float)}
    return tuple(t for k in str(f.type).split("|") for t in kinds[k.strip()])


@SOME
@given(field=st.sampled_from(sorted(DEFAULTS)), value=WRONG)
def test_config_values_of_the_wrong_type_are_named(field, value):
    declared = _declared(field)
    wrong = not isinstance(value, declared) or isinstance(value, bool) and bool not in declared
    if field == "max_memory" and isinstance(value, str):
        wrong = False   # a size such as "800M"
    try:
        RunConfig.from_dict({field: value})
    except (TypeError, ValueError) as exc:
        text = str(exc)
        assert text.startswith(f"{field}:") or "layers" in text, text
        assert "unhashable" not in text
    except Exception as exc:   # noqa: BLE001  (anything else is the defect)
        pytest.fail(f"{field}={value!r}: {type(exc).__name__}: {exc}")
    else:
        assert not wrong, f"{field}={value!r} of the wrong type was accepted"


def test_a_resume_names_a_config_json_field_of_the_wrong_type(pictures, tmp_path, capsys):
    import shutil
    _, out, _, _ = pictures
    run = tmp_path / "run"
    shutil.copytree(out, run)
    config = json.loads((run / "config.json").read_text())
    config["activation"] = ["relu"]
    (run / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--epochs", "16", "--quiet"]) == 2
    line = one_line(capsys)
    assert "activation: expected str, got list" in line, line


def test_predict_takes_3d_arrays_as_training_does(pictures, tmp_path, capsys):
    _, out, X, _ = pictures
    np.save(tmp_path / "flat.npy", X[:5].reshape(5, -1))
    np.save(tmp_path / "cube.npy", X[:5])
    np.save(tmp_path / "wrong.npy", X[:5, :4])
    capsys.readouterr()
    assert main(["predict", str(out), str(tmp_path / "flat.npy")]) == 0
    flat = [r.split(",", 1)[1] for r in capsys.readouterr().out.splitlines()]
    assert main(["predict", str(out), str(tmp_path / "cube.npy")]) == 0
    assert [r.split(",", 1)[1] for r in capsys.readouterr().out.splitlines()] == flat
    assert main(["predict", str(out), str(tmp_path / "wrong.npy")]) == 2
    assert "(n, 8, 8)" in one_line(capsys)


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
@SOME
@given(labels=st.sampled_from([[0, 1, 2], [3, 7, 9], ["b", "a", "c"], [-1, 5, 2]]))
def test_a_cli_model_loaded_by_the_estimator_predicts_its_training_labels(
        pictures, tmp_path, labels):
    from manualnn.sklearn import MLPClassifier
    _, _, X, y = pictures
    values = np.array(labels)
    case = len(os.listdir(tmp_path))
    data, out = tmp_path / f"d{case}.npz", tmp_path / f"r{case}"
    flat = X.reshape(len(X), -1)
    np.savez(data, X=flat, y=values[y], X_test=flat, y_test=values[y])
    assert main(["train", "--dataset", str(data), "--hidden", "8", "--epochs", "3",
                 "--batch-size", "50", "--threads", "1", "--out", str(out), "--quiet"]) == 0
    est = MLPClassifier.load(out)
    assert sorted(est.classes_.tolist()) == sorted(labels)
    assert set(est.predict(flat).tolist()) <= set(labels)
    score = est.score(flat, values[y])
    assert score == np.mean(est.predict(flat) == values[y])


def test_a_cli_digits_model_has_integer_classes_in_scikit_learn(tmp_path):
    """Built-in sets name their classes (Fashion-MNIST's "Coat"); the labels are 0..k-1."""
    from manualnn.sklearn import MLPClassifier
    pytest.importorskip("sklearn", reason="the digits dataset comes with scikit-learn")
    out = tmp_path / "digits"
    assert main(["train", "--dataset", "digits", "--hidden", "8", "--epochs", "1",
                 "--threads", "1", "--out", str(out), "--quiet"]) == 0
    est = MLPClassifier.load(out)
    assert est.classes_.tolist() == list(range(10))
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    assert 0 <= est.score(X, y) <= 1


# -- Ctrl-C at start-up, a closed pipe ---------------------------------------------------
@pytest.fixture
def ctrl_c_at_app_import(monkeypatch):
    """A Ctrl-C while the command's modules load: importing manualnn.cli.app raises
    KeyboardInterrupt."""
    import builtins
    real = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "manualnn.cli.app":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", interrupted)


def test_ctrl_c_while_the_modules_load_is_one_line_and_exit_130(ctrl_c_at_app_import, capsys):
    with pytest.raises(SystemExit) as info:
        try:
            runpy.run_module("manualnn", run_name="__main__")
        except KeyboardInterrupt:   # the defect: it would end pytest itself
            pytest.fail("the Ctrl-C escaped as KeyboardInterrupt")
    assert info.value.code == 130
    assert one_line(capsys) == "manualnn: interrupted"


def test_the_command_loads_its_modules_inside_the_handler(request, capsys):
    """The installed script calls manualnn.launch:main, and ``import manualnn`` loads
    nothing heavy: a Ctrl-C while NumPy loads reaches launch's handler."""
    from importlib.metadata import entry_points
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "manualnn"]
    assert script.value == "manualnn.launch:main"
    probe = "import sys, manualnn.launch; print('numpy' in sys.modules)"
    code = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    assert code.stdout.strip() == "False"
    from manualnn import launch
    request.getfixturevalue("ctrl_c_at_app_import")   # only now: the probe above runs clean
    try:
        assert launch.main([]) == 130
    except KeyboardInterrupt:
        pytest.fail("the Ctrl-C escaped as KeyboardInterrupt")
    assert one_line(capsys) == "manualnn: interrupted"


def test_a_closed_pipe_ends_quietly(pictures):
    _, out, _, _ = pictures
    proc = subprocess.Popen([sys.executable, "-m", "manualnn", "evaluate", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()   # as `| head -1` does once it has its line
    err = proc.stderr.read().decode()
    assert proc.wait(120) == 141 and err == "", err


@pytest.mark.parametrize("name, command", [("x.npy", "predict"), ("x.png", "predict"),
                                           ("d.npz", "train"), ("d.csv", "train")])
def test_a_fifo_named_on_the_command_line_is_refused_without_waiting(pictures, tmp_path,
                                                                     capsys, name, command):
    import signal
    _, out, _, _ = pictures
    fifo = tmp_path / name
    os.mkfifo(fifo)
    argv = ["predict", str(out), str(fifo)] if command == "predict" else \
        ["train", "--dataset", str(fifo), "--out", str(tmp_path / "run"), "--quiet"]

    def hung(signum, frame):
        raise AssertionError(f"{command} waited on a FIFO")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        code = main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert code == 2
    line = one_line(capsys)
    assert "regular file, got a FIFO" in line or "the file is empty" in line, line
