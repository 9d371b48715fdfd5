"""Model files: a network, its extra arrays and free-form JSON in a folder.  Never pickle.

A model is a folder holding ``model.safetensors`` (the atomic, self-sufficient unit: the
weights W1, b1, ..., WL, bL (no b without bias), any extra arrays such as
"preprocess.mean", and in the header's ``__metadata__["manualnn"]`` the JSON document
below) and ``model.json`` (the same document, indented, for people and tools):

    {"format": "manualnn.model", "format_version": 1, "manualnn_version": "0.1.0",
     "architecture": {"layers": [784, 100, 10], "bias": true, "dtype": "float32",
                      "activations": {"hidden": ["relu"], "output": "identity"},
                      "dropout": 0.0},
     "arrays": ["preprocess.mean"], "meta": {...free-form JSON...}}

The file format under it, its checks of a hostile file and the checkpoint files
(``save_arrays``, ``load_arrays``) are io/tensorfile.py's; here are the model document's
rules, and the two copies' agreement.  Only fixed file names inside ``folder`` are touched.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, BinaryIO

import numpy as np

from manualnn import atomic
from manualnn.checks import DataError, FilePath
from manualnn.core.activations import ACTIVATIONS
from manualnn.core.network import MLP
from manualnn.io.tensorfile import (  # load_arrays, save_arrays, read_json: old import path
    DTYPES,
    FORMAT_VERSION,
    RULES,
    Rules,
    Spec,
    apply_rules,
    check_arrays,
    check_format,
    check_keys,
    dumps,
    expect,
    fail,
    header_doc,
    load_arrays,
    natural,
    read_data,
    read_header,
    read_json,
    save_arrays,
    short,
    write,
)

__all__ = ["CONFIG_FILE", "MODEL_FILE", "load_arrays", "load_model", "read_json",
           "save_arrays", "save_model"]

MODEL_FILE, CONFIG_FILE = "model.safetensors", "model.json"
MODEL_FORMAT = "manualnn.model"
READ_ATTEMPTS = 50   # loads that a training's saves may overtake before one gives up
DOC_KEYS = {"format", "format_version", "manualnn_version", "architecture", "arrays", "meta"}
ARCH_KEYS = {"layers", "activations", "bias", "dtype", "dropout"}
#: A weight as the architecture implies it: (dtype code, shape).
WeightSpec = tuple[str, tuple[int, ...]]

# the model document's fields but architecture.activations (checked in _check_model_doc)
MODEL_RULES: Rules = {
    "format_version": RULES["format_version"],
    "manualnn_version": (lambda v: isinstance(v, str), "expected a string"),
    "arrays": (lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v)
               and len(set(v)) == len(v), "expected a list of distinct names"),
    "meta": RULES["meta"],
    "architecture.layers": (lambda v: isinstance(v, list) and len(v) >= 2
                            and all(natural(n, 1) for n in v),
                            "expected a list of at least two positive integers"),
    "architecture.bias": (lambda v: isinstance(v, bool), "expected true/false"),
    "architecture.dtype": (lambda v: v in ("float32", "float64"),
                           "expected 'float32' or 'float64'"),
    "architecture.dropout": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                             and 0 <= v < 1, "expected a number in [0, 1)"),
}


def save_model(folder: FilePath, net: MLP, meta: dict[str, Any] | None = None,
               arrays: dict[str, np.ndarray] | None = None) -> None:
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
    extras = check_arrays({} if arrays is None else arrays, "arrays", reserved=weights)
    check_arrays(weights, "net.params", reserved={})
    from manualnn import __version__  # lazily: the package imports its layers, not the reverse

    arch = {"layers": list(net.layers), "bias": net.bias, "dtype": net.dtype.name,
            "activations": {"hidden": [a.name for a in net.activations[:-1]],
                            "output": net.activations[-1].name},
            "dropout": float(net.dropout)}
    doc = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION,
           "manualnn_version": __version__, "architecture": arch,
           "arrays": sorted(extras), "meta": {} if meta is None else meta}
    text = dumps(doc, "meta")
    os.makedirs(folder, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(folder, CONFIG_FILE))
    write(os.path.join(folder, MODEL_FILE), {**weights, **extras}, text)
    atomic.write_text(os.path.join(folder, CONFIG_FILE), json.dumps(doc, indent=2) + "\n")


def load_model(folder: FilePath, backend: Any = "auto"
               ) -> tuple[MLP, dict[str, Any], dict[str, np.ndarray]]:
    """Read a model folder back: returns (net, meta, arrays), net an :class:`MLP` on
    ``backend`` (any: files are backend-neutral).

    Everything is checked before use; any fault raises ``DataError`` naming the file.
    """
    path = os.path.join(folder, MODEL_FILE)
    for attempt in range(READ_ATTEMPTS):
        # the open file is one save's, whatever replaces it later
        with atomic.open_regular(path) as f:
            specs, metadata, data_start = read_header(f, path)
            doc = _check_model_doc(header_doc(metadata, path), path)
            arch = doc["architecture"]
            _check_tensor_set(specs, _weight_specs(arch), doc["arrays"], path)
            tensors = read_data(f, path, specs, data_start)
            try:
                _check_copy(folder, doc)
                break
            except DataError:   # a save came between the two reads: read the new pair
                if attempt + 1 == READ_ATTEMPTS or not _replaced(f, path):
                    raise
    net = MLP(arch["layers"], arch["activations"]["hidden"], arch["activations"]["output"],
              bias=arch["bias"], init="zeros", dtype=arch["dtype"], dropout=arch["dropout"],
              backend=backend)
    net.set_params([tensors[name] for name in net.param_names])
    return net, doc["meta"], {name: tensors[name] for name in doc["arrays"]}


def _check_copy(folder: FilePath, doc: dict[str, Any]) -> None:
    """model.json, where there is one, must be the copy of ``doc`` (missing after a crash
    mid-save, or while a save runs: the header is enough)."""
    config = os.path.join(folder, CONFIG_FILE)
    config_doc = read_json(config)
    if config_doc is not None:
        _compare(_check_model_doc(config_doc, config), doc, folder)


def _replaced(f: BinaryIO, path: FilePath) -> bool:
    """Whether ``path`` is no longer the file open as ``f`` (a save renamed a new one in)."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return True


# -- the model document --------------------------------------------------------------------
def _check_model_doc(doc: Any, path: FilePath) -> dict[str, Any]:
    """Check every field a load will use; returns ``doc``."""
    check_format(doc, MODEL_FORMAT, path)
    check_keys(doc, DOC_KEYS, path, "document")
    check_keys(doc["architecture"], ARCH_KEYS, path, "architecture")
    apply_rules(doc, MODEL_RULES, path)
    arch = doc["architecture"]
    acts, n_hidden = arch["activations"], len(arch["layers"]) - 2
    check_keys(acts, {"hidden", "output"}, path, "architecture.activations")
    expect(isinstance(acts["hidden"], list) and len(acts["hidden"]) == n_hidden, path,
           "architecture.activations.hidden", f"expected a list of {n_hidden} names",
           acts["hidden"])
    for name in [*acts["hidden"], acts["output"]]:
        if not isinstance(name, str) or name not in ACTIVATIONS:
            fail(path, f"unknown activation {short(name)}; known: {sorted(ACTIVATIONS)} "
                       "(register custom ones before loading)")
    return doc


def _compare(config: dict[str, Any], header: dict[str, Any], folder: FilePath) -> None:
    """The two copies must agree entirely: a partial match would mix two saves."""
    diffs = [f"architecture.{k} ({short(config['architecture'][k])} vs "
             f"{short(header['architecture'][k])})"
             for k in sorted(ARCH_KEYS) if config["architecture"][k] != header["architecture"][k]]
    diffs += [k for k in sorted(DOC_KEYS - {"architecture"}) if config[k] != header[k]]
    if diffs:
        raise DataError(f"{folder}: {CONFIG_FILE} and {MODEL_FILE} disagree: "
                        f"{'; '.join(diffs)} (remove {CONFIG_FILE} to use the header copy)")


def _weight_specs(arch: dict[str, Any]) -> dict[str, WeightSpec]:
    """{name: (dtype code, shape)} that the architecture implies, in MLP.param_names order."""
    n, code = arch["layers"], "F32" if arch["dtype"] == "float32" else "F64"
    specs: dict[str, WeightSpec] = {}
    for i in range(len(n) - 1):
        specs[f"W{i + 1}"] = (code, (n[i], n[i + 1]))
        if arch["bias"]:
            specs[f"b{i + 1}"] = (code, (n[i + 1],))
    return specs


def _check_tensor_set(specs: dict[str, Spec], weights: dict[str, WeightSpec],
                      extras: list[str], path: FilePath) -> None:
    """The file holds exactly the ``weights`` (dtype and shape as implied) and ``extras``."""
    for name in [*weights, *extras]:
        if name not in specs:
            fail(path, f"missing tensor {name!r}")
    for name in extras:
        if name in weights:
            fail(path, f"field 'arrays': extra array {name!r} clashes with a weight name")
    for name in specs:
        if name not in weights and name not in extras:
            fail(path, f"unexpected tensor {name!r} (not a weight, not a declared array)")
    for name, (code, shape) in weights.items():
        found_code, found_shape = specs[name][:2]
        if (found_code, found_shape) != (code, shape):
            fail(path, f"tensor {name!r}: expected shape {shape} and dtype "
                       f"{np.dtype(DTYPES[code]).name}, found shape {found_shape} and "
                       f"dtype {np.dtype(DTYPES[found_code]).name}")

