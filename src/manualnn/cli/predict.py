"""``manualnn predict``: labels and class probabilities (or a regression's values) of a
trained run for new inputs.

Inputs are one ``.npy``/``.npz`` array of shape (n, d) (an .npz holds it as ``X`` or as
its only array), one ``.csv``/``.parquet`` table for a model trained on one (its columns
encoded as at training), or image files (PNG, JPEG) that are read as grey levels 0..255,
resized to the training images' size and preprocessed exactly as at training.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import warnings

import numpy as np

from manualnn import atomic, checks
from manualnn.checks import DataError
from manualnn.cli import memory
from manualnn.cli.evaluation import check_outputs
from manualnn.core.losses import softmax
from manualnn.data import npyfile
from manualnn.data.columns import unseen_lines
from manualnn.data.tables import is_table, pyarrow, read_table
from manualnn.io.rundir import check_output, load_run, model_parts
from manualnn.train.metrics import RegressionMetrics


def predict_files(run_dir, inputs, output=None, max_memory=None, device="cpu",
                  id_column=None) -> str:
    """Predict for ``inputs`` (paths); write CSV/Parquet/JSON to ``output`` or return CSV
    text.  A table's rows are named by its ``id_column`` (else numbered from 0); its
    categories unseen at training are counted (said on stderr when printing).

    The forward pass runs in chunks of rows that fit ``max_memory`` (see memory.py), on
    ``device`` ("cpu" or "cuda").
    """
    from manualnn.cli.experiment import device_backend
    if output is not None:   # before the work: no link, special file or run's own file
        output = check_output(output, "output")
    net, meta, pre = load_run(run_dir, backend=device_backend(device))
    parts = model_parts(meta, run_dir, net.layers)
    unseen, key = {}, "input"
    if parts.encoder is not None or any(is_table(p) for p in inputs):
        names, X, unseen = read_table_input(inputs, parts, id_column, max_memory)
        key = id_column or "row"
    elif id_column is not None:
        raise ValueError("id_column: applies to a .csv or .parquet input")
    else:
        names, X = read_inputs(inputs, meta.get("image_shape"), meta.get("input_range"),
                               meta.get("background"))
    if X.shape[1] != net.layers[0]:
        raise ValueError(f"INPUT: the model takes {net.layers[0]} features per row, "
                         f"got {X.shape[1]}")
    X = checks.float_array(X, "INPUT", ndim=2)
    rows, k = X.shape[0], net.layers[-1]
    fixed = X.nbytes + rows * (X.shape[1] * net.dtype.itemsize + 3 * k * 8)
    chunk = memory.inference_chunk(net, max_memory, fixed_bytes=fixed)
    with np.errstate(over="ignore", invalid="ignore"):   # refused below, with a message
        Z = net(pre.transform(X, net.dtype), chunk=chunk)
    check_outputs(Z, run_dir)
    rows = prediction_rows(names, Z, meta, parts.target, key)
    notes = unseen_lines(unseen)
    if output is None:
        for line in notes:
            print(line, file=sys.stderr)
        return _csv(rows)
    write_predictions(output, rows)
    return "".join(f"{line}\n" for line in [f"wrote {len(rows)} predictions to {output}",
                                            *notes])


def prediction_rows(names, Z, meta, target, key="input") -> list:
    """One dict per row: its name under ``key``, then the label and each class's
    probability, or (a regression, ``target`` = (mean, scale)) each target's value."""
    if target is not None:
        P = RegressionMetrics(*target).values(Z)
        targets = [str(c) for c in meta["classes"]]
        return [{key: n, **{t: float(v) for t, v in zip(targets, p)}}
                for n, p in zip(names, P)]
    P = softmax(Z.astype(np.float64))
    classes = [str(c) for c in meta["classes"]]
    return [{key: n, "label": classes[int(p.argmax())],
             **{f"p_{c}": round(float(v), 6) for c, v in zip(classes, p)}}
            for n, p in zip(names, P)]


def write_predictions(output, rows) -> None:
    """Write ``rows`` (dicts of one set of keys) to ``output``, atomically: .csv, .json,
    or .parquet (pyarrow)."""
    ext = os.path.splitext(output)[1].lower()
    if ext not in (".csv", ".json", ".parquet"):
        raise ValueError(f"output: expected a .csv, .parquet or .json file name, got "
                         f"{output!r}")
    if ext == ".parquet":
        import pyarrow.parquet as pq
        pa, buffer = pyarrow(), io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), buffer)
        atomic.write_bytes(output, buffer.getvalue())
        return
    atomic.write_text(output, _csv(rows) if ext == ".csv" else json.dumps(rows, indent=1))


def read_table_input(paths, parts, id_column, max_memory):
    """(row names, X (n, d), unseen categories' counts) of one .csv/.parquet file read
    against the model's columns (extra columns, such as the labels, are ignored)."""
    from manualnn.cli.experiment import encode_within
    paths = [os.fspath(p) for p in paths]
    if parts.encoder is None:
        raise ValueError("INPUT: this model was not trained on a table; give a .npy/.npz")
    if len(paths) != 1 or not is_table(paths[0]):
        raise ValueError(f"INPUT: expected one .csv or .parquet file for a model trained on "
                         f"a table, got {paths}"[:300])
    types = parts.encoder.types()
    if id_column is not None:
        types.setdefault(id_column, "category")   # ids as written: "007" stays "007"
    limit = memory.resolve_limit(max_memory)
    table = read_table(paths[0], limit, types)
    if id_column is None:
        names = list(range(table.rows))
    else:
        col = table.column(id_column)
        names = [col.levels[c] if c >= 0 else None for c in col.values] \
            if col.kind == "category" else [_number(v) for v in col.values.tolist()]
    X, unseen = encode_within(table, parts.encoder, limit)
    return names, X, unseen


def read_inputs(paths, image_shape, value_range=None, background=None):
    """(row names, X (n, d)) from one array file or several image files (see read_image
    for ``value_range`` and ``background``)."""
    paths = [os.fspath(p) for p in paths]
    exts = {os.path.splitext(p)[1].lower() for p in paths}
    if exts <= set(FORMATS):
        if not image_shape:
            raise ValueError("INPUT: this model was not trained on images; give a .npy/.npz")
        return paths, np.stack([read_image(p, tuple(image_shape), value_range or (0.0, 255.0),
                                           background) for p in paths])
    if len(paths) != 1 or not exts <= {".npy", ".npz"}:
        raise ValueError(f"INPUT: expected one .npy/.npz file or image files, got {paths}")
    X = read_array(paths[0], image_shape)
    return [f"{paths[0]}[{i}]" for i in range(len(X))], X


def read_array(path, image_shape=None):
    """X (n, d) from a .npy file or a .npz archive (its array X, or its only array); an
    array of n images (n, rows, cols) is flattened, as training does, when its pictures
    have the training images' shape (``image_shape``, if the model has one)."""
    data = npyfile.load(path, pick=_pick_X)
    if isinstance(data, dict):
        (data,) = data.values()
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim == 3 and (not image_shape or list(data.shape[1:]) == list(image_shape)):
        data = data.reshape(data.shape[0], -1)
    if data.ndim != 2 or data.dtype.kind not in "biuf":
        shapes = "(n, d)" + (f" or (n, {image_shape[0]}, {image_shape[1]})" if image_shape
                             else " or (n, rows, cols)")
        raise DataError(f"{path}: expected a numeric array of shape {shapes}, got "
                        f"{data.dtype} of shape {data.shape}")
    return data


def _pick_X(path, names):
    if "X" in names or len(names) == 1:
        return ["X" if "X" in names else names[0]]
    raise DataError(f"{path}: expected an array named X (or a single array), found {names}")


FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".gif": "GIF"}
WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")   # 16-bit grey (PNG): 0..65535


def read_image(path, shape, value_range=(0.0, 255.0), background=None):
    """A picture as inputs of the training data's range, resized to ``shape`` (rows, cols),
    flattened (rows x cols,).

    Its format is read from its content and must be the one its name says; grey levels
    come from its own bit depth (8 or 16); where it has alpha it is composited on
    ``background`` (the training images' background value; the range's low end when
    None); then black..white maps to ``value_range`` (lo, hi): 0..16 for digits, 0..255
    for MNIST and for models that did not record a range.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ValueError("INPUT: reading images needs Pillow (pip install manualnn[plot])") \
            from None
    lo, hi = value_range
    bg = lo if background is None else background
    fmt = FORMATS[os.path.splitext(path)[1].lower()]
    try:
        with atomic.open_regular(path, follow=True) as f:
            raw = f.read(64 << 20)
        with warnings.catch_warnings():   # Pillow's warnings would add lines to stderr
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=[fmt]) as img:
                if img.width * img.height > 1 << 26:
                    raise DataError(f"{path}: image of {img.width}x{img.height} pixels is "
                                    "too big")
                try:
                    level = _grey_levels(img, (shape[1], shape[0]),
                                         (bg - lo) / (hi - lo) if hi > lo else 0.0)
                except MemoryError:   # decoding needs the whole picture: no chunks help
                    raise DataError(f"{path}: not enough memory to decode a picture of "
                                    f"{img.width}x{img.height} pixels; give a smaller "
                                    f"picture (the model reads {shape[1]}x{shape[0]})") \
                        from None
                return (lo + level * (hi - lo)).astype(np.float32).reshape(-1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"{path}: image is too big ({exc})") from None
    except UnidentifiedImageError:
        raise DataError(f"{path}: not a readable image: no {fmt} data (its content is another format "
                        "or is damaged)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: not a readable image ({exc})") from None


def _grey_levels(img, size, background: float):
    """Grey levels in [0, 1] of ``img`` resized to ``size`` (cols, rows), alpha
    composited on ``background`` (in [0, 1])."""
    from PIL import Image
    if img.mode in WIDE_MODES:   # no alpha; Pillow's "L" would clip at 255
        wide = np.asarray(img, dtype=np.float32) / 65535
        return np.asarray(Image.fromarray(wide, "F").resize(size), dtype=np.float64)
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        under = Image.new("RGBA", rgba.size, (round(255 * background),) * 3 + (255,))
        img = Image.alpha_composite(under, rgba)
    return np.asarray(img.convert("L").resize(size), dtype=np.float64) / 255


def _number(v):
    """A number cell as written: NaN (missing) None, a whole number an int."""
    if math.isnan(v):
        return None
    return int(v) if v == int(v) and abs(v) < 2**53 else v


def _csv(rows):
    import csv
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
