"""``manualnn export RUN_DIR model.onnx``: a run's model and preprocessing as ONNX."""

from __future__ import annotations

import os

from manualnn import atomic
from manualnn.io.rundir import load_run, model_parts


def export_run(run_dir, output) -> str:
    """Write the ONNX graph of the run in ``run_dir`` to ``output`` (atomically; a link or
    special file there is refused); returns the line that says what was written."""
    path = atomic.check_target(output, "output")
    if os.path.splitext(path)[1].lower() != ".onnx":
        raise ValueError(f"output: expected a file name ending in .onnx, got {path!r}")
    net, meta, pre = load_run(run_dir)
    parts = model_parts(meta, run_dir, net.layers)
    from manualnn.io.onnx_export import to_onnx
    model = to_onnx(net, pre, classes=meta["classes"], encoder=parts.encoder,
                    target=parts.target)
    data = model.SerializeToString()
    atomic.write_bytes(path, data)
    kinds = {n.op_type for n in model.graph.node}
    return (f"wrote {path}: {'-'.join(map(str, net.layers))} {net.dtype.name}, "
            f"preprocess {pre.kind}, {len(model.graph.node)} nodes "
            f"({', '.join(sorted(kinds))}), {len(data):,} bytes")
