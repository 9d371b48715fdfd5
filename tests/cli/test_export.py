"""``manualnn export RUN_DIR model.onnx``: the ONNX graph, run by onnxruntime, gives the
probabilities ``manualnn predict`` gives, for every activation the command offers."""

import builtins
import json

import numpy as np
import pytest

from manualnn.cli import build_parser, main
from manualnn.core.activations import ACTIVATIONS, register_activation
from manualnn.core.losses import softmax
from manualnn.core.network import MLP
from manualnn.data.datasets import load_dataset
from manualnn.data.preprocess import Preprocessor
from manualnn.io.rundir import load_run
from manualnn.io.serialize import save_model

onnx = pytest.importorskip("onnx", reason="export needs the onnx extra")
ort = pytest.importorskip("onnxruntime", reason="the round trip needs onnxruntime (test extra)")


def cli_activations():
    """The --activation choices of ``manualnn train``."""
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    (action,) = [a for a in train._actions if a.dest == "activation"]
    return sorted(action.choices)


@pytest.fixture(scope="module")
def test_split(tmp_path_factory):
    ds = load_dataset("digits")
    path = tmp_path_factory.mktemp("split") / "X_test.npy"
    np.save(path, ds.X_test)
    return ds.X_test, path


def train_and_export(tmp_path, *options):
    out, model = tmp_path / "run", tmp_path / "model.onnx"
    assert main(["train", "--dataset", "digits", "--hidden", "16,8", "--epochs", "2",
                 "--out", str(out), "--quiet", "--threads", "1", *options]) == 0
    assert main(["export", str(out), str(model)]) == 0
    return out, model


def onnx_outputs(model, X):
    onnx.checker.check_model(onnx.load(model), full_check=True)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(["probabilities", "label"], {"X": X})


def predicted(run, X_path, tmp_path):
    """``manualnn predict``'s probabilities (6 decimals, as it writes them)."""
    output = tmp_path / "p.json"
    assert main(["predict", str(run), str(X_path), "--output", str(output)]) == 0
    rows = json.loads(output.read_text())
    return np.array([[v for k, v in row.items() if k.startswith("p_")] for row in rows])


@pytest.mark.parametrize("activation", cli_activations())
def test_every_activation_exports_and_matches_predict(activation, test_split, tmp_path, capsys):
    X, X_path = test_split
    run, model = train_and_export(tmp_path, "--activation", activation)
    assert f"\nwrote {model}: 64-16-8-10 float32, preprocess standardize" in capsys.readouterr().out
    P, label = onnx_outputs(model, X)
    assert P.dtype == np.float32 and P.shape == (len(X), 10)
    # predict rounds to 6 decimals; the unrounded probabilities agree to float32 rounding
    assert np.abs(P - predicted(run, X_path, tmp_path)).max() <= 1e-5
    net, _, pre = load_run(run)
    exact = softmax(net(pre.transform(X, net.dtype)).astype(np.float64))
    assert np.abs(P - exact).max() <= 1e-5
    np.testing.assert_array_equal(label, exact.argmax(axis=1))


@pytest.mark.parametrize("options", [("--no-bias",), ("--preprocess", "scale"),
                                     ("--preprocess", "none", "--activation", "tanh"),
                                     ("--dtype", "float64", "--activation", "softplus"),
                                     ("--dtype", "float64", "--activation", "leaky_relu"),
                                     ("--dtype", "float64", "--activation", "gelu")])
def test_bias_preprocessing_and_float64_export(options, test_split, tmp_path):
    X, X_path = test_split
    run, model = train_and_export(tmp_path, *options)
    net, _, pre = load_run(run)
    P, _ = onnx_outputs(model, X.astype(net.dtype))
    exact = softmax(net(pre.transform(X, net.dtype)).astype(np.float64))
    assert P.dtype == net.dtype
    assert np.abs(P - exact).max() <= (1e-12 if net.dtype == np.float64 else 1e-5)
    assert np.abs(P - predicted(run, X_path, tmp_path)).max() <= 1e-5
    ops = {n.op_type for n in onnx.load(model).graph.node}
    assert ("Sub" in ops) == (pre.kind != "none") and ("Add" in ops) == (
        net.bias or "softplus" in options or "gelu" in options)


def test_what_cannot_export_is_refused_in_one_line(tmp_path, capsys):
    register_activation("swish_for_export", lambda A: A / (1 + np.exp(-A)),
                        lambda A: 1 / (1 + np.exp(-A)))
    try:
        net = MLP([4, 3, 2], "swish_for_export", rng=0)
        save_model(tmp_path / "run", net, {"classes": ["a", "b"], "preprocess": "none"})
        assert main(["export", str(tmp_path / "run"), str(tmp_path / "m.onnx")]) == 2
    finally:
        del ACTIVATIONS["swish_for_export"]
    assert capsys.readouterr().err == (
        "manualnn: error: export: activation 'swish_for_export' has no ONNX form "
        "(exportable: gelu, identity, leaky_relu, relu, sigmoid, softplus, tanh)\n")
    assert not (tmp_path / "m.onnx").exists()


def test_export_refuses_links_bad_names_and_a_missing_extra(tmp_path, capsys, monkeypatch):
    net = MLP([4, 3, 2], rng=0)
    pre = Preprocessor("standardize").fit(np.arange(12.0).reshape(3, 4))
    save_model(tmp_path / "run", net, {"classes": ["a", "b"], "preprocess": "standardize"},
               {f"preprocess.{k}": v for k, v in pre.to_arrays().items()})
    (tmp_path / "target.onnx").write_bytes(b"keep")
    (tmp_path / "link.onnx").symlink_to(tmp_path / "target.onnx")
    cases = [(["link.onnx"], "is a symbolic link"), (["model.txt"], "ending in .onnx"),
             (["missing/m.onnx"], "does not exist"), ([""], "not a regular file")]
    for (name,), message in cases:
        assert main(["export", str(tmp_path / "run"), str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert (tmp_path / "target.onnx").read_bytes() == b"keep"
    assert main(["export", str(tmp_path / "nothing"), str(tmp_path / "m.onnx")]) == 2
    assert "no such file" in capsys.readouterr().err
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    assert main(["export", str(tmp_path / "run"), str(tmp_path / "m.onnx")]) == 2
    assert capsys.readouterr().err == ("manualnn: error: export: writing ONNX needs the onnx "
                                       "package: pip install 'manualnn[onnx]'\n")
    monkeypatch.undo()
    assert main(["export", str(tmp_path / "run"), str(tmp_path / "m.onnx")]) == 0
    P, _ = onnx_outputs(tmp_path / "m.onnx", np.ones((2, 4), np.float32))
    assert P.shape == (2, 2) and np.allclose(P.sum(axis=1), 1)
