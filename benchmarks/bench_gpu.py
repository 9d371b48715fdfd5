"""One epoch on an NVIDIA GPU: manualnn's CuPy backend against PyTorch eager on CUDA, JAX
jit on the GPU, and the GPU's matmul-only bound, on configurations a and c of the CPU
benchmark (runners.CONFIGS) and a large one (784-4096-4096-10, batch 1024, Adam).

Every contestant starts from manualnn's initial weights, holds the training set on the GPU
before the clock starts, sees the batches in the same order (one permutation per epoch,
drawn on the host) and runs float32 with full-precision float32 products (no TF32: CuPy's
and torch's default, set for JAX).  An epoch is timed from the first batch to a device
synchronization after the last; each contestant runs one untimed epoch first (CUDA
contexts, cuBLAS handles, kernel compilation, JAX's tracing), then ``--repeats`` timed
ones, of which the fastest counts.

    python benchmarks/bench_gpu.py [--rows 60000] [--repeats 3] [--configs a,c,large]

Prints a Markdown table: seconds per epoch, and each one's ratio to the matmul bound and
to manualnn.  A missing library (JAX, torch) drops its column with the reason printed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import peers_jax
from peers import torch_model
from runners import CONFIGS, Config, split_params

LARGE = Config("large", [784, 4096, 4096, 10], 1024, True, "adam", 1e-3)
SEED = 0


def data(rows: int):
    """Fashion-MNIST's shape (rows x 784 float32, 10 classes), from the files where they
    are, else generated (the data does not travel to the GPU machine): which one is said."""
    try:
        from manualnn.data.datasets import load_dataset
        ds = load_dataset("fashion-mnist")
        X = (ds.X_train[:rows] / 255.0).astype(np.float32)
        return X, ds.y_train[:rows].astype(np.int64), "Fashion-MNIST"
    except Exception as exc:  # noqa: BLE001  (no files here: make data of the same shape)
        rng = np.random.default_rng(SEED)
        y = rng.integers(0, 10, rows)
        X = (rng.standard_normal((10, 784))[y] + rng.standard_normal((rows, 784))) / 2
        return X.astype(np.float32), y, f"generated, Fashion-MNIST's shape ({exc})"[:120]


def synchronize():
    import cupy
    cupy.cuda.Device().synchronize()


class Bound:
    """The step's matrix products alone (forward Z_{i+1} = Z_i W_i, backward
    dW_i = Z_i^T G_{i+1} and G_i = G_{i+1} W_i^T), in CuPy, into buffers made once, on
    batches gathered before the clock starts."""

    name = "matmul bound"

    def __init__(self, cfg, X, y):
        import cupy as cp
        self.cp, self.cfg, self.X = cp, cfg, cp.asarray(X)
        self.W = [cp.asarray(w) for w in split_params(cfg, cfg.initial_params(SEED))[0]]
        self._sets = {}

    def prepare(self, order):
        self.Xp = self.cp.take(self.X, self.cp.asarray(order), axis=0)

    def epoch(self, order, seed):
        cp, B, W = self.cp, self.cfg.batch, self.W
        for start in range(0, self.Xp.shape[0], B):
            Xb = self.Xp[start:start + B]
            m = Xb.shape[0]
            if m not in self._sets:
                n = self.cfg.layers
                self._sets[m] = ([None] + [cp.empty((m, k), cp.float32) for k in n[1:]],
                                 [cp.full((m, k), 0.01, cp.float32) for k in n],
                                 [cp.empty_like(w) for w in W])
            Z, G, dW = self._sets[m]
            Z[0] = Xb
            for i in range(len(W)):
                cp.matmul(Z[i], W[i], out=Z[i + 1])
            for i in reversed(range(len(W))):
                cp.matmul(Z[i].T, G[i + 1], out=dW[i])
                if i:
                    cp.matmul(G[i + 1], W[i].T, out=G[i])
        synchronize()


class Manualnn:
    """manualnn as a user trains it on the GPU: ``fit`` for one epoch on an MLP with
    backend="cupy", the training set given as CuPy arrays (moved once, untimed)."""

    name = "manualnn (CuPy)"

    def __init__(self, cfg, X, y):
        import cupy as cp

        from manualnn import MLP, get_loss
        from manualnn.train import TrainState
        from manualnn.train.optim import SGD, Adam
        self.cfg, self.X, self.y = cfg, cp.asarray(X), cp.asarray(y)
        self.net = MLP(cfg.layers, bias=cfg.bias, init="zeros", backend="cupy")
        self.net.set_params(cfg.initial_params(SEED))
        self.loss = get_loss("softmax_cross_entropy")
        self.opt = Adam(self.net.params, lr=cfg.lr, backend=self.net.ops) \
            if cfg.optimizer == "adam" else \
            SGD(self.net.params, lr=cfg.lr, momentum=cfg.momentum, backend=self.net.ops)
        self.state = TrainState()

    def prepare(self, order):
        pass

    def epoch(self, order, seed):
        from manualnn.train import fit
        self.state.shuffle_rng = np.random.default_rng(seed)   # draws ``order`` again
        fit(self.net, self.X, self.y, self.loss, self.opt, epochs=self.state.epoch + 1,
            batch_size=self.cfg.batch, state=self.state, log=lambda *a: None, progress=False)
        synchronize()


class TorchCuda:
    """PyTorch eager on CUDA: nn.Linear + ReLU, CrossEntropyLoss, torch.optim; the loss
    summed on the device (no .item() per step, which would synchronize)."""

    name = "PyTorch eager CUDA"

    def __init__(self, cfg, X, y):
        import torch
        torch.backends.cuda.matmul.allow_tf32 = False
        self.torch, self.cfg, dev = torch, cfg, "cuda"
        self.X, self.y = torch.from_numpy(X).to(dev), torch.from_numpy(y).to(dev)
        self.model, self.loss, self.opt = torch_model(cfg, SEED, device=dev)

    def prepare(self, order):
        self.order = self.torch.from_numpy(order).to("cuda")

    def epoch(self, order, seed):
        X, y, B, total = self.X, self.y, self.cfg.batch, 0
        for start in range(0, X.shape[0], B):
            rows = self.order[start:start + B]
            self.opt.zero_grad(set_to_none=True)
            value = self.loss(self.model(X[rows]), y[rows])
            value.backward()
            self.opt.step()
            total = total + value.detach()
        self.torch.cuda.synchronize()


class JaxJit(peers_jax.JaxJit):
    """JAX: the whole step (gather, forward, loss, grad, update) one jitted function, as
    the CPU benchmark's (``peers_jax.JaxJit``: the training set an argument, not a constant
    baked into the program; m and v separate buffers, each donated once), on JAX's default
    device (the GPU) with full float32 products."""

    name = "JAX jit GPU"

    def __init__(self, cfg, X, y):
        import jax
        jax.config.update("jax_default_matmul_precision", "highest")
        super().__init__(cfg, X, y, SEED)


CONTESTANTS = [Bound, Manualnn, TorchCuda, JaxJit]


def time_one(cls, cfg, X, y, repeats):
    """Seconds of the fastest of ``repeats`` epochs, after one untimed; or the reason."""
    try:
        runner = cls(cfg, X, y)
        best = float("inf")
        for e in range(repeats + 1):   # the order fit draws from default_rng(e)
            order = np.random.default_rng(e).permutation(X.shape[0])
            runner.prepare(order)
            start = time.perf_counter()
            runner.epoch(order, e)
            if e:
                best = min(best, time.perf_counter() - start)
        return best
    except Exception as exc:  # noqa: BLE001  (a missing or failing library: say why)
        return f"{type(exc).__name__}: {exc}"[:160]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--configs", default="a,c,large")
    args = ap.parse_args(argv)
    from manualnn.backend import cuda_missing
    X, y, source = data(args.rows)
    missing = cuda_missing()   # a dry run without a GPU: the CUDA columns read n/a
    if missing:
        gpu = f"none ({missing})"
    else:
        import cupy
        gpu = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"GPU: {gpu}; data: {source}, {X.shape[0]} rows; fastest of {args.repeats} "
          "epochs after one untimed\n")
    configs = {**CONFIGS, "large": LARGE}
    print("| config | " + " | ".join(c.name for c in CONTESTANTS) +
          " | manualnn / bound | manualnn / PyTorch | manualnn / JAX |")
    print("|---" * (len(CONTESTANTS) + 4) + "|")
    notes = []
    for key in args.configs.split(","):
        cfg = configs[key]
        times = {c.name: time_one(c, cfg, X, y, args.repeats) for c in CONTESTANTS}
        cells = [f"{t:.3f} s" if isinstance(t, float) else "n/a" for t in times.values()]
        mine = times[Manualnn.name]

        def ratio(other, mine=mine):
            return f"{mine / other:.2f}" if isinstance(mine, float) and \
                isinstance(other, float) else "n/a"
        cells += [ratio(times[c.name]) for c in (Bound, TorchCuda, JaxJit)]
        print(f"| {key}: {cfg.title} | " + " | ".join(cells) + " |", flush=True)
        notes += [f"{key} {name}: {t}" for name, t in times.items() if not isinstance(t, float)]
    for note in notes:
        print(f"\nnot timed: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
