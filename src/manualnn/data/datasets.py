"""Named datasets and user files, loaded into one :class:`Dataset` shape.

``load_dataset(name)`` takes:

- ``"fashion-mnist"`` or ``"mnist"``: the four IDX files, found locally or downloaded;
- ``"digits"``: scikit-learn's bundled 8x8 digits (needs ``manualnn[sklearn]``);
- a path ending in ``.npz``: your own arrays (see :func:`manualnn.data.read_npz`);
- a path ending in ``.csv``, ``.parquet`` or ``.pq``: a table (see :mod:`manualnn.data.tables`),
  its features kept as columns until a :class:`~manualnn.data.columns.ColumnEncoder`
  fitted on the training rows turns them into numbers.

Where the IDX files are looked for, in order (the first folder holding all four wins):

1. ``data_dir``, the argument: a folder holding the files themselves;
2. ``$MANUALNN_DATA/<name>``: the variable names a root with one folder per dataset;
3. ``$XDG_CACHE_HOME/manualnn/<name>``, by default ``~/.cache/manualnn/<name>``;
4. system folders in :data:`SYSTEM_DIRS` (Debian's ``dataset-fashion-mnist`` package).

Each file may be gzipped (``name.gz``) or not (``name`` without ``.gz``).  Local files
are checked by parsing them, not by checksum (Debian recompresses its copies).
Downloads go to the first of folders 1-3 that applies, and are checked by checksum.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from manualnn import checks
from manualnn.checks import DataError, FilePath
from manualnn.data import userdata
from manualnn.data.dataset import Dataset, flat32
from manualnn.data.download import DEFAULT_TIMEOUT, check_urls, download_file, parse_checksum
from manualnn.data.files import read_idx, stratified_split
from manualnn.data.tables import is_table

IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
ENV_VAR = "MANUALNN_DATA"
DIGITS_TEST_FRACTION = 0.2
DIGITS_SEED = 0


@dataclass(frozen=True)
class DatasetSpec:
    """Where a named IDX dataset comes from: file names, mirrors, pinned checksums."""

    name: str
    mirrors: tuple[str, ...]
    checksums: dict[str, str]          # file name -> "sha256:<hex>" of the .gz file
    classes: tuple[str, ...]
    install_hint: str = ""             # how to get it besides --download
    files: tuple[str, ...] = IDX_FILES


# The SHA-256 digests are of the .gz files as the mirrors serve them; each was checked
# against the MD5 the dataset's publisher lists (in the comments) in several sources.
REGISTRY: dict[str, DatasetSpec] = {
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 ("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
                  "data/fashion/")),
        checksums={
            # md5 8d4fb7e6c68d591d4c3dfef9ec88bf0d
            IDX_FILES[0]: "sha256:3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            # md5 25c81989df183df01b3e8a0aad5dffbe
            IDX_FILES[1]: "sha256:a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            # md5 bef4ecab320f06d8554ea6380940ec79
            IDX_FILES[2]: "sha256:346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            # md5 bb300cfdad3c16e7a12a480ee83cd310
            IDX_FILES[3]: "sha256:67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"),
        install_hint="apt-get install dataset-fashion-mnist"),
    "mnist": DatasetSpec(
        name="mnist",
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        checksums={
            # md5 f68b3c2dcbeaaa9fbdd348bbdeb94873
            IDX_FILES[0]: "sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            # md5 d53e105ee54ea40749a09fcbcd1e9432
            IDX_FILES[1]: "sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            # md5 9fb629c4189551a2d022fa330f9573f3
            IDX_FILES[2]: "sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            # md5 ec29112dd5afa0611ce80d1b7f02629c
            IDX_FILES[3]: "sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        classes=tuple(str(d) for d in range(10))),
}

# Folders that system packages install datasets into; a module constant so that tests
# (and unusual systems) can replace it.
SYSTEM_DIRS: dict[str, tuple[str, ...]] = {
    "fashion-mnist": ("/usr/share/datasets/fashion-mnist",),
}


def load_dataset(dataset: str | os.PathLike[str], data_dir: FilePath | None = None,
                 download: bool = False, mirrors: Any = None, checksums: Any = None, *,
                 label_column: str | list[str] | None = None, drop_columns: Any = (),
                 task: str = "auto", memory_limit: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> Dataset:
    """Load a named dataset or a user file (see the module docstring) as a :class:`Dataset`.

    ``download``, ``mirrors`` (base URLs, tried in order) and ``checksums`` (file name ->
    checksum) apply to the IDX datasets; ``mirrors``/``checksums`` default to the
    registry's.  ``label_column`` (a name, or a list of names for several regression
    targets), ``drop_columns`` and ``memory_limit`` (bytes the reading may use) apply to
    tables; ``task`` ("auto", "classification", "regression") to tables and .npz files.
    Raises :class:`DataError` when the data is missing or unusable, saying where it looked
    and how to get it.
    """
    if not isinstance(dataset, (str, os.PathLike)):
        raise TypeError(f"dataset: expected a dataset name or a file path, got {dataset!r}")
    if not isinstance(download, bool):
        raise TypeError(f"download: expected True or False, got {download!r}")
    checks.number(timeout, "timeout", 0, low_open=True)
    text = os.fspath(dataset)
    if text in REGISTRY:
        return _load_idx_dataset(REGISTRY[text], data_dir, download, mirrors, checksums,
                                 timeout)
    if text == "digits":
        return load_digits()
    ext = os.path.splitext(text)[1].lower()
    if ext == ".npz":
        return userdata.load_npz(text, task)
    if is_table(text):
        return userdata.load_table(text, label_column, drop_columns, task, memory_limit)
    raise ValueError(f"dataset: expected one of {sorted([*REGISTRY, 'digits'])} or a path to a "
                     f".npz, .csv or .parquet file, got {text!r}"
                     f"{checks.did_you_mean(text, [*REGISTRY, 'digits'])}")


def cache_dir() -> str:
    """``$XDG_CACHE_HOME/manualnn``, by default ``~/.cache/manualnn``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "manualnn")


def search_dirs(name: str, data_dir: FilePath | None = None) -> list[str]:
    """The folders where dataset ``name``'s files are looked for, in order."""
    dirs = []
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir: expected a folder path, got {data_dir!r}")
        dirs.append(os.path.expanduser(os.fspath(data_dir)))
    if os.environ.get(ENV_VAR):
        dirs.append(os.path.join(os.path.expanduser(os.environ[ENV_VAR]), name))
    dirs.append(os.path.join(cache_dir(), name))
    dirs.extend(SYSTEM_DIRS.get(name, ()))
    return dirs


def _find(folder: str, file: str) -> str | None:
    for candidate in (file, file.removesuffix(".gz")):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def _load_idx_dataset(spec, data_dir, download, mirrors, checksums, timeout) -> Dataset:
    dirs = search_dirs(spec.name, data_dir)
    for folder in dirs:
        paths = [_find(folder, f) for f in spec.files]
        if all(paths):
            return _read_idx_set(spec, paths)
    target = dirs[0]
    if not download:
        raise DataError(_missing_message(spec, dirs, target))
    bases = [u if u.endswith("/") else u + "/"
             for u in check_urls(spec.mirrors if mirrors is None else mirrors, "mirrors")]
    sums = spec.checksums if checksums is None else checksums
    if not isinstance(sums, dict):
        raise TypeError(f"checksums: expected a dict of file name -> checksum, got {sums!r}")
    for file in spec.files:
        if file not in sums:
            raise ValueError(f"checksums: expected an entry for {file!r}, got {sorted(sums)}")
        parse_checksum(sums[file], f"checksums[{file!r}]")
    paths = []
    for file in spec.files:
        path = _find(target, file) or download_file(
            [base + file for base in bases], os.path.join(target, file), sums[file], timeout)
        paths.append(path)
    return _read_idx_set(spec, paths)


def _missing_message(spec, dirs, target) -> str:
    looked = "\n  ".join(dirs)
    ways = [spec.install_hint] if spec.install_hint else []
    ways.append(f"pass --download (download=True) to fetch them into {target}")
    return (f"dataset {spec.name!r} not found: no folder holds all of {list(spec.files)} "
            f"(gzipped or not). Looked in:\n  {looked}\nTo get it: " + ", or ".join(ways))


def _read_idx_set(spec, paths) -> Dataset:
    X_tr, y_tr = _idx_pair(spec, paths[0], paths[1])
    X_te, y_te = _idx_pair(spec, paths[2], paths[3])
    if X_tr.shape[1:] != X_te.shape[1:]:
        raise DataError(f"{paths[2]}: images of shape {X_te.shape[1:]} differ from the "
                        f"training images' {X_tr.shape[1:]} in {paths[0]}")
    image_shape = tuple(X_tr.shape[1:])
    return Dataset(spec.name, flat32(X_tr), y_tr, flat32(X_te), y_te,
                   list(spec.classes), image_shape)


def _idx_pair(spec, images_path, labels_path):
    X, y = read_idx(images_path), read_idx(labels_path)
    if X.ndim != 3 or X.shape[0] == 0:
        raise DataError(f"{images_path}: expected images (n, rows, cols), got shape {X.shape}")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise DataError(f"{labels_path}: expected integer labels (n,), got shape {y.shape} "
                        f"and dtype {y.dtype}")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"{labels_path}: {y.shape[0]} labels for the {X.shape[0]} images "
                        f"in {images_path}")
    k = len(spec.classes)
    if y.min() < 0 or y.max() >= k:
        raise DataError(f"{labels_path}: expected labels in [0, {k}), got values from "
                        f"{y.min()} to {y.max()}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise DataError(f"{images_path}: expected finite pixel values, got NaN or infinity")
    return X, y.astype(np.int64)


def load_digits() -> Dataset:
    """scikit-learn's 8x8 digits (1797 images, 64 features 0..16, 10 classes).

    Split 80/20 into train and test, stratified, with a fixed seed, so every call and
    every machine gets the same split.
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise DataError("dataset 'digits' needs scikit-learn: pip install "
                        "manualnn[sklearn]") from None
    bunch = sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    train, test = stratified_split(y, DIGITS_TEST_FRACTION, DIGITS_SEED)
    return Dataset("digits", X[train], y[train], X[test], y[test],
                   [str(c) for c in range(10)], (8, 8))
