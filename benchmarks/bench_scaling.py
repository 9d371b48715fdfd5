"""Data parallelism on this machine: one rank with 2 BLAS threads against 2 MPI ranks with
1 thread each (and one rank with 1 thread, the compute a step costs), for the course's
network (config a) and config c.  Run by ``make bench``.

    python benchmarks/bench_scaling.py [--rows 20000] [--epochs 3] [--configs ac]
                                       [--out benchmarks/results_scaling.md]

Each row is a fresh process (or two, under the virtual environment's ``mpiexec``) that
trains float32 on Fashion-MNIST's first ``--rows`` training images (random data of the
same shape when missing) with manualnn's epoch loop: one warm-up epoch, then ``--epochs``
timed ones, whose median is reported.  Over 2 ranks the step is
``train.distributed.DataParallelStep``; the share of the epoch spent in its all-reduce
includes the time a rank waits there for the slower one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
from bench_epoch import FASHION, load_data
from runners import CONFIGS

from manualnn import MLP, get_loss
from manualnn.backend.threads import limit_threads
from manualnn.train import TrainState, fit
from manualnn.train.optim import SGD

SETUPS = [(1, 1), (1, 2), (2, 1)]   # (ranks, BLAS threads per rank)


def worker(key: str, rows: int, epochs: int, threads: int) -> None:
    from manualnn.train.distributed import make_step, world
    comm = world()   # MPI under mpiexec, else one process
    cfg = CONFIGS[key]
    X, y, _ = load_data(FASHION, rows)
    net = MLP(cfg.layers, bias=cfg.bias, init=cfg.init, rng=0)
    opt = SGD(net.params, lr=cfg.lr, momentum=cfg.momentum)
    loss = get_loss("softmax_cross_entropy")
    step = make_step(net, loss, opt, comm)
    comm_seconds = []
    with limit_threads(threads):
        state = fit(net, X, y, loss, opt, epochs=1 + epochs, batch_size=cfg.batch,
                    state=TrainState(shuffle_rng=np.random.default_rng(0)), step=step,
                    log=lambda *a: None, progress=False,
                    on_epoch_end=lambda s: comm_seconds.append(getattr(step, "comm_seconds", 0)))
    seconds = [row["seconds"] for row in state.history[1:]]
    spent = np.diff(comm_seconds)   # the all-reduce's seconds in each timed epoch
    if comm.rank == 0:
        print(json.dumps({"seconds": statistics.median(seconds),
                          "allreduce": statistics.median(spent / np.array(seconds)),
                          "loss": state.history[-1]["train_loss"]}))


def measure(key, rows, epochs, ranks, threads) -> dict:
    me = [sys.executable, *(["-m", "mpi4py"] if ranks > 1 else []), __file__, "--worker", key,
          "--rows", str(rows), "--epochs", str(epochs), "--threads", str(threads)]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or "mpiexec"
        me = [mpiexec, "-n", str(ranks), *me]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
    done = subprocess.run(me, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up)")
    ap.add_argument("--configs", default="ac")
    ap.add_argument("--out", default="benchmarks/results_scaling.md")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.rows, args.epochs, args.threads)
    began, load = time.time(), os.getloadavg()
    lines = [("| config | ranks x BLAS threads | seconds / epoch | all-reduce share | "
             "speed-up vs 1 x 2 | final train loss |"), "|---|---|---|---|---|---|"]
    for key in args.configs:
        cfg, results = CONFIGS[key], {}
        for ranks, threads in SETUPS:
            results[ranks, threads] = r = measure(key, args.rows, args.epochs, ranks, threads)
            print(f"config {key}, {ranks} rank(s) x {threads} thread(s): {r}", flush=True)
        base = results[1, 2]["seconds"]
        for (ranks, threads), r in results.items():
            share = f"{r['allreduce']:.1%}" if ranks > 1 else "-"
            lines.append(f"| {key}: {cfg.title} | {ranks} x {threads} | {r['seconds']:.3f} | "
                         f"{share} | {base / r['seconds']:.2f}x | {r['loss']:.4f} |")
    head = ["# Data parallelism on this machine (`benchmarks/bench_scaling.py`)", "",
            (f"Run {time.strftime('%Y-%m-%d %H:%M')}, {(time.time() - began) / 60:.1f} minutes; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
            f"average {load[0]:.2f} at the start and {os.getloadavg()[0]:.2f} at the end."),
            (f"Fashion-MNIST's first {args.rows} training rows, float32, median of "
            f"{args.epochs} epochs after a warm-up one."), ""]
    text = "\n".join(head + lines) + "\n"
    print(text, end="")
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
