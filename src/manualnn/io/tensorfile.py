"""The file format under model and checkpoint files: named arrays in one safetensors file,
a JSON document in its header.  Never pickle.

A file is 8 bytes (the header's length n, little-endian), n bytes of JSON header
(``{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}``) and the arrays'
bytes.  manualnn keeps its document, strict JSON, in ``__metadata__["manualnn"]``; every
document has ``format``, ``format_version`` and ``meta`` (free-form JSON).  A checkpoint
(``save_arrays``) is one such file whose document is
``{"format": "manualnn.arrays", "format_version": 1, "meta": {...}}``; a model's (more
fields, and a model.json copy beside it) is io/serialize.py's.

Reading trusts nothing: the header is parsed and checked here (length, JSON, dtypes,
shapes against byte ranges, ranges against the file size) before any array is allocated,
so a hostile file costs at most its own size and fails with a ``DataError`` naming the
file and the fault.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, BinaryIO, NoReturn

import numpy as np

from manualnn import atomic
from manualnn.checks import DataError, FilePath

ARRAYS_FORMAT, FORMAT_VERSION = "manualnn.arrays", 1
HEADER_KEY = "manualnn"
MAX_HEADER = 100_000_000  # bytes; the safetensors library's own limit
MAX_NDIM = 32
MAX_TENSORS = 10_000   # a model has 2 per layer; a checkpoint about 3 times that
DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8",
          "U8": "u1", "U32": "<u4", "U64": "<u8"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")

#: A tensor as its header entry gives it: (dtype code, shape, begin, end) in the data bytes.
Spec = tuple[str, tuple[int, ...], int, int]
#: field (dotted below the top level): (accepts the value, what was expected)
Rules = Mapping[str, tuple[Callable[[Any], bool], str]]


def natural(x: object, low: int = 0) -> bool:
    """Whether ``x`` is an int (not a bool) of at least ``low``."""
    return isinstance(x, int) and not isinstance(x, bool) and x >= low


# the fields every manualnn document has, whatever its format
RULES: Rules = {
    "format_version": (lambda v: natural(v) and v == FORMAT_VERSION, f"expected {FORMAT_VERSION}"),
    "meta": (lambda v: isinstance(v, dict), "expected an object"),
}


# -- the checkpoint file -------------------------------------------------------------------
def save_arrays(path: FilePath, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write named ``arrays`` and JSON ``meta`` into one safetensors file, atomically."""
    checked = check_arrays(arrays, "arrays", reserved={})
    doc = {"format": ARRAYS_FORMAT, "format_version": FORMAT_VERSION, "meta": meta}
    write(path, checked, dumps(doc, "meta"))


def load_arrays(path: FilePath) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a ``save_arrays`` file: returns (arrays, meta), every fault a ``DataError``."""
    path = os.fspath(path)
    with atomic.open_regular(path) as f:
        specs, metadata, data_start = read_header(f, path)
        doc = header_doc(metadata, path)
        check_format(doc, ARRAYS_FORMAT, path)
        check_keys(doc, {"format", "format_version", "meta"}, path, "header document")
        apply_rules(doc, RULES, path)
        return read_data(f, path, specs, data_start), doc["meta"]


# -- writing -------------------------------------------------------------------------------
def dumps(doc: dict[str, Any], name: str) -> str:
    """``doc`` as strict JSON; a TypeError naming ``name`` where ``doc["meta"]`` is not a
    dict or would not read back equal."""
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


def check_arrays(arrays: object, name: str,
                 reserved: Iterable[str]) -> dict[str, np.ndarray]:
    """Names and arrays a reader will accept: known dtype, finite floats, no name among
    ``reserved``; returns them little-endian and C-ordered."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{name}: expected a dict of name -> array, got {type(arrays).__name__}")
    allowed = {np.dtype(t) for t in DTYPES.values()}
    taken = set(reserved)
    out = {}
    for key, value in arrays.items():
        if not isinstance(key, str) or not NAME.fullmatch(key):
            raise ValueError(f"{name}: bad array name {key!r} (expected letters, digits, "
                             "'_', '.', '-', at most 200 characters)")
        if key in taken:
            raise ValueError(f"{name}: array name {key!r} clashes with a weight name")
        if not isinstance(value, np.ndarray) or value.dtype.newbyteorder("<") not in allowed:
            what = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise TypeError(f"{name}[{key!r}]: expected a NumPy array of float32/float64 "
                            f"or (u)int, got {what}")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ValueError(f"{name}[{key!r}]: expected finite values, got NaN or infinity")
        out[key] = value.astype(value.dtype.newbyteorder("<"), order="C", copy=False)
    return out


def write(path: FilePath, arrays: dict[str, np.ndarray], text: str) -> None:
    """``arrays`` (checked by ``check_arrays``) and the document ``text``, atomically."""
    from safetensors.numpy import save

    atomic.write_bytes(path, save(arrays, metadata={HEADER_KEY: text}))


# -- faults --------------------------------------------------------------------------------
def fail(path: FilePath, message: str) -> NoReturn:
    """Raise the DataError ``"{path}: {message}"``."""
    raise DataError(f"{path}: {message}")


def expect(ok: bool, path: FilePath, field: str, wanted: str, got: object) -> None:
    """Fail, naming ``field``, what was ``wanted`` and what was got, unless ``ok``."""
    if not ok:
        fail(path, f"field {field!r}: {wanted}, got {short(got)}")


def short(value: object) -> str:
    """``repr(value)`` cut to 80 characters: a hostile file's value is named, not dumped."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- reading the container -----------------------------------------------------------------
def parse_json(raw: bytes, path: FilePath, what: str, max_objects: int | None = None) -> Any:
    """Strict JSON: no NaN/Infinity, no duplicate keys (which a reader could take either
    way); more than ``max_objects`` objects stop the parse there."""
    count = [0]

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        count[0] += 1
        if max_objects is not None and count[0] > max_objects:
            raise ValueError(f"more than {max_objects} objects")
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate key in {what}")
        return dict(items)

    def constant(name: str) -> NoReturn:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        fail(path, f"{what} is not valid JSON ({str(exc)[:120]})")


def read_header(f: BinaryIO, path: FilePath) -> tuple[dict[str, Spec], dict[str, str], int]:
    """(specs {name: (dtype code, shape, begin, end)}, metadata, data start), all checked."""
    size = os.fstat(f.fileno()).st_size
    if size < 8:
        fail(path, f"truncated: {size} bytes, a safetensors file has at least 8")
    n = int.from_bytes(f.read(8), "little")
    if n > MAX_HEADER or n > size - 8:
        fail(path, f"header length {n} is impossible (file has {size} bytes, "
                   f"limit {MAX_HEADER})")
    # one object per tensor: a header of millions of empty tensors stops at the limit
    header = parse_json(f.read(n), path, "header", max_objects=MAX_TENSORS + 2)
    if not isinstance(header, dict):
        fail(path, "header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail(path, "header __metadata__ is not a map of strings")
    specs = {name: _check_spec(name, spec, path) for name, spec in header.items()}
    _check_layout(specs, size - 8 - n, path)
    return specs, metadata, 8 + n


def _check_spec(name: str, spec: object, path: FilePath) -> Spec:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
        fail(path, f"tensor {name!r}: expected dtype, shape and data_offsets")
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        fail(path, f"tensor {name!r}: dtype {short(dtype)} not among {sorted(DTYPES)}")
    if not (isinstance(shape, list) and len(shape) <= MAX_NDIM and all(natural(d) for d in shape)):
        fail(path, f"tensor {name!r}: shape {short(shape)} is not a list of at most "
                   f"{MAX_NDIM} non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(natural, offsets))
            and offsets[0] <= offsets[1]):
        fail(path, f"tensor {name!r}: data_offsets {short(offsets)} is not [begin, end]")
    nbytes = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize  # Python int: no overflow
    if offsets[1] - offsets[0] != nbytes:
        fail(path, f"tensor {name!r}: shape {shape} of {dtype} needs {nbytes} bytes, "
                   f"data_offsets give {offsets[1] - offsets[0]}")
    return dtype, tuple(shape), offsets[0], offsets[1]


def _check_layout(specs: dict[str, Spec], data_len: int, path: FilePath) -> None:
    """Byte ranges must tile [0, data_len) exactly: within the file, no overlap, no gap."""
    pos = 0
    for name, (_, _, begin, end) in sorted(specs.items(), key=lambda kv: kv[1][2:]):
        if begin != pos:
            fail(path, f"tensor {name!r}: data starts at {begin}, expected {pos} "
                       "(overlapping or gapped data_offsets)")
        if end > data_len:
            fail(path, f"tensor {name!r}: data ends at {end}, past the {data_len} "
                       "data bytes in the file (truncated?)")
        pos = end
    if pos != data_len:
        fail(path, f"data_offsets cover {pos} bytes, the file holds {data_len}")


def read_data(f: BinaryIO, path: FilePath, specs: dict[str, Spec],
              data_start: int) -> dict[str, np.ndarray]:
    """The arrays ``specs`` (from ``read_header``) describe, each an own native-order copy;
    NaN or infinity is a fault."""
    f.seek(data_start)
    data = f.read()
    out = {}
    for name, (dtype, shape, begin, end) in specs.items():
        if end > len(data):  # the file shrank since the header was checked
            fail(path, f"tensor {name!r}: truncated data")
        arr = np.frombuffer(data, DTYPES[dtype], math.prod(shape), begin).reshape(shape)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            fail(path, f"tensor {name!r} has NaN or infinite values")
        out[name] = arr.astype(arr.dtype.newbyteorder("="))  # own, aligned, writable copy
    return out


def header_doc(metadata: dict[str, str], path: FilePath) -> Any:
    """manualnn's document in the header ``metadata``, parsed (not yet checked)."""
    if HEADER_KEY not in metadata:
        fail(path, f"not a manualnn file: no {HEADER_KEY!r} entry in the header metadata")
    return parse_json(metadata[HEADER_KEY].encode("utf-8"), path, "header document")


def read_json(path: FilePath, limit: int = MAX_HEADER) -> Any:
    """The parsed file (strict JSON, at most ``limit`` bytes), or None where there is
    none; DataError naming the file for anything else."""
    f = atomic.open_regular(path, missing_ok=True)   # one open: no check-then-open race
    if f is None:
        return None
    with f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        fail(path, f"larger than {limit} bytes")
    return parse_json(raw, path, "file")


# -- the document --------------------------------------------------------------------------
def check_keys(obj: object, keys: set[str], path: FilePath, where: str) -> None:
    """``obj`` must be a JSON object with exactly ``keys``."""
    if not isinstance(obj, dict):
        fail(path, f"{where}: expected a JSON object, got {short(obj)}")
    if set(obj) != keys:
        missing, extra = sorted(keys - set(obj)), sorted(set(obj) - keys)
        fail(path, f"{where}: missing fields {missing}, unexpected fields {extra}")


def check_format(doc: object, expected: str, path: FilePath) -> None:
    """First, so that a checkpoint read as a model (or the reverse) is named as such."""
    found = doc.get("format") if isinstance(doc, dict) else doc
    expect(found == expected, path, "format", f"expected {expected!r}", found)


def apply_rules(doc: dict[str, Any], rules: Rules, path: FilePath) -> None:
    """Check each field of ``rules`` in ``doc`` (whose objects ``check_keys`` checked)."""
    for field, (accepts, wanted) in rules.items():
        *parents, key = field.split(".")
        value = doc[parents[0]][key] if parents else doc[key]
        expect(accepts(value), path, field, wanted, value)
