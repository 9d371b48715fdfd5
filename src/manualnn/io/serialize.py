"""Model and checkpoint files: arrays in safetensors, description in JSON.  Never pickle.

A model is a folder holding ``model.safetensors`` (the atomic, self-sufficient unit: the
weights W1, b1, ..., WL, bL (no b without bias), any extra arrays such as
"preprocess.mean", and in the header's ``__metadata__["manualnn"]`` the JSON document
below) and ``model.json`` (the same document, indented, for people and tools):

    {"format": "manualnn.model", "format_version": 1, "manualnn_version": "0.1.0",
     "architecture": {"layers": [784, 100, 10], "bias": true, "dtype": "float32",
                      "activations": {"hidden": ["relu"], "output": "identity"},
                      "dropout": 0.0},
     "arrays": ["preprocess.mean"], "meta": {...free-form JSON...}}

A checkpoint (``save_arrays``) is one safetensors file whose header document is
``{"format": "manualnn.arrays", "format_version": 1, "meta": {...}}``.

Reading trusts nothing: the header is parsed and checked here (length, JSON, dtypes,
shapes against byte ranges, ranges against the file size) before any array is allocated,
so a hostile file costs at most its own size and fails with a ``DataError`` naming the
file and the fault.  Only fixed file names inside ``folder`` are touched.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re

import numpy as np

from manualnn import atomic
from manualnn.checks import DataError
from manualnn.core.activations import ACTIVATIONS
from manualnn.core.network import MLP

MODEL_FILE, CONFIG_FILE = "model.safetensors", "model.json"
MODEL_FORMAT, ARRAYS_FORMAT, FORMAT_VERSION = "manualnn.model", "manualnn.arrays", 1
HEADER_KEY = "manualnn"
MAX_HEADER = 100_000_000  # bytes; the safetensors library's own limit
MAX_NDIM = 32
DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8",
          "U8": "u1", "U32": "<u4", "U64": "<u8"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")
DOC_KEYS = {"format", "format_version", "manualnn_version", "architecture", "arrays", "meta"}
ARCH_KEYS = {"layers", "activations", "bias", "dtype", "dropout"}


# -- public API ----------------------------------------------------------------------------
def save_model(folder, net: MLP, meta: dict | None = None, arrays: dict | None = None) -> None:
    """Write ``net`` (and extra ``arrays``, free-form JSON ``meta``) into ``folder``.

    model.json is removed first and rewritten last, each file atomically: after a crash at
    any point the folder holds a loadable model (old or new), since a missing model.json
    makes ``load_model`` read the header copy.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net: expected an MLP, got {type(net).__name__}")
    for act in net.activations:
        if ACTIVATIONS.get(act.name) is not act:
            raise ValueError(f"net: activation {act.name!r} is not the registered one; "
                             "register it so that a load can rebuild it")
    # the weights go to the host: a file is the same whichever backend trained the model
    weights = {name: net.ops.to_numpy(p) for name, p in zip(net.param_names, net.params)}
    extras = _check_arrays({} if arrays is None else arrays, "arrays", reserved=weights)
    _check_arrays(weights, "net.params", reserved={})
    from manualnn import __version__  # lazily: the package imports its layers, not the reverse

    arch = {"layers": list(net.layers), "bias": net.bias, "dtype": net.dtype.name,
            "activations": {"hidden": [a.name for a in net.activations[:-1]],
                            "output": net.activations[-1].name},
            "dropout": float(net.dropout)}
    doc = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION,
           "manualnn_version": __version__, "architecture": arch,
           "arrays": sorted(extras), "meta": {} if meta is None else meta}
    text = _dumps(doc, "meta")
    os.makedirs(folder, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(folder, CONFIG_FILE))
    _write(os.path.join(folder, MODEL_FILE), {**weights, **extras}, text)
    atomic.write_text(os.path.join(folder, CONFIG_FILE), json.dumps(doc, indent=2) + "\n")


def load_model(folder, backend="auto"):
    """Read a model folder back: returns (net, meta, arrays), net an :class:`MLP` on
    ``backend`` (any: files are backend-neutral).

    Everything is checked before use; any fault raises ``DataError`` naming the file.
    """
    path = os.path.join(folder, MODEL_FILE)
    with _open(path) as f:
        specs, metadata, data_start = _read_header(f, path)
        doc = _check_model_doc(_header_doc(metadata, path), path)
        config = os.path.join(folder, CONFIG_FILE)
        config_doc = read_json(config)
        if config_doc is not None:  # missing after a crash mid-save: the header is enough
            _compare(_check_model_doc(config_doc, config), doc, folder)
        arch = doc["architecture"]
        _check_tensor_set(specs, _weight_specs(arch), doc["arrays"], path)
        tensors = _read_data(f, path, specs, data_start)
    net = MLP(arch["layers"], arch["activations"]["hidden"], arch["activations"]["output"],
              bias=arch["bias"], init="zeros", dtype=arch["dtype"], dropout=arch["dropout"],
              backend=backend)
    net.set_params([tensors[name] for name in net.param_names])
    return net, doc["meta"], {name: tensors[name] for name in doc["arrays"]}


def save_arrays(path, arrays: dict, meta: dict) -> None:
    """Write named ``arrays`` and JSON ``meta`` into one safetensors file, atomically."""
    checked = _check_arrays(arrays, "arrays", reserved={})
    doc = {"format": ARRAYS_FORMAT, "format_version": FORMAT_VERSION, "meta": meta}
    _write(path, checked, _dumps(doc, "meta"))


def load_arrays(path):
    """Read a ``save_arrays`` file: returns (arrays, meta), every fault a ``DataError``."""
    path = os.fspath(path)
    with _open(path) as f:
        specs, metadata, data_start = _read_header(f, path)
        doc = _header_doc(metadata, path)
        _check_format(doc, ARRAYS_FORMAT, path)
        _keys(doc, {"format", "format_version", "meta"}, path, "header document")
        _apply_rules(doc, ["format_version", "meta"], path)
        return _read_data(f, path, specs, data_start), doc["meta"]


# -- writing -------------------------------------------------------------------------------
def _dumps(doc: dict, name: str) -> str:
    if not isinstance(doc["meta"], dict):
        raise TypeError(f"{name}: expected a dict, got {type(doc['meta']).__name__}")
    try:
        text = json.dumps(doc, allow_nan=False)  # strict JSON: any reader can parse it
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected JSON-serializable values "
                        f"(str keys, no NaN/inf): {exc}") from None
    if json.loads(text)["meta"] != doc["meta"]:
        raise TypeError(f"{name}: does not survive a JSON round trip "
                        "(use lists, not tuples, and str keys)")
    return text


def _check_arrays(arrays, name: str, reserved) -> dict:
    """Names and arrays a reader will accept: known dtype, finite floats, no clashes."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{name}: expected a dict of name -> array, got {type(arrays).__name__}")
    allowed = {np.dtype(t) for t in DTYPES.values()}
    out = {}
    for key, value in arrays.items():
        if not isinstance(key, str) or not NAME.fullmatch(key):
            raise ValueError(f"{name}: bad array name {key!r} (expected letters, digits, "
                             "'_', '.', '-', at most 200 characters)")
        if key in reserved:
            raise ValueError(f"{name}: array name {key!r} clashes with a weight name")
        if not isinstance(value, np.ndarray) or value.dtype.newbyteorder("<") not in allowed:
            what = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise TypeError(f"{name}[{key!r}]: expected a NumPy array of float32/float64 "
                            f"or (u)int, got {what}")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ValueError(f"{name}[{key!r}]: expected finite values, got NaN or infinity")
        out[key] = value.astype(value.dtype.newbyteorder("<"), order="C", copy=False)
    return out


def _write(path, arrays: dict, text: str) -> None:
    from safetensors.numpy import save

    atomic.write_bytes(path, save(arrays, metadata={HEADER_KEY: text}))


# -- reading the container -----------------------------------------------------------------
def _fail(path, message: str):
    raise DataError(f"{path}: {message}")


def _expect(ok: bool, path, field: str, wanted: str, got) -> None:
    if not ok:
        _fail(path, f"field {field!r}: {wanted}, got {_short(got)}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _open(path):
    try:
        return open(path, "rb")  # callers close it in a with block
    except FileNotFoundError:
        _fail(path, "no such file")
    except OSError as exc:
        _fail(path, f"cannot be read ({exc.strerror})")


def _parse_json(raw: bytes, path, what: str):
    """Strict JSON: no NaN/Infinity, no duplicate keys (which a reader could take either way)."""
    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate key in {what}")
        return dict(items)

    def constant(name):
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        _fail(path, f"{what} is not valid JSON ({str(exc)[:120]})")


def _read_header(f, path):
    """(specs {name: (dtype code, shape, begin, end)}, metadata, data start), all checked."""
    size = os.fstat(f.fileno()).st_size
    if size < 8:
        _fail(path, f"truncated: {size} bytes, a safetensors file has at least 8")
    n = int.from_bytes(f.read(8), "little")
    if n > MAX_HEADER or n > size - 8:
        _fail(path, f"header length {n} is impossible (file has {size} bytes, "
                    f"limit {MAX_HEADER})")
    header = _parse_json(f.read(n), path, "header")
    if not isinstance(header, dict):
        _fail(path, "header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        _fail(path, "header __metadata__ is not a map of strings")
    specs = {name: _check_spec(name, spec, path) for name, spec in header.items()}
    _check_layout(specs, size - 8 - n, path)
    return specs, metadata, 8 + n


def _check_spec(name, spec, path):
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
        _fail(path, f"tensor {name!r}: expected dtype, shape and data_offsets")
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        _fail(path, f"tensor {name!r}: dtype {_short(dtype)} not among {sorted(DTYPES)}")
    if not (isinstance(shape, list) and len(shape) <= MAX_NDIM and all(_natural(d) for d in shape)):
        _fail(path, f"tensor {name!r}: shape {_short(shape)} is not a list of at most "
                    f"{MAX_NDIM} non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_natural, offsets))
            and offsets[0] <= offsets[1]):
        _fail(path, f"tensor {name!r}: data_offsets {_short(offsets)} is not [begin, end]")
    nbytes = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize  # Python int: no overflow
    if offsets[1] - offsets[0] != nbytes:
        _fail(path, f"tensor {name!r}: shape {shape} of {dtype} needs {nbytes} bytes, "
                    f"data_offsets give {offsets[1] - offsets[0]}")
    return dtype, tuple(shape), offsets[0], offsets[1]


def _check_layout(specs, data_len: int, path) -> None:
    """Byte ranges must tile [0, data_len) exactly: within the file, no overlap, no gap."""
    pos = 0
    for name, (_, _, begin, end) in sorted(specs.items(), key=lambda kv: kv[1][2:]):
        if begin != pos:
            _fail(path, f"tensor {name!r}: data starts at {begin}, expected {pos} "
                        "(overlapping or gapped data_offsets)")
        if end > data_len:
            _fail(path, f"tensor {name!r}: data ends at {end}, past the {data_len} "
                        "data bytes in the file (truncated?)")
        pos = end
    if pos != data_len:
        _fail(path, f"data_offsets cover {pos} bytes, the file holds {data_len}")


def _read_data(f, path, specs, data_start: int) -> dict:
    f.seek(data_start)
    data = f.read()
    out = {}
    for name, (dtype, shape, begin, end) in specs.items():
        if end > len(data):  # the file shrank since the header was checked
            _fail(path, f"tensor {name!r}: truncated data")
        arr = np.frombuffer(data, DTYPES[dtype], math.prod(shape), begin).reshape(shape)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            _fail(path, f"tensor {name!r} has NaN or infinite values")
        out[name] = arr.astype(arr.dtype.newbyteorder("="))  # own, aligned, writable copy
    return out


def _header_doc(metadata: dict, path):
    if HEADER_KEY not in metadata:
        _fail(path, f"not a manualnn file: no {HEADER_KEY!r} entry in the header metadata")
    return _parse_json(metadata[HEADER_KEY].encode("utf-8"), path, "header document")


def read_json(path, limit: int = MAX_HEADER):
    """The parsed file (strict JSON, at most ``limit`` bytes), or None where there is
    none; DataError naming the file for anything else."""
    if not os.path.lexists(path):
        return None
    with _open(path) as f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        _fail(path, f"larger than {limit} bytes")
    return _parse_json(raw, path, "file")


# -- the model document --------------------------------------------------------------------
def _keys(obj, keys: set, path, where: str) -> None:
    if not isinstance(obj, dict):
        _fail(path, f"{where}: expected a JSON object, got {_short(obj)}")
    if set(obj) != keys:
        missing, extra = sorted(keys - set(obj)), sorted(set(obj) - keys)
        _fail(path, f"{where}: missing fields {missing}, unexpected fields {extra}")


def _check_format(doc, expected: str, path) -> None:
    """First, so that a checkpoint read as a model (or the reverse) is named as such."""
    found = doc.get("format") if isinstance(doc, dict) else doc
    _expect(found == expected, path, "format", f"expected {expected!r}", found)


def _natural(x, low: int = 0) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= low


# field: (accepts the value, what was expected); the model document's other fields below
RULES = {
    "format_version": (lambda v: _natural(v) and v == FORMAT_VERSION, f"expected {FORMAT_VERSION}"),
    "manualnn_version": (lambda v: isinstance(v, str), "expected a string"),
    "arrays": (lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v)
               and len(set(v)) == len(v), "expected a list of distinct names"),
    "meta": (lambda v: isinstance(v, dict), "expected an object"),
    "architecture.layers": (lambda v: isinstance(v, list) and len(v) >= 2
                            and all(_natural(n, 1) for n in v),
                            "expected a list of at least two positive integers"),
    "architecture.bias": (lambda v: isinstance(v, bool), "expected true/false"),
    "architecture.dtype": (lambda v: v in ("float32", "float64"),
                           "expected 'float32' or 'float64'"),
    "architecture.dropout": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                             and 0 <= v < 1, "expected a number in [0, 1)"),
}


def _apply_rules(doc: dict, fields, path) -> None:
    for field in fields:
        *parents, key = field.split(".")
        value = doc[parents[0]][key] if parents else doc[key]
        accepts, wanted = RULES[field]
        _expect(accepts(value), path, field, wanted, value)


def _check_model_doc(doc, path) -> dict:
    """Check every field a load will use; returns ``doc``."""
    _check_format(doc, MODEL_FORMAT, path)
    _keys(doc, DOC_KEYS, path, "document")
    _keys(doc["architecture"], ARCH_KEYS, path, "architecture")
    _apply_rules(doc, RULES, path)
    arch = doc["architecture"]
    acts, n_hidden = arch["activations"], len(arch["layers"]) - 2
    _keys(acts, {"hidden", "output"}, path, "architecture.activations")
    _expect(isinstance(acts["hidden"], list) and len(acts["hidden"]) == n_hidden, path,
            "architecture.activations.hidden", f"expected a list of {n_hidden} names",
            acts["hidden"])
    for name in [*acts["hidden"], acts["output"]]:
        if not isinstance(name, str) or name not in ACTIVATIONS:
            _fail(path, f"unknown activation {_short(name)}; known: {sorted(ACTIVATIONS)} "
                        "(register custom ones before loading)")
    return doc


def _compare(config: dict, header: dict, folder) -> None:
    """The two copies must agree entirely: a partial match would mix two saves."""
    diffs = [f"architecture.{k} ({_short(config['architecture'][k])} vs "
             f"{_short(header['architecture'][k])})"
             for k in sorted(ARCH_KEYS) if config["architecture"][k] != header["architecture"][k]]
    diffs += [k for k in sorted(DOC_KEYS - {"architecture"}) if config[k] != header[k]]
    if diffs:
        raise DataError(f"{folder}: {CONFIG_FILE} and {MODEL_FILE} disagree: "
                        f"{'; '.join(diffs)} (remove {CONFIG_FILE} to use the header copy)")


def _weight_specs(arch: dict) -> dict:
    """{name: (dtype code, shape)} that the architecture implies, in MLP.param_names order."""
    n, code = arch["layers"], "F32" if arch["dtype"] == "float32" else "F64"
    specs = {}
    for i in range(len(n) - 1):
        specs[f"W{i + 1}"] = (code, (n[i], n[i + 1]))
        if arch["bias"]:
            specs[f"b{i + 1}"] = (code, (n[i + 1],))
    return specs


def _check_tensor_set(specs: dict, weights: dict, extras: list, path) -> None:
    for name in [*weights, *extras]:
        if name not in specs:
            _fail(path, f"missing tensor {name!r}")
    for name in extras:
        if name in weights:
            _fail(path, f"field 'arrays': extra array {name!r} clashes with a weight name")
    for name in specs:
        if name not in weights and name not in extras:
            _fail(path, f"unexpected tensor {name!r} (not a weight, not a declared array)")
    for name, (code, shape) in weights.items():
        found_code, found_shape = specs[name][:2]
        if (found_code, found_shape) != (code, shape):
            _fail(path, f"tensor {name!r}: expected shape {shape} and dtype "
                        f"{np.dtype(DTYPES[code]).name}, found shape {found_shape} and "
                        f"dtype {np.dtype(DTYPES[found_code]).name}")

