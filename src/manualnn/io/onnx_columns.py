"""A table's column encoding (data/columns.py) as ONNX nodes, with ai.onnx.ml operators.

One graph input per column, named as the column, shape (N, 1):

    number, boolean   float32, NaN where missing      Imputer (the training median),
                                                      IsNaN + Cast (the indicator)
    category          string, "" where missing        OneHotEncoder (zeros=1: a category
                                                      never seen is all zeros), Reshape

then Concat into X (N, n_1), cast to the model's dtype: the same numbers as
``ColumnEncoder.transform``, which onnxruntime checks in the tests.
"""

from __future__ import annotations

import numpy as np

ML_DOMAIN, ML_OPSET = "ai.onnx.ml", 3


def encode_columns(g, encoder) -> tuple[str, list]:
    """Nodes of ``g`` (an onnx_export._Graph) that encode the columns of ``encoder``;
    returns (the name of X, the graph's input value infos)."""
    onnx = g.onnx
    h, parts, inputs = onnx.helper, [], []
    for i, s in enumerate(encoder.specs):
        name, tag = s["name"], f"col{i}"
        if s["kind"] == "category":
            inputs.append(h.make_tensor_value_info(name, onnx.TensorProto.STRING, ["N", 1]))
            cats = list(s["categories"]) + [""] * s["missing"]
            hot = g.op("OneHotEncoder", [name], f"{tag}_hot3", domain=ML_DOMAIN,
                       cats_strings=cats, zeros=1)
            shape = g.const_int(f"{tag}_shape", [-1, len(cats)])
            parts.append(g.op("Reshape", [hot, shape], f"{tag}_hot"))
            continue
        inputs.append(h.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["N", 1]))
        parts.append(g.op("Imputer", [name], f"{tag}_imputed", domain=ML_DOMAIN,
                          imputed_value_floats=[float(np.float32(s["median"]))],
                          replaced_value_float=float("nan")))
        if s["indicator"]:
            nan = g.op("IsNaN", [name], f"{tag}_isnan")
            parts.append(g.op("Cast", [nan], f"{tag}_missing",
                              to=onnx.TensorProto.FLOAT))
    joined = g.op("Concat", parts, "X_columns", axis=1) if len(parts) > 1 else parts[0]
    elem = h.np_dtype_to_tensor_dtype(np.dtype(g.dtype))
    return g.op("Cast", [joined], "X", to=elem), inputs


def column_feeds(table, encoder) -> dict:
    """The onnxruntime inputs for a :class:`~manualnn.data.tables.Table` (its columns
    as the graph takes them): float32 (N, 1) with NaN, or strings (N, 1) with ""."""
    feeds = {}
    for s in encoder.specs:
        col = table.column(s["name"])
        if s["kind"] == "category":
            values = np.array([col.levels[c] if c >= 0 else "" for c in col.values],
                              dtype=object)
        else:
            values = col.values.astype(np.float32)
        feeds[s["name"]] = values.reshape(-1, 1)
    return feeds
