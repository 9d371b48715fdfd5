"""Many processes, one training: the communicator and the data-parallel step.

Launched as ``mpiexec -n p python -m mpi4py -m manualnn train ...``, every rank holds the
whole model and the whole dataset and draws the same shuffled order.  Of each global batch
of m rows, rank r takes rows [r m / p, (r + 1) m / p): disjoint, near-equal shards, the
last short batch split too.  The shard's G_{L+1} carries the global batch's 1/m (not the
shard's), so the sum over the ranks of their gradients is the single-process gradient:

    grad W_i = sum_r Z_i^(r)T D_i^(r),     D^(r) computed from G_{L+1}^(r) = (S - I_y)^(r) / m

One in-place all-reduce of a flat buffer that holds every gradient (and the shard's loss
and errors) gives every rank that sum; every rank then applies the same update, so the
weights stay equal on every rank, which a checksum guard verifies.

    Local              the world of one process: every collective is the identity
    MPIComm            mpi4py's COMM_WORLD, through its buffer API only (no pickling)
    world()            the communicator of this process (MPI when launched by one)
    DataParallelStep   the training step of one rank: shard, loss, backward, all-reduce,
                       the same update everywhere; sharded evaluation; the guard
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
import zlib
from typing import Any

import numpy as np

from manualnn.checks import Array, Backend
from manualnn.core.losses import Loss
from manualnn.core.network import MLP
from manualnn.train import launcher
from manualnn.train.evaluation import evaluate
from manualnn.train.optim import clip_grad_norm
from manualnn.train.optimizer import Optimizer
from manualnn.train.step import Step

# set by the launchers for the processes they start: MPICH/Intel (hydra), Open MPI, PMIx
LAUNCHER_SIZE, LAUNCHER_RANK = tuple(launcher.SIZES), tuple(launcher.RANKS)
CHECK_EVERY = 500   # steps between two comparisons of the weights (and at every epoch's end)
LAUNCH = "mpiexec -n 4 python -m mpi4py -m manualnn train ..."


class DistributedError(RuntimeError):
    """MPI is needed and missing, or the ranks no longer train one model."""


class WeightsDiverged(DistributedError):
    """The ranks' weights differ: their updates stopped being the same."""


class Local:
    """The world of one process: rank 0 of 1; the collectives leave their buffers alone."""

    rank, size = 0, 1

    def allreduce_(self, buf: Array) -> Array:
        """Sum ``buf`` over the ranks, in place: here it is the sum already."""
        return _flat(buf, "buf")

    def bcast_(self, buf: Array, root: int = 0) -> Array:
        """Rank ``root``'s ``buf`` into every rank's, in place."""
        return _flat(buf, "buf")

    def allgather(self, a: Array) -> np.ndarray:
        """Every rank's ``a`` stacked: shape (size, *a.shape)."""
        return np.array(a)[None]

    def abort(self, code: int = 1) -> None:
        raise SystemExit(code)


LOCAL = Local()


class MPIComm(Local):
    """An mpi4py communicator (COMM_WORLD by default) seen through its buffer API."""

    def __init__(self, comm: Any = None) -> None:
        from mpi4py import MPI
        self._MPI = MPI
        self._comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self._comm.Get_rank(), self._comm.Get_size()

    def allreduce_(self, buf: Array) -> Array:
        self._comm.Allreduce(self._MPI.IN_PLACE, _flat(buf, "buf"), op=self._MPI.SUM)
        return buf

    def bcast_(self, buf: Array, root: int = 0) -> Array:
        self._comm.Bcast(_flat(buf, "buf"), root=root)
        return buf

    def allgather(self, a: Array) -> np.ndarray:
        a = np.ascontiguousarray(a)
        out = np.empty((self.size, *a.shape), a.dtype)
        self._comm.Allgather(a, out)
        return out

    def abort(self, code: int = 1) -> None:
        """End every rank of the job now (the others may be waiting in a collective)."""
        sys.stdout.flush()
        sys.stderr.flush()
        self._comm.Abort(code)


_world: Local | None = None


def world(required: bool = False) -> Local:
    """The communicator of this process: ``MPIComm`` when an MPI launcher started it
    with more than one rank, else ``LOCAL``.  mpi4py is imported only when a launcher's
    variables are set, mpi4py is already loaded (``python -m mpi4py``) or ``required``.

    ``required=True`` (``train --distributed``) raises :class:`DistributedError` when
    mpi4py is missing or no launcher started this process, instead of training alone.
    """
    global _world
    if _world is not None:
        return _world
    env = os.environ
    launched = any(v in env for v in (*LAUNCHER_SIZE, *LAUNCHER_RANK)) \
        or "mpi4py.MPI" in sys.modules
    if not (launched or required):
        return LOCAL
    try:   # the variables first: MPI's own start aborts on a malformed one
        announced = launcher.world_size(env)
        MPI = _start_mpi(env)
    except launcher.LauncherError as exc:
        raise DistributedError(f"distributed: {exc}") from None
    except ImportError as exc:
        if required or (announced or 1) > 1:
            raise DistributedError(f"distributed: needs mpi4py and an MPI library ({exc}): "
                                   f"pip install 'manualnn[mpi]' mpich") from None
        return LOCAL
    comm = MPIComm(MPI.COMM_WORLD)
    if comm.size == 1 and required and not launched:
        raise DistributedError(f"distributed: {_not_launched()}")
    try:
        launcher.check_size(comm.rank, comm.size, env)
    except launcher.LauncherError as exc:
        raise DistributedError(f"distributed: {exc}") from None
    _world = comm if comm.size > 1 else LOCAL
    return _world


def _start_mpi(environ):
    """mpi4py's MPI, started after its library is checked against the launcher's
    variables (``python -m mpi4py`` has started it already)."""
    if "mpi4py.MPI" in sys.modules:
        from mpi4py import MPI
        return MPI
    import mpi4py
    mpi4py.rc.initialize, mpi4py.rc.finalize = False, True   # started below, ended at exit
    from mpi4py import MPI
    launcher.check_library(MPI.Get_library_version(), environ)
    MPI.Init_thread(MPI.THREAD_MULTIPLE)
    return MPI


def _not_launched() -> str:
    tasks = os.environ.get("SLURM_NTASKS", "1")
    if tasks != "1":
        return (f"srun started {tasks} tasks but MPI sees one rank in each; "
                "give srun --mpi=pmix (or your site's MPI plugin)")
    launcher = "" if shutil.which("mpiexec") else \
        " (no mpiexec on PATH: pip install mpich, or use your cluster's srun --mpi=pmix)"
    return f"this process was not started by an MPI launcher; run {LAUNCH}{launcher}"


def abort_on_failure(code: int, traceback: bool = False) -> None:
    """Under MPI with several ranks, end the whole job with ``code`` (the other ranks
    would wait for this one forever), after printing the exception being handled if
    ``traceback``; alone, do nothing."""
    if code and _world is not None and _world.size > 1:
        if traceback:
            import traceback as tb
            tb.print_exc()
        _world.abort(code)


def shard(m: int, rank: int, size: int) -> slice:
    """Rank ``rank``'s rows of m: [rank m / size, (rank + 1) m / size), near-equal and
    disjoint over the ranks (empty when m < size for some ranks)."""
    return slice(rank * m // size, (rank + 1) * m // size)


class DataParallelStep(Step):
    """``DataParallelStep(net, loss, optimizer, comm, clip_norm=None)(X, y)`` -> (the
    global batch's mean loss, its misclassified rows or None): the step of one rank.

    X (m, n_1) and y are the whole global batch (the same on every rank); this rank
    trains on its ``shard``.  Backward writes every gradient into one flat buffer (the
    network's gradients become views of it), followed by the shard's loss sum and errors;
    one all-reduce sums it over the ranks, and the optimizer (after clipping, if asked)
    steps from the sum.  The update is never fused into backward: it needs the other
    ranks' gradients.  Rank 0's weights are broadcast to every rank at construction.

    With dropout, rank r draws its masks from its own stream (rank 0's jumped r times):
    the run is as random as a single process's, but not the same draw.
    ``check_every`` steps (0: never) and at every ``check()``, the ranks compare the
    checksums of their weights (:class:`WeightsDiverged` if they differ).
    """

    def __init__(self, net: MLP, loss: Loss, optimizer: Optimizer, comm: Local,
                 clip_norm: float | None = None, check_every: int = CHECK_EVERY) -> None:
        if not net.ops.host:   # the flat buffer, the collectives and the checksums: NumPy's
            raise TypeError(f"net: DataParallelStep expected a network on NumPy arrays "
                            f"(backend numpy or fast), got {net.ops!r}")
        super().__init__(net, loss, optimizer, clip_norm)
        self._hook = None
        self.comm, self.check_every, self.steps, self.comm_seconds = comm, check_every, 0, 0.0
        self.flat = np.zeros(sum(p.size for p in net.params) + 2, net.dtype)
        views, start = [], 0
        for p in net.params:
            views.append(self.flat[start:start + p.size].reshape(p.shape))
            start += p.size
        if net.bias:
            net.set_grad_buffers(views[::2], views[1::2])
        else:
            net.set_grad_buffers(views)
        self._sums = self.flat[-2:]   # the shard's loss x rows, its misclassified rows
        self._loss: Any = _GlobalMean(loss)   # a Loss where loss_and_grad reads one
        for p in net.params:
            comm.bcast_(p)
        if net.dropout and comm.rank:
            bits: Any = net.rng.bit_generator   # PCG64 (default_rng): it has jumped
            net.rng = np.random.Generator(bits.jumped(comm.rank))

    def __call__(self, X: Array, y: Array,
                 sample_weight: Array | None = None) -> tuple[float, int | None]:
        rows = shard(X.shape[0], self.comm.rank, self.comm.size)
        w = None if sample_weight is None else sample_weight[rows]
        # c / C: the shard's share of the batch (of its weight): G_{L+1} x c / C has 1/m
        c, C = (rows.stop - rows.start, X.shape[0]) if w is None or sample_weight is None else \
            (float(w.sum(dtype=np.float64)), float(sample_weight.sum(dtype=np.float64)))
        if rows.stop > rows.start:
            self._loss.factor = c / C if C else math.nan   # weights all 0: as alone, NaN
            value, errors, _ = self.net.loss_and_grad(X[rows], y[rows], self._loss, w,
                                                      return_errors=True)
            self._sums[:] = value * c, math.nan if errors is None else errors
        else:   # nothing to add, but the others wait for this rank's zeros
            self.flat.fill(0)
        start = time.perf_counter()
        self.comm.allreduce_(self.flat)
        self.comm_seconds += time.perf_counter() - start
        value = float(self._sums[0]) / C if C else math.nan
        errors = float(self._sums[1])
        if math.isfinite(value):
            if self.clip_norm:
                clip_grad_norm(self.net.grads, self.clip_norm)
            self.optimizer.step(self.net.grads)
        self.steps += 1
        if self.check_every and self.steps % self.check_every == 0:
            self.check()
        return value, None if math.isnan(errors) else round(errors)

    def evaluate(self, X: Array, y: Array, chunk: int = 4096) -> tuple[float, float]:
        """(mean loss, error rate) over all of X (m, n_1): each rank evaluates its shard
        of the rows, and the sums are reduced."""
        rows, m = shard(X.shape[0], self.comm.rank, self.comm.size), X.shape[0]
        sums = np.zeros(2)
        if rows.stop > rows.start:
            loss, err = evaluate(self.net, X[rows], y[rows], self.loss, chunk)
            n = rows.stop - rows.start
            sums[:] = loss * n, round(err * n)
        self.comm.allreduce_(sums)
        return float(sums[0]) / m, float(sums[1]) / m

    def check(self) -> None:
        """Raise :class:`WeightsDiverged` on every rank if any rank's weights differ
        from rank 0's (a CRC-32 of their bytes: equal replicas have equal bits)."""
        crc = 0
        for p in self.net.params:
            crc = zlib.crc32(np.ascontiguousarray(p).data, crc)
        sums = self.comm.allgather(np.array([crc], np.int64))[:, 0]
        bad = [r for r in range(self.comm.size) if sums[r] != sums[0]]
        if bad:
            raise WeightsDiverged(
                f"distributed: the weights of rank(s) {', '.join(map(str, bad))} differ from "
                f"rank 0's after {self.steps} steps (checksums {', '.join(map(hex, sums))}); "
                "the ranks no longer train one model (different data, library versions or "
                "BLAS settings per rank?); stopping")


class _GlobalMean:
    """A loss whose G_{L+1} is scaled by ``factor`` = the shard's share of the global
    batch, so that it carries the global batch's 1/m; the value stays the shard's mean."""

    def __init__(self, loss: Loss):
        self.loss, self.factor = loss, 1.0

    def value_and_grad_(self, Z: Array, y: Array, w=None, ops: Backend | None = None):
        done = self.loss.value_and_grad_(Z, y, w, ops)
        Z *= self.factor
        return done


def make_step(net: MLP, loss: Loss, optimizer: Optimizer, comm: Local = LOCAL,
              clip_norm: float | None = None) -> Step | DataParallelStep:
    """The step for this world: ``Step`` alone, ``DataParallelStep`` over several ranks."""
    if comm.size == 1:
        return Step(net, loss, optimizer, clip_norm)
    return DataParallelStep(net, loss, optimizer, comm, clip_norm)


def _flat(buf, name: str):
    if not (isinstance(buf, np.ndarray) and buf.flags.c_contiguous and buf.flags.writeable):
        got = type(buf).__name__ if not isinstance(buf, np.ndarray) else "a non-contiguous or " \
            "read-only array"
        raise TypeError(f"{name}: expected a writeable C-contiguous NumPy array, got {got}")
    return buf
