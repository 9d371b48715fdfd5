"""The epoch benchmark's tables, its verdicts on issue 16's targets, and results.md."""

from __future__ import annotations

import os
import tempfile
import time

# the peers in the table's order; issue 16's targets: manualnn at least as fast as the
# fastest of them, and at least 1.3x PyTorch eager
PEERS = ("PyTorch", "torch.compile", "JAX jit per step", "JAX scan epoch", "scikit-learn")
PEER_TARGET = {"fastest peer": 1.0, "PyTorch": 1.3}


def blas_line(blas: dict) -> str:
    kernel = f", {blas['kernel']} kernel" if blas.get("kernel") else ""
    return (f"BLAS {blas.get('library')} {blas.get('version')}{kernel}, "
            f"{blas.get('threads')} thread(s)")


def _s(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _x(value) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def rows_of(results, which="medians"):
    """One dict per configuration with the numbers of the table: wall-clock medians, or
    with which="cpu" the CPU-time medians."""
    out = []
    for r in results:
        med = r[which]
        mine, bound = med.get("manualnn"), med.get("matmul bound")
        times = {p: med[p] for p in PEERS if med.get(p)}
        fastest = min(times, key=times.get) if times else None
        row = {"key": r["cfg"].key, "title": r["cfg"].title, "threads": r["threads"],
               "bound": bound, "mine": mine, "plain": med.get("manualnn, NumPy only"),
               "ratio": mine / bound if mine and bound else None, "rel": r["rel"],
               "peers": times, "fastest": fastest,
               "speed-up": {p: t / mine for p, t in times.items()} if mine else {}}
        row["speed-up"]["fastest peer"] = row["speed-up"].get(fastest)
        out.append(row)
    return out


def table(rows) -> str:
    """Seconds per epoch of every contestant, and manualnn's place among them."""
    head = ("| config | threads | matmul bound | manualnn | manualnn / bound | "
            + " | ".join(PEERS) + " | fastest peer | its time / manualnn's |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [_s(r["peers"].get(p)) for p in PEERS]
        lines.append(
            f"| {r['key']}: {r['title']} | {r['threads']} | {_s(r['bound'])} | "
            f"{_s(r['mine'])} | {_x(r['ratio'])} | " + " | ".join(cells) +
            f" | {r['fastest'] or 'n/a'} | {_x(r['speed-up'].get('fastest peer'))} |")
    return "\n".join(lines)


def speedup_table(rows) -> str:
    """Each peer's seconds over manualnn's: above 1 manualnn is faster."""
    lines = ["| config | threads | " + " | ".join(PEERS) + " |",
             "|---|---|" + "---|" * len(PEERS)]
    for r in rows:
        lines.append(f"| {r['key']} | {r['threads']} | "
                     + " | ".join(_x(r["speed-up"].get(p)) for p in PEERS) + " |")
    return "\n".join(lines)


def agreement_table(rows) -> str:
    """The float64 check: max relative weight difference to manualnn after one epoch."""
    seen, lines = set(), []
    names = [p for p in PEERS if any(p in (r["rel"] or {}) for r in rows)]
    lines += ["| config | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for r in rows:
        if r["key"] in seen:
            continue
        seen.add(r["key"])
        rel = r["rel"] or {}
        lines.append(f"| {r['key']} | " + " | ".join(
            f"{rel[p]:.1e}" if p in rel else "n/a" for p in names) + " |")
    return "\n".join(lines)


def fast_table(rows) -> str:
    """manualnn with its optional fast paths (manualnn[fast]) against NumPy alone."""
    head = ("| config | manualnn s | NumPy only s | speed-up from [fast] | NumPy only / bound "
            "| threads |")
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        gain = r["plain"] / r["mine"] if r["plain"] and r["mine"] else None
        over = r["plain"] / r["bound"] if r["plain"] and r["bound"] else None
        lines.append(f"| {r['key']} | {_s(r['mine'])} | {_s(r['plain'])} | {_x(gain)} | "
                     f"{_x(over)} | {r['threads']} |")
    return "\n".join(lines)


def verdicts(rows) -> str:
    """Which of issue 16's targets this run meets, configuration by configuration."""
    lines = [("| config | threads | vs the fastest peer (>= 1.0x) | vs PyTorch eager (>= 1.3x) | "
              "float64 agreement, worst peer (<= 1e-9) |"), "|---|---|---|---|---|"]
    for r in rows:
        cells = []
        for peer, need in PEER_TARGET.items():
            value = r["speed-up"].get(peer)
            who = f" ({r['fastest']})" if peer == "fastest peer" and r["fastest"] else ""
            cells.append(_verdict(value, need, below=False, fmt="{:.2f}x" + who))
        worst = max(r["rel"].values()) if r["rel"] else None
        cells.append(_verdict(worst, 1e-9, below=True, fmt="{:.1e}"))
        lines.append(f"| {r['key']} | {r['threads']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _verdict(value, target, below, fmt) -> str:
    if value is None:
        return "not measured"
    met = value <= target if below else value >= target
    return f"{fmt.format(value)} {'met' if met else 'NOT met'}"


def spreads(results) -> str:
    """Every timed epoch, so the noise of a shared machine can be judged."""
    lines = []
    for r in results:
        parts = []
        for name, secs in r["seconds"].items():
            parts.append(f"{name} " + " ".join(f"{s:.3f}" for s in secs))
        lines.append(f"- {r['cfg'].key}, {r['threads']} thread(s): " + "; ".join(parts))
        for name, why in r["missing"].items():
            lines.append(f"  - {name} not run: {why}")
    return "\n".join(lines)


def render(results, machine) -> str:
    rows = rows_of(results)
    (b1, b5, b15), (a1, a5, a15) = machine["load"]
    v = machine["versions"]
    return "\n".join([
        "# Epoch benchmark (issues 4 and 16)",
        "",
        (f"Run {time.strftime('%Y-%m-%d %H:%M')} by `make bench` "
         f"(`benchmarks/bench_epoch.py`), {machine['minutes']:.1f} minutes."),
        "",
        (f"- Machine: {machine['cpu']}, {machine['cores']} cores, shared with other work "
         f"(load average {b1:.2f} / {b5:.2f} / {b15:.2f} at the start, "
         f"{a1:.2f} / {a5:.2f} / {a15:.2f} at the end)."),
        (f"- BLAS {machine['blas'].get('library')} {machine['blas'].get('version')} "
         f"({machine['blas'].get('kernel')} kernel, {machine['blas'].get('threading')}); each "
         "row runs NumPy's BLAS and PyTorch (`torch.set_num_threads`) with the same number "
         "of threads; XLA picks its own threads; the one-thread rows run with the whole "
         "process pinned to one core (`os.sched_setaffinity`), which is the only way to "
         "hold XLA to one."),
        (f"- Python {machine['python']}, NumPy {v['numpy']}, PyTorch {v['torch']}, "
         f"JAX {v['jax']}, scikit-learn {v['sklearn']}; manualnn's optional fast paths: "
         f"numba {v['numba']} (NumPy's own BLAS called for gemm/axpy; Adam, relu layer and "
         "softmax cross-entropy loops)."),
        f"- Data: {machine['data']}.",
        (f"- Seconds per epoch: median of {machine['repeats']} epochs after one warm-up "
         "epoch (which pays every compilation); the contestants take turns within each "
         "repeat.  float32 throughout."),
        "",
        table(rows),
        "",
        "Each peer's time over manualnn's (above 1: manualnn is faster):",
        "",
        speedup_table(rows),
        "",
        ("The same epochs in CPU seconds of the process (medians): what each contestant "
         "cost, without the time it waited for a core held by other work on this shared "
         "machine (XLA's and PyTorch's helper threads count too)."),
        "",
        table(rows_of(results, "cpu")),
        "",
        "## Like for like: float64",
        "",
        ("manualnn and each peer train one more epoch in float64 "
         f"({machine['check_rows']} rows) from the same start and batch order; the table "
         "gives max |a - b| / max |b| over the parameters after it."),
        "",
        agreement_table(rows),
        "",
        "## What the optional fast paths pay",
        "",
        ("manualnn as above (with `manualnn[fast]`: SGD's update fused into its gradient's "
         "BLAS gemm, Adam, the relu layers and the softmax cross-entropy as numba loops) "
         "against the same code on the NumPy backend alone, wall-clock medians of the same "
         "run:"),
        "",
        fast_table(rows),
        "",
        "## Targets of issue 16",
        "",
        "On the wall-clock medians:",
        "",
        verdicts(rows),
        "",
        "On the CPU-time medians:",
        "",
        verdicts(rows_of(results, "cpu")),
        "",
        "## How each contestant runs",
        "",
        ("- matmul bound: the step's matrix products alone (forward Z W, backward Z^T G and "
         "G W^T, no G_1) into buffers made once, on batches sliced from rows gathered "
         "before the clock starts."),
        ("- manualnn: `manualnn.train.fit` for one epoch (shuffled gather into a reused "
         "buffer, `MLP.loss_and_grad`, `manualnn.train.optim` SGD/Adam), as a user runs it; "
         "\"NumPy only\" is the same on the NumPy backend (`backend=\"numpy\"`)."),
        ("- PyTorch: eager `nn.Sequential` of `nn.Linear` + ReLU, `CrossEntropyLoss`, "
         "`torch.optim.SGD`/`Adam`, batches gathered by index from tensors in memory."),
        ("- torch.compile: the same model, its forward and loss compiled by Inductor "
         "(backward by AOTAutograd), torch.optim's step eager."),
        ("- JAX jit per step: one `jax.jit` call per batch (gather by index, forward, "
         "`jax.value_and_grad`, the update written as torch.optim's), buffers donated."),
        ("- JAX scan epoch: the same step under `jax.lax.scan` over the epoch's full "
         "batches, one compiled call per epoch (plus one jitted step for a short last "
         "batch)."),
        ("- scikit-learn: `MLPClassifier(alpha=0, shuffle=False)`, one `partial_fit` per "
         "epoch on rows permuted before the clock starts (it takes no batch order); "
         "it always has biases, also on configuration a."),
        "",
        "## Every timed epoch (seconds)",
        "",
        spreads(results),
        "",
    ])


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".results-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
