"""The all-reduce between MPI ranks on this machine: latency and bandwidth.

    python benchmarks/bench_allreduce.py [--ranks 2] [--repeats 50] [--out FILE.md]

Starts itself under the virtual environment's ``mpiexec`` (``--ranks`` processes) and
times ``comm.allreduce_`` (manualnn's in-place sum, mpi4py's buffer API) of float32 buffers
from 4 bytes to 64 MiB: the median of ``--repeats`` calls each, after a barrier.  The
fit t(n) = alpha + n x 2 (p - 1) / p / beta over the sizes of at least 1 MiB gives the
bandwidth beta (what the ring model of docs/scaling.md calls it); alpha is the median
time of the smallest buffers, the latency of one call.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = [4 << k for k in range(0, 25, 2)]   # bytes: 4 B .. 64 MiB


def worker(repeats: int, out: str | None) -> None:
    from mpi4py import MPI

    from manualnn.train.distributed import world
    comm = world(required=True)
    rows = []
    for nbytes in SIZES:
        buf = np.ones(nbytes // 4, np.float32)
        times = []
        for _ in range(repeats if nbytes < 1 << 24 else max(5, repeats // 5)):
            MPI.COMM_WORLD.Barrier()
            start = time.perf_counter()
            comm.allreduce_(buf)
            times.append(time.perf_counter() - start)
        rows.append((nbytes, statistics.median(times)))
    if comm.rank == 0:
        print(report(rows, comm.size), end="")
        if out:
            with open(out, "w") as f:
                f.write(report(rows, comm.size))


def fit(rows, p):
    """(alpha s, beta bytes/s): latency from the small sizes, bandwidth from the large."""
    alpha = statistics.median(t for n, t in rows if n <= 64)
    big = [(n * 2 * (p - 1) / p, t) for n, t in rows if n >= 1 << 20]
    x, y = np.array(big).T
    slope = np.polyfit(x, y, 1)[0]
    return alpha, 1 / slope


def report(rows, p) -> str:
    alpha, beta = fit(rows, p)
    lines = [(f"# All-reduce between {p} ranks on this machine "
             f"(`benchmarks/bench_allreduce.py`, {time.strftime('%Y-%m-%d %H:%M')})"), "",
             f"- MPI: {_library()}; load average {os.getloadavg()[0]:.2f}.",
             f"- Latency alpha (median of buffers up to 64 B): {alpha * 1e6:.1f} us.",
             (f"- Bandwidth beta (fit over 1-64 MiB, bytes x 2(p-1)/p per second): "
             f"{beta / 1e9:.2f} GB/s ({beta * 8 / 1e9:.1f} Gb/s)."), "",
             "| bytes | seconds (median) | algorithm bandwidth GB/s |", "|---|---|---|"]
    lines += [f"| {n} | {t:.3g} | {n / t / 1e9:.3f} |" for n, t in rows]
    return "\n".join(lines) + "\n"


def _library() -> str:
    from mpi4py import MPI
    return " ".join(MPI.Get_library_version().splitlines()[0].split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--out", help="also write the table to this Markdown file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.repeats, args.out)
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or "mpiexec"
    command = [mpiexec, "-n", str(args.ranks), sys.executable, "-m", "mpi4py", __file__,
               "--worker", "--repeats", str(args.repeats)] + (["--out", args.out] if args.out
                                                             else [])
    sys.exit(subprocess.run(command, check=False).returncode)


if __name__ == "__main__":
    main()
