"""``manualnn predict``: labels and class probabilities of a trained run for new inputs.

Inputs are one ``.npy``/``.npz`` array of shape (n, d) (an .npz holds it as ``X`` or as
its only array), or image files (PNG, JPEG) that are read as grey levels 0..255, resized
to the training images' size and preprocessed exactly as at training.
"""

from __future__ import annotations

import io
import json
import os
import warnings

import numpy as np

from manualnn import atomic, checks
from manualnn.checks import DataError
from manualnn.cli import memory
from manualnn.core.losses import softmax
from manualnn.data import npyfile
from manualnn.io.rundir import load_run

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def predict_files(run_dir, inputs, output=None, max_memory=None, device="cpu") -> str:
    """Predict for ``inputs`` (paths); write CSV/JSON to ``output`` or return CSV text.

    The forward pass runs in chunks of rows that fit ``max_memory`` (see memory.py), on
    ``device`` ("cpu" or "cuda").
    """
    from manualnn.cli.experiment import device_backend
    net, meta, pre = load_run(run_dir, backend=device_backend(device))
    names, X = read_inputs(inputs, meta.get("image_shape"))
    if X.shape[1] != net.layers[0]:
        raise ValueError(f"INPUT: the model takes {net.layers[0]} features per row, "
                         f"got {X.shape[1]}")
    X = checks.float_array(X, "INPUT", ndim=2)
    rows, k = X.shape[0], net.layers[-1]
    fixed = X.nbytes + rows * (X.shape[1] * net.dtype.itemsize + 3 * k * 8)
    chunk = memory.inference_chunk(net, max_memory, fixed_bytes=fixed)
    P = softmax(net(pre.transform(X, net.dtype), chunk=chunk).astype(np.float64))
    classes = [str(c) for c in meta["classes"]]
    rows = [{"input": n, "label": classes[int(p.argmax())],
             **{f"p_{c}": round(float(v), 6) for c, v in zip(classes, p)}}
            for n, p in zip(names, P)]
    if output is None:
        return _csv(rows)
    ext = os.path.splitext(output)[1].lower()
    if ext not in (".csv", ".json"):
        raise ValueError(f"output: expected a .csv or .json file name, got {output!r}")
    atomic.write_text(output, _csv(rows) if ext == ".csv" else json.dumps(rows, indent=1))
    return f"wrote {len(rows)} predictions to {output}\n"


def read_inputs(paths, image_shape):
    """(row names, X (n, d)) from one array file or several image files."""
    paths = [os.fspath(p) for p in paths]
    exts = {os.path.splitext(p)[1].lower() for p in paths}
    if exts <= set(IMAGE_TYPES):
        if not image_shape:
            raise ValueError("INPUT: this model was not trained on images; give a .npy/.npz")
        return paths, np.stack([read_image(p, tuple(image_shape)) for p in paths])
    if len(paths) != 1 or not exts <= {".npy", ".npz"}:
        raise ValueError(f"INPUT: expected one .npy/.npz file or image files, got {paths}")
    X = read_array(paths[0])
    return [f"{paths[0]}[{i}]" for i in range(len(X))], X


def read_array(path):
    """X (n, d) from a .npy file or a .npz archive (its array X, or its only array)."""
    data = npyfile.load(path, pick=_pick_X)
    if isinstance(data, dict):
        (data,) = data.values()
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or data.dtype.kind not in "biuf":
        raise DataError(f"{path}: expected a numeric array of shape (n, d), got "
                        f"{data.dtype} of shape {data.shape}")
    return data


def _pick_X(path, names):
    if "X" in names or len(names) == 1:
        return ["X" if "X" in names else names[0]]
    raise DataError(f"{path}: expected an array named X (or a single array), found {names}")


def read_image(path, shape):
    """A picture as grey levels 0..255, resized to ``shape`` (rows, cols), flattened."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ValueError("INPUT: reading images needs Pillow (pip install manualnn[plot])") \
            from None
    try:
        with open(path, "rb") as f:
            raw = f.read(64 << 20)
        with warnings.catch_warnings():   # Pillow's warnings would add lines to stderr
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as img:
                if img.width * img.height > 1 << 26:
                    raise DataError(f"{path}: image of {img.width}x{img.height} pixels is "
                                    "too big")
                grey = img.convert("L").resize((shape[1], shape[0]))
                return np.asarray(grey, dtype=np.float32).reshape(-1)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"{path}: image is too big ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: not a readable image ({exc})") from None


def _csv(rows):
    import csv
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
