"""Where the time of one training step goes, call by call, for one configuration.

    python benchmarks/profile_step.py [b] [--threads 1]

Each part of the step (every matrix product, activation, the loss, the optimizer's
update, the batch gather) is timed on the network's own buffers, as CPU time of this
thread, the best of several rounds of many calls: on a shared machine that is the
cost of the part itself, not of whatever else ran.  The whole step is timed the same
way; what it costs beyond the sum of its parts is Python's glue and cache misses.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from runners import CONFIGS

from manualnn import MLP, get_loss
from manualnn.backend.threads import describe, limit_threads
from manualnn.train.optim import SGD, Adam
from manualnn.train.step import Step


def best_time(f, n, rounds=9):
    """Best CPU seconds per call of f over ``rounds`` rounds of n calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(n):
            f()
        best = min(best, (time.thread_time() - start) / n)
    return best


def parts(cfg, seed=0):
    """(name, callable) for each call of a steady step, on real-sized random data."""
    rng = np.random.default_rng(seed)
    X = rng.random((20000, cfg.layers[0]), dtype=np.float32)
    y = rng.integers(0, cfg.layers[-1], 20000)
    rows = rng.permutation(20000)[:cfg.batch]
    Xb, yb, buf = X[rows], y[rows], np.empty((cfg.batch, cfg.layers[0]), np.float32)
    net = MLP(cfg.layers, bias=cfg.bias, rng=seed)
    loss = get_loss("softmax_cross_entropy")
    opt = Adam(net.params, lr=1e-9) if cfg.optimizer == "adam" else \
        SGD(net.params, lr=1e-9, momentum=cfg.momentum)
    _, grads = net.loss_and_grad(Xb, yb, loss)
    ws, L = net._ws, net.L
    dW = net.dW
    out = [("gather X[rows] (take, mode=raise)", lambda: np.take(X, rows, 0, buf)),
           ("gather X[rows] (take, mode=clip)", lambda: np.take(X, rows, 0, buf, "clip"))]
    for i in range(L):
        Z, A, W, act = ws.Z[i], ws.A[i], net.W[i], net.activations[i]
        b = net.b[i] if cfg.bias else None
        out.append((f"forward  A{i + 1} = Z{i + 1} W{i + 1}",
                    lambda Z=Z, W=W, A=A: net.ops.matmul(Z, W, out=A)))
        out.append((f"forward  {act.name}(A{i + 1}{' + b' if cfg.bias else ''})",
                    lambda act=act, A=A, b=b, H=ws.H[i]: act.forward_layer_(A, b, H, net.ops)))
    Zout = ws.A[-1]
    out.append(("loss + G = (S - I_y)/m", lambda: loss.value_and_grad_(Zout, yb, None, net.ops)))
    for i in reversed(range(L)):
        Z, W, D, act = ws.Z[i], net.W[i], ws.A[i], net.activations[i]
        G = ws.G[i + 1] if i < L - 1 else D
        db = net.db[i] if cfg.bias else None
        out.append((f"backward D{i + 1} = G{i + 2} o {act.name}'{', db' if cfg.bias else ''}",
                    lambda act=act, G=G, Z=ws.H[i], db=db: act.backward_layer_(G, Z, Z, db,
                                                                             net.ops)))
        D = G
        out.append((f"backward dW{i + 1} = Z{i + 1}^T D{i + 1}",
                    lambda Z=Z, D=D, o=dW[i]: net.ops.matmul(Z.T, D, out=o)))
        if i:
            out.append((f"backward G{i + 1} = D{i + 1} W{i + 1}^T",
                        lambda D=D, W=W, o=ws.G[i]: net.ops.matmul(D, W.T, out=o)))
    out.append((f"optimizer {type(opt).__name__}.step", lambda: opt.step(grads)))

    run = Step(net, loss, opt)   # as train.fit runs it: SGD may fuse updates into backward

    def step():
        run(Xb, yb)
    out.append(("whole step: loss_and_grad + step", step))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config", nargs="?", default="b", choices=sorted(CONFIGS))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    cfg = CONFIGS[args.config]
    with limit_threads(args.threads):
        print(f"config {cfg.key}: {cfg.title}; {describe()}; CPU microseconds per call")
        table = parts(cfg)
        flops = 2 * cfg.batch * sum(a * b for a, b in zip(cfg.layers, cfg.layers[1:]))
        n = max(20, int(2e8 / flops))
        times = {name: best_time(f, n) * 1e6 for name, f in table}
    whole = times.pop("whole step: loss_and_grad + step")
    gathers = [k for k in times if k.startswith("gather")]
    products = sum(t for k, t in times.items() if " = " in k and "'" not in k
                   and "loss" not in k)
    for name, t in times.items():
        print(f"  {name:40s} {t:9.1f}")
    inside = sum(t for k, t in times.items() if k not in gathers)
    print(f"  {'sum of the parts (no gather)':40s} {inside:9.1f}")
    print(f"  {'whole step (no gather)':40s} {whole:9.1f}")
    print(f"  {'matrix products alone':40s} {products:9.1f}   step / products = "
          f"{whole / products:.3f}")


if __name__ == "__main__":
    main()
