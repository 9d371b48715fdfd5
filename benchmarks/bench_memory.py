"""Memory of a full ``manualnn train`` run: its peak against the data plus the parameters,
and its resident size at the end of every epoch (which must not grow).

    python benchmarks/bench_memory.py [--epochs 8] [--threads 1] [--out FILE] [-- TRAIN ARGS]

The run is the CLI's default recipe (784-512-256-10, AdamW, batch 128) on Fashion-MNIST,
in a child process whose resident set (VmRSS in /proc) is sampled every 10 ms; each line
the child prints is time-stamped, so the samples can be split into loading (before the
table header), training (header to last epoch row) and the rest.  The peak is the
kernel's own count (the child's ru_maxrss), not a sample.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time

import report

MIB = 1 << 20


def rss_of(pid: int) -> int | None:
    """Resident bytes of process ``pid`` now, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def baseline_rss() -> int:
    """Resident bytes of a Python that has imported the CLI and NumPy, and nothing else."""
    code = ("import manualnn.cli, manualnn.cli.experiment, numpy\n"
            "print([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) * 1024


def watch(cmd, env):
    """Run ``cmd``; return (samples [(t, rss)], lines [(t, text)], peak bytes, exit code)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    start, samples, lines = time.perf_counter(), [], []

    def read():
        for line in proc.stdout:
            lines.append((time.perf_counter() - start, line.rstrip("\n")))
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while proc.poll() is None:
        rss = rss_of(proc.pid)
        if rss is not None:
            samples.append((time.perf_counter() - start, rss))
        time.sleep(0.01)
    reader.join(timeout=5)
    # Popen.poll has reaped the child: its ru_maxrss is in RUSAGE_CHILDREN (the largest
    # child so far; the baseline child above is far smaller, so this is the train run's)
    import resource
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return samples, lines, peak, proc.returncode


def data_bytes(rows_train=60000, rows_test=10000, features=784, itemsize=4) -> int:
    """The float32 arrays the recipe trains and evaluates on (train + val + test splits)."""
    return (rows_train + rows_test) * features * itemsize


def param_bytes(layers=(784, 512, 256, 10), itemsize=4) -> int:
    return sum((a + 1) * b for a, b in itertools.pairwise(layers)) * itemsize


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "memory.md"))
    ap.add_argument("train_args", nargs="*", help="more `manualnn train` options, after --")
    args = ap.parse_args(argv)
    base = baseline_rss()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "manualnn", "train", "--epochs", str(args.epochs),
               "--threads", str(args.threads), "--out", os.path.join(tmp, "run"),
               *args.train_args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        samples, lines, peak, code = watch(cmd, env)
    if code != 0:
        print("\n".join(text for _, text in lines), file=sys.stderr)
        print(f"manualnn train failed with exit status {code}", file=sys.stderr)
        return 1
    text = render(samples, lines, peak, base, args)
    print(text)
    report.write_atomic(args.out, text)
    print(f"written to {args.out}")
    return 0


def phases(samples, lines):
    """(peak while loading, peak while training, RSS at each epoch row)."""
    header = next((t for t, s in lines if s.startswith("| Epoch")), None)
    rows = [(t, s) for t, s in lines if s.startswith("|") and s.split("|")[1].strip().isdigit()]
    if header is None or not rows:
        return None, None, []
    loading = max((r for t, r in samples if t < header), default=None)
    training = max((r for t, r in samples if header <= t <= rows[-1][0]), default=None)
    at_rows = []
    for t, _ in rows:   # the last sample before the row was printed
        before = [r for ts, r in samples if ts <= t]
        at_rows.append(before[-1] if before else None)
    return loading, training, at_rows


def render(samples, lines, peak, base, args) -> str:
    loading, training, at_rows = phases(samples, lines)
    data, params = data_bytes(), param_bytes()
    half = len(at_rows) // 2   # the first epochs build workspaces (evaluation chunks too)
    steady = [r for r in at_rows[half:] if r is not None]
    growth = (steady[-1] - steady[0]) if len(steady) > 1 else None
    out = ["# Memory of `manualnn train` (issue 4, part 6)", "",
           (f"`manualnn train --epochs {args.epochs} --threads {args.threads}` with the default "
           "recipe (784-512-256-10, AdamW, batch 128, Fashion-MNIST standardized to float32); "
           f"run {time.strftime('%Y-%m-%d %H:%M')} by `benchmarks/bench_memory.py`."), "",
           "| quantity | MiB |", "|---|---|",
           f"| data as trained on: (54000 + 6000 + 10000) x 784 float32 | {data / MIB:.1f} |",
           f"| parameters (535,818 float32) | {params / MIB:.1f} |",
           f"| Python + NumPy + manualnn imported, nothing loaded | {base / MIB:.1f} |",
           f"| peak resident, whole run (ru_maxrss) | {peak / MIB:.1f} |",
           f"| peak while loading and preprocessing | {_mib(loading)} |",
           f"| peak while training | {_mib(training)} |",
           "", (f"Peak / (data + parameters) = {peak / (data + params):.2f}; "
           f"training peak / (data + parameters + baseline) = "
           f"{_ratio(training, data + params + base)}."), "",
           "Resident MiB at the end of each epoch: "
           + ", ".join(_mib(r) for r in at_rows) + ".",
           "" if growth is None else
           f"Growth from epoch {half + 1} to epoch {len(at_rows)}: {growth / MIB:.1f} MiB.",
           ""]
    return "\n".join(out)


def _mib(value) -> str:
    return "n/a" if value is None else f"{value / MIB:.1f}"


def _ratio(a, b) -> str:
    return "n/a" if a is None else f"{a / b:.2f}"


if __name__ == "__main__":
    sys.exit(main())
