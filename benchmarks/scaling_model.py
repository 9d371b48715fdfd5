"""The step-time model of data-parallel training on p machines (docs/scaling.md), from
compute measured here and a ring all-reduce over a network of given speed.

    python benchmarks/scaling_model.py [--configs ac] [--repeats 40]

    T(p)      = T_compute(m / p) + T_allreduce(p)
    T_allreduce(p) = 2 (p - 1) / p x S / beta + 2 (p - 1) x alpha

m is the global batch, S the bytes of all gradients, beta the link's bandwidth, alpha the
latency of one message; a ring all-reduce sends 2 (p - 1) messages, each of S / p bytes.
T_compute(m / p) is measured: the median seconds of one rank's step on m / p rows here (one
BLAS thread; forward, loss, backward into the flat buffer and the optimizer's update of
all parameters, which does not shrink with p), so the model keeps what a small shard costs:
BLAS's lower efficiency on few rows and the update that every rank repeats.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from bench_epoch import FASHION, load_data
from runners import CONFIGS

from manualnn import MLP, get_loss
from manualnn.backend.threads import limit_threads
from manualnn.train.optim import SGD
from manualnn.train.step import Step

MACHINES = [1, 2, 4, 8, 16, 32, 64]
# (name, beta bytes/s, alpha s): Ethernet with TCP, and an RDMA fabric (InfiniBand/RoCE)
NETWORKS = [("10 Gb/s", 10e9 / 8, 30e-6), ("100 Gb/s", 100e9 / 8, 3e-6)]


def compute_seconds(cfg, rows: int, X, y, repeats: int) -> float:
    """Median seconds of one unfused step (as DataParallelStep computes it) on ``rows``."""
    net = MLP(cfg.layers, bias=cfg.bias, init=cfg.init, rng=0)
    opt = SGD(net.params, lr=cfg.lr, momentum=cfg.momentum)
    step = Step(net, get_loss("softmax_cross_entropy"), opt)
    step._hook = None   # the update waits for the all-reduce: never fused into backward
    times = []
    for r in range(repeats + 2):
        Xb, yb = X[r * rows:(r + 1) * rows], y[r * rows:(r + 1) * rows]
        start = time.perf_counter()
        step(Xb, yb)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def allreduce_seconds(p: int, nbytes: int, beta: float, alpha: float) -> float:
    return 0.0 if p == 1 else 2 * (p - 1) / p * nbytes / beta + 2 * (p - 1) * alpha


def table(key: str, repeats: int) -> str:
    cfg = CONFIGS[key]
    X, y, _ = load_data(FASHION, cfg.batch * (repeats + 2))
    nbytes = 4 * sum(p.size for p in MLP(cfg.layers, bias=cfg.bias).params)
    with limit_threads(1):
        compute = {p: compute_seconds(cfg, math.ceil(cfg.batch / p), X, y, repeats)
                   for p in MACHINES}   # the largest shard: the others wait for it
    lines = [(f"config {key}: {cfg.title}; gradients {nbytes / 1e6:.2f} MB (float32); "
             f"one rank's step on {cfg.batch} rows: {compute[1] * 1e3:.2f} ms"), "",
             "| machines | rows per rank (largest) | compute ms | " + " | ".join(
                 f"all-reduce ms {n} | step ms {n} | speed-up {n}" for n, _, _ in NETWORKS)
             + " |", "|---" * (3 + 3 * len(NETWORKS)) + "|"]
    for p in MACHINES:
        cells = [str(p), str(math.ceil(cfg.batch / p)), f"{compute[p] * 1e3:.2f}"]
        for _, beta, alpha in NETWORKS:
            ar = allreduce_seconds(p, nbytes, beta, alpha)
            cells += [f"{ar * 1e3:.2f}", f"{(compute[p] + ar) * 1e3:.2f}",
                      f"{compute[1] / (compute[p] + ar):.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    # however many machines, a step costs at least the 2 S / beta the ring sends each
    lines += ["", "ceiling on the speed-up, T_compute(m) / (2 S / beta): " + ", ".join(
        f"{compute[1] / (2 * nbytes / beta):.1f}x at {n}" for n, beta, _ in NETWORKS)]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="ac")
    ap.add_argument("--repeats", type=int, default=40)
    args = ap.parse_args()
    for key in args.configs:
        print(table(key, args.repeats))
    print("networks: " + "; ".join(f"{n}: beta {b / 1e9:.2f} GB/s, alpha {a * 1e6:.0f} us"
                                   for n, b, a in NETWORKS))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
