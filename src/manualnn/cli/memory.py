"""Memory limits: what a training step, an evaluation or a prediction needs, in bytes.

``--max-memory`` (default: :data:`DEFAULT_FRACTION` of the memory available now) bounds
a run.  Before a network is built, :func:`plan_training` adds up what training will hold
at once and refuses, with one line naming the estimate and the limit, a run that does
not fit; evaluation and prediction are not refused but split into chunks of rows that fit.

For widths n_1, ..., n_{L+1}, a batch of m rows and an itemsize s (4 for float32), the
estimate adds (see :func:`training_bytes`):

    workspaces    the network's own count (``MLP.workspace_nbytes_for``: A_i, sigma(A_i)
                  where it needs its own buffer, G_i, the dropout masks and outputs) for
                  each batch size it keeps at once (three, and a fourth built before it
                  drops one)
    temporaries   of the activations computed out of place and of the loss, for one step
    parameters    P s (weights, grads, the optimizer's state, as its class counts it, and
                  scratch arrays, the early-stopping copy, and twice what a checkpoint
                  holds while it is serialized)
    data          the dataset arrays, measured

It errs on the large side; the tests check it against tracemalloc's measurement.
"""

from __future__ import annotations

import fractions
import itertools
import os
import re

from manualnn.core.activations import get_activation
from manualnn.core.network import MLP

DEFAULT_FRACTION = 0.5
MAX_SIZE = 1 << 64        # bytes: larger than any machine's memory
MAX_CHUNK = 4096          # rows per evaluation chunk when memory is plentiful
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])I?B?|B)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(value, name: str = "max_memory") -> int:
    """Bytes from an int or a string like "512M", "1.5G", "2048" (K/M/G/T are 1024^k)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{name}: expected bytes as an integer or a string like '512M', "
                        f"got {value!r}"[:200])
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if isinstance(value, str) and match is None:
        raise ValueError(f"{name}: expected a size like 4096, 512K, 800M or 2G, got {value!r}"
                         [:200])
    if isinstance(value, int):
        size = value
    else:   # group 2 is the unit's letter, None for plain bytes ("2048", "2048B")
        unit = _UNITS[(match[2] or "").upper()]
        digits = match[1]
        size = int(digits) * unit if "." not in digits else \
            int(fractions.Fraction(digits) * unit)   # exact: "1e400" bytes never overflow
    if size < 1:
        raise ValueError(f"{name}: expected at least 1 byte, got {value!r}"[:200])
    if size > MAX_SIZE:
        raise ValueError(f"{name}: expected at most 16 EiB, got {value!r}"[:200])
    return size


def available_memory() -> int | None:
    """Bytes this process may still use: MemAvailable, capped by a cgroup v2 limit."""
    sizes = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    sizes.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            sizes.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            high = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read().strip())
        if high != "max":
            sizes.append(max(int(high) - used, 0))
    except (OSError, ValueError):
        pass
    return min(sizes) if sizes else None


def resolve_limit(max_memory) -> int | None:
    """The limit in bytes: ``max_memory`` itself, or the default share of what is
    available (None when the system does not say, and then nothing is refused)."""
    if max_memory is not None:
        return parse_size(max_memory)
    available = available_memory()
    return None if available is None else int(available * DEFAULT_FRACTION)


def describe(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    if size < 1024:
        return f"{size} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}"


def param_count(layers, bias: bool = True) -> int:
    return sum(a * b + (b if bias else 0) for a, b in itertools.pairwise(layers))


def _transient(layers, itemsize: int, rows: int, activations) -> int:
    """Temporaries of one step: activations computed out of place (3 arrays of the
    widest such layer) and the loss (2 arrays of the output)."""
    n = list(layers)
    widths = [w for w, a in zip(n[1:], activations) if not get_activation(a).from_output]
    return rows * itemsize * (3 * max(widths, default=0) + 2 * n[-1])


def _workspace_rows(batch: int, rows: int, eval_sizes, chunk: int) -> int:
    """Rows of the workspaces alive at once: the network keeps three sizes and builds a
    fourth before it drops the oldest."""
    sizes = [min(batch, rows)] + ([rows % batch] if rows > batch and rows % batch else [])
    for size in eval_sizes:
        sizes += [min(chunk, size)] + ([size % chunk] if size > chunk and size % chunk else [])
    return sum(sorted(sizes)[-4:])


def training_bytes(layers, *, itemsize: int, batch: int, rows: int, eval_sizes=(),
                   chunk: int = MAX_CHUNK, activations, bias: bool = True,
                   dropout: bool = False, optimizer_states: int = 2,
                   early_stopping: bool = False, data_bytes: int = 0) -> int:
    """Estimated peak bytes of training (module docstring).

    ``rows`` training rows in batches of ``batch``; ``eval_sizes`` the rows of the
    validation and test splits, evaluated ``chunk`` rows at a time; ``optimizer_states``
    arrays per parameter (the optimizer class's ``state_arrays_per_param``), besides its
    two scratch arrays; ``data_bytes`` the dataset arrays, measured.
    """
    saved = 1 + optimizer_states + early_stopping          # what a checkpoint holds
    held = 2 + 2 + optimizer_states + early_stopping      # weights, grads, scratch
    params = param_count(layers, bias) * itemsize * (held + 2 * saved)
    per_row = MLP.workspace_nbytes_for(layers, activations, dropout, itemsize, 1)
    step_rows = max([min(batch, rows)] + [min(chunk, s) for s in eval_sizes])
    gather = min(batch, rows) * (layers[0] + layers[-1]) * itemsize
    return params + per_row * _workspace_rows(batch, rows, eval_sizes, chunk) \
        + _transient(layers, itemsize, step_rows, activations) + gather + data_bytes


def plan_training(layers, limit: int | None, **sizes) -> tuple[int, int]:
    """(estimate, rows per evaluation chunk) for training; ValueError when over ``limit``.

    The evaluation chunk shrinks from :data:`MAX_CHUNK` to whatever fits; training is
    refused only when even a one-row chunk does not.  ``sizes`` as for
    :func:`training_bytes`.
    """
    chunk = MAX_CHUNK
    need = training_bytes(layers, chunk=chunk, **sizes)
    while limit is not None and need > limit and chunk > 1:   # at most 12 halvings
        chunk //= 2
        need = training_bytes(layers, chunk=chunk, **sizes)
    if limit is not None and need > limit:
        raise ValueError(
            f"max_memory: training needs about {describe(need)} (batches of "
            f"{sizes['batch']} rows through widths {list(layers)}, "
            f"{param_count(layers, sizes.get('bias', True)):,} parameters with optimizer "
            f"state and checkpoints, {describe(sizes.get('data_bytes', 0))} of data), more "
            f"than the limit of {describe(limit)}; lower --batch-size or the widths, or "
            f"raise --max-memory")
    return need, chunk


def inference_chunk(net, max_memory, *, fixed_bytes: int = 0,
                    what: str = "prediction") -> int:
    """Rows per forward chunk of ``net`` so that ``fixed_bytes`` (inputs, outputs) plus
    the weights plus the workspaces fit ``max_memory`` (as ``resolve_limit`` takes it);
    ValueError when not even one row fits."""
    limit = resolve_limit(max_memory)
    if limit is None:
        return MAX_CHUNK
    layers, itemsize = net.layers, net.dtype.itemsize
    activations = net.activations
    base = fixed_bytes + param_count(layers, net.bias) * itemsize
    # two workspaces (full chunks and the last one) and one chunk's temporaries
    per_row = 2 * net.workspace_nbytes(1) + _transient(layers, itemsize, 1, activations)
    rows = min(MAX_CHUNK, (limit - base) // per_row) if limit > base else 0
    if rows < 1:
        raise ValueError(
            f"max_memory: {what} needs about {describe(base + per_row)} even one row at "
            f"a time (the weights of {list(layers)} and the inputs), more than the limit of "
            f"{describe(limit)}; raise --max-memory")
    return int(rows)


def arrays_bytes(*arrays) -> int:
    """Total bytes of distinct arrays among ``arrays`` (None skipped)."""
    seen = {id(a): a.nbytes for a in arrays if a is not None}
    return sum(seen.values())
