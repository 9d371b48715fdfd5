"""The epoch benchmark's table, its verdicts on issue 4's targets, and results.md."""

from __future__ import annotations

import os
import tempfile
import time

# issue 4: manualnn / bound at most this, per configuration; and speed-ups at least these
BOUND_TARGET = {"a": 1.05, "b": 1.2, "c": 1.05, "d": 1.2}
PEER_TARGET = {"PyTorch": 1.3, "scikit-learn": 1.8}


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
        plain = med.get("manualnn, NumPy only")
        row = {"key": r["cfg"].key, "title": r["cfg"].title, "threads": r["threads"],
               "bound": bound, "mine": mine, "plain": plain,
               "ratio": mine / bound if mine and bound else None, "rel": r["rel"],
               "check_rows": r["check_rows"]}
        for peer in PEER_TARGET:
            t = med.get(peer)
            row[peer] = t
            row[f"{peer} speed-up"] = t / mine if t and mine else None
        out.append(row)
    return out


def table(rows) -> str:
    head = ("| config | matmul bound s | manualnn s | manualnn / bound | PyTorch s | "
            "speed-up vs PyTorch | scikit-learn s | speed-up vs scikit-learn | "
            "float64 max rel. diff vs PyTorch | threads |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        rel = "n/a" if r["rel"] is None else f"{r['rel']:.1e}"
        lines.append(
            f"| {r['key']}: {r['title']} | {_s(r['bound'])} | {_s(r['mine'])} | "
            f"{_x(r['ratio'])} | {_s(r['PyTorch'])} | {_x(r['PyTorch speed-up'])} | "
            f"{_s(r['scikit-learn'])} | {_x(r['scikit-learn speed-up'])} | {rel} | "
            f"{r['threads']} |")
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
    """Which of issue 4's targets this run meets, configuration by configuration."""
    lines = [("| config | threads | manualnn / bound (target) | vs PyTorch (>= 1.3x) | "
             "vs scikit-learn (>= 1.8x) | float64 agreement (<= 1e-9) |"),
             "|---|---|---|---|---|---|"]
    for r in rows:
        target = BOUND_TARGET[r["key"]]
        cells = [_verdict(r["ratio"], target, below=True, fmt=f"{{:.2f}} (<= {target})")]
        for peer, need in PEER_TARGET.items():
            cells.append(_verdict(r[f"{peer} speed-up"], need, below=False, fmt="{:.2f}x"))
        cells.append(_verdict(r["rel"], 1e-9, below=True, fmt="{:.1e}"))
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
        "# Epoch benchmark (issue 4)",
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
         "of threads; the one-thread rows with the whole process pinned to one core "
         "(`os.sched_setaffinity`)."),
        (f"- Python {machine['python']}, NumPy {v['numpy']}, PyTorch {v['torch']}, "
        f"scikit-learn {v['sklearn']}; manualnn's optional fast paths: numba {v['numba']} "
        "(NumPy's own BLAS called for gemm/axpy; Adam, relu layer and softmax "
        "cross-entropy loops)."),
        f"- Data: {machine['data']}.",
        (f"- Seconds per epoch: median of {machine['repeats']} epochs after one warm-up "
        "epoch; the contestants take turns within each repeat.  float32 throughout."),
        "",
        table(rows),
        "",
        ("The same epochs in CPU seconds of the process (medians): what each contestant "
         "cost, without the time it waited for a core held by other work on this shared "
         "machine."),
        "",
        table(rows_of(results, "cpu")),
        "",
        "## What the optional fast paths pay",
        "",
        ("manualnn as above (with `manualnn[fast]`: SGD's update fused into its gradient's "
         "BLAS gemm, Adam, the relu layers and the softmax cross-entropy as numba loops) "
         "against the same code with NumPy alone (`MANUALNN_KERNELS=numpy`), wall-clock "
         "medians of the same run:"),
        "",
        fast_table(rows),
        "",
        "## Targets of issue 4",
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
        ("- scikit-learn: `MLPClassifier(alpha=0, shuffle=False)`, one `partial_fit` per "
        "epoch on rows permuted before the clock starts (it takes no batch order); "
        "it always has biases, also on configuration a."),
        ("- float64 check: manualnn and PyTorch train one more epoch in float64 "
         f"({machine['check_rows']} rows) from the same start and batch order; the column "
         "is max |a - b| / max |b| over the parameters."),
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
