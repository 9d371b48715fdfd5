"""A trained network and its preprocessing as one ONNX graph (``pip install manualnn[onnx]``).

The graph is the forward pass as the lecture writes it, in the model's dtype:

    X (N, n_1) raw features, as ``manualnn predict`` reads them
    Z_1 = (X - shift) / scale                  Sub, Div   (no nodes for preprocess "none")
    A_i = Z_i W_i + b_i                        MatMul, Add (no Add without bias)
    Z_{i+1} = sigma_i(A_i)                     Relu, LeakyRelu, Tanh, Sigmoid, Softplus,
                                               GELU's tanh form from Mul/Add/Sigmoid
    probabilities = softmax(Z_{L+1}),  label = argmax(Z_{L+1})

so onnxruntime (or any ONNX runtime) serves the model without manualnn or NumPy.  An
activation with no ONNX form (one registered at run time from Python functions) is
refused with its name.
"""

from __future__ import annotations

import json

import numpy as np

OPSET = 17   # every operator used here exists unchanged since opset 13


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ValueError("export: writing ONNX needs the onnx package: "
                         "pip install 'manualnn[onnx]'") from None
    return onnx


class _Graph:
    """Nodes and constants of one graph, named after the math (Z_i, W_i, A_i)."""

    def __init__(self, onnx, dtype):
        self.onnx, self.dtype, self.nodes, self.constants = onnx, dtype, [], []

    def const(self, name, value):
        array = np.asarray(value, dtype=self.dtype)
        self.constants.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def const_int(self, name, value):
        self.constants.append(self.onnx.numpy_helper.from_array(
            np.asarray(value, dtype=np.int64), name))
        return name

    def op(self, kind, inputs, output, **attrs):
        self.nodes.append(self.onnx.helper.make_node(kind, inputs, [output], **attrs))
        return output


def _activation(g: _Graph, act, A: str, out: str) -> str:
    """sigma(A) as nodes that write ``out``; the names are manualnn's activations.

    A float64 graph writes softplus and leaky relu out from primitives: onnxruntime has no
    float64 Softplus, and LeakyRelu's alpha is a float32 attribute (0.01 would become
    0.0099999998)."""
    simple = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "softplus": "Softplus"}
    wide = g.dtype == np.float64
    if act.name == "identity":
        return A
    if act.name == "softplus" and wide:   # max(a, 0) + log(1 + exp(-|a|)), as core does
        e = g.op("Exp", [g.op("Neg", [g.op("Abs", [A], f"{out}_abs")], f"{out}_neg")],
                 f"{out}_exp")
        log = g.op("Log", [g.op("Add", [e, g.const(f"{out}_one", 1)], f"{out}_1pe")],
                   f"{out}_log")
        return g.op("Add", [g.op("Relu", [A], f"{out}_relu"), log], out)
    if act.name in simple:
        return g.op(simple[act.name], [A], out)
    if act.name == "leaky_relu" and wide and 0 <= act.slope <= 1:   # max(a, slope a)
        return g.op("Max", [A, g.op("Mul", [A, g.const(f"{out}_slope", act.slope)],
                                    f"{out}_sa")], out)
    if act.name == "leaky_relu":
        return g.op("LeakyRelu", [A], out, alpha=float(act.slope))
    if act.name == "gelu":   # a * sigmoid(2c (a + k a^3)), a clipped as core/activations does
        a = g.op("Clip", [A, g.const(f"{out}_lo", -1e4), g.const(f"{out}_hi", 1e4)], f"{out}_a")
        a3 = g.op("Mul", [g.op("Mul", [a, a], f"{out}_a2"), a], f"{out}_a3")
        inner = g.op("Add", [a, g.op("Mul", [a3, g.const(f"{out}_k", act.k)], f"{out}_ka3")],
                     f"{out}_inner")
        u2 = g.op("Mul", [inner, g.const(f"{out}_2c", 2 * act.c)], f"{out}_u2")
        return g.op("Mul", [A, g.op("Sigmoid", [u2], f"{out}_s")], out)
    raise ValueError(f"export: activation {act.name!r} has no ONNX form (exportable: gelu, "
                     f"identity, leaky_relu, relu, sigmoid, softplus, tanh)")


def to_onnx(net, pre, classes=None, name: str = "manualnn", encoder=None, target=None):
    """The ONNX model (``onnx.ModelProto``, checked by ``onnx.checker``) of ``net`` (an MLP)
    after ``pre`` (a fitted Preprocessor): input ``X`` (N, n_1) (or, with a table's
    ``encoder``, one input per column: see onnx_columns.py), outputs ``probabilities``
    (N, n_{L+1}) in the model's dtype and ``label`` (N,) int64; a regression (``target``
    = (mean (t,), scale (t,))) has one output ``values`` (N, t), in the targets' units."""
    onnx = _onnx()
    for act in net.activations:   # refuse before building anything
        _activation(_Graph(onnx, net.dtype), act, "A", "Z")
    g = _Graph(onnx, net.dtype)
    h, elem = onnx.helper, onnx.helper.np_dtype_to_tensor_dtype(net.dtype)
    Z, inputs = "X", [h.make_tensor_value_info("X", elem, ["N", net.layers[0]])]
    if encoder is not None:
        from manualnn.io.onnx_columns import encode_columns
        Z, inputs = encode_columns(g, encoder)
    if pre.kind != "none":
        Z = g.op("Div", [g.op("Sub", [Z, g.const("shift", pre.shift)], "X_shifted"),
                         g.const("scale", pre.scale)], "Z_1")
    for i, W in enumerate(net.W, start=1):
        A = g.op("MatMul", [Z, g.const(f"W_{i}", W)], f"A_{i}" if not net.bias else f"ZW_{i}")
        if net.bias:
            A = g.op("Add", [A, g.const(f"b_{i}", net.b[i - 1])], f"A_{i}")
        Z = _activation(g, net.activations[i - 1], A, f"Z_{i + 1}")
    if target is not None:   # P = Z scale + mean
        g.op("Add", [g.op("Mul", [Z, g.const("target_scale", target[1])], "Z_scaled"),
                     g.const("target_mean", target[0])], "values")
        outputs = [h.make_tensor_value_info("values", elem, ["N", net.layers[-1]])]
    else:
        g.op("Softmax", [Z], "probabilities", axis=1)
        g.op("ArgMax", [Z], "label", axis=1, keepdims=0)
        outputs = [h.make_tensor_value_info("probabilities", elem, ["N", net.layers[-1]]),
                   h.make_tensor_value_info("label", onnx.TensorProto.INT64, ["N"])]
    graph = h.make_graph(g.nodes, name, inputs, outputs, initializer=g.constants)
    from manualnn import __version__
    opsets = [h.make_opsetid("", OPSET)]
    if encoder is not None:
        from manualnn.io.onnx_columns import ML_DOMAIN, ML_OPSET
        opsets.append(h.make_opsetid(ML_DOMAIN, ML_OPSET))
    model = h.make_model(graph, producer_name="manualnn", producer_version=__version__,
                         opset_imports=opsets)
    model.ir_version = min(model.ir_version, 8)   # readable by onnxruntime releases since 1.12
    if classes is not None:
        h.set_model_props(model, {"classes": json.dumps([str(c) for c in classes]),
                                  "preprocess": pre.kind})
    onnx.checker.check_model(model, full_check=True)
    return model
