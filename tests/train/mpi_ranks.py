"""What the multi-rank tests run on every rank, under ``mpiexec -n p python ...``:

    mpi_ranks.py steps OUT.npz     a few float32 steps through fit and float64 steps with
                                   sample weights, straight on the step; rank 0 saves
                                   the weights (test_distributed compares them)
    mpi_ranks.py diverge EVERY     rank 1 nudges one weight after epoch 1: the guard,
                                   every EVERY steps (0: at each epoch's end) must stop it
    mpi_ranks.py raise ARGS...     `manualnn train ARGS` whose rank 1 raises at its 3rd
                                   step (no `-m mpi4py`: the CLI must end the job itself)
"""

import sys

import numpy as np

from manualnn import MLP, get_loss
from manualnn.train import TrainState, fit
from manualnn.train.distributed import DataParallelStep, WeightsDiverged, world
from manualnn.train.optim import SGD, Adam


def problem(dtype, rows=203, seed=0):
    """A small 4-class problem: X (rows, 12), y (rows,), sample weights (rows,)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2, size=(4, 12))
    y = rng.integers(0, 4, rows)
    X = (centers[y] + rng.normal(size=(rows, 12))).astype(dtype)
    return X, y, rng.uniform(0.5, 2, rows).astype(dtype)


def model(dtype, optimizer):
    net = MLP([12, 16, 8, 4], dtype=dtype, rng=3, backend="numpy")
    return net, optimizer(net.params, lr=0.05)


def trained(comm, dtype, optimizer, epochs, batch_size):
    """(weights, history) after ``epochs`` of fit: one process when comm is None."""
    X, y, _ = problem(dtype)
    net, opt = model(dtype, optimizer)
    loss = get_loss("softmax_cross_entropy")
    step = None if comm is None else DataParallelStep(net, loss, opt, comm, clip_norm=1.0)
    state = fit(net, X, y, loss, opt, epochs=epochs, batch_size=batch_size,
                state=TrainState(shuffle_rng=np.random.default_rng(5)), clip_norm=1.0,
                validation=(X[:37], y[:37]), log=lambda *a: None, progress=False, step=step)
    return net.params, state.history


def weighted_steps(comm, batches=4, batch_size=50):
    """float64 weights after ``batches`` direct steps with sample weights (Adam)."""
    X, y, w = problem(np.float64, seed=1)
    net, opt = model(np.float64, Adam)
    loss = get_loss("softmax_cross_entropy")
    if comm is None:
        from manualnn.train.step import Step
        step = Step(net, loss, opt)
    else:
        step = DataParallelStep(net, loss, opt, comm)
    values = [step(X[i:i + batch_size], y[i:i + batch_size], w[i:i + batch_size])[0]
              for i in range(0, batches * batch_size, batch_size)]
    return net.params, values


def steps(comm, out):
    # 203 rows in batches of 67: three steps, the last of two rows (3 ranks: one is idle)
    p32, h32 = trained(comm, np.float32, SGD, 1, 67)
    p64, v64 = weighted_steps(comm)
    if comm is None or comm.rank == 0:
        arrays = {f"f32_{i}": p for i, p in enumerate(p32)}
        arrays.update({f"w64_{i}": p for i, p in enumerate(p64)})
        np.savez(out, **arrays, values=np.array(v64),
                 train_loss=np.array([h32[0]["train_loss"], h32[0]["val_loss"]]))


def diverge(comm, every):
    X, y, _ = problem(np.float64)
    net, opt = model(np.float64, SGD)
    loss = get_loss("softmax_cross_entropy")
    step = DataParallelStep(net, loss, opt, comm, check_every=every)

    def nudge(row, net):
        if comm.rank == 1 and row["epoch"] == 1:
            net.W[1][0, 0] += 1e-9
    try:
        fit(net, X, y, loss, opt, epochs=3, batch_size=20, state=TrainState(), step=step,
            callbacks=[nudge], on_epoch_end=None if every else lambda s: step.check(),
            log=lambda *a: None, progress=False)
    except WeightsDiverged as exc:
        print(f"rank {comm.rank}: {exc}", flush=True)
        sys.exit(3)


def raising(args):
    from manualnn.cli import main
    calls = [0]
    original = DataParallelStep.__call__

    def step(self, *a, **k):
        calls[0] += 1
        if self.comm.rank == 1 and calls[0] == 3:
            raise ValueError("rank 1 fails on purpose at its 3rd step")
        return original(self, *a, **k)
    DataParallelStep.__call__ = step
    sys.exit(main(["train", *args]))


if __name__ == "__main__":
    what, rest = sys.argv[1], sys.argv[2:]
    if what == "raise":
        raising(rest)
    elif what == "steps":
        steps(None if rest[0] == "alone" else world(required=True), rest[-1])
    else:
        diverge(world(required=True), int(rest[0]))
