"""Data-parallel training over MPI: the same result as one process, checkpoints across
world sizes, a failing rank ends the job, rank 0 alone writes, the guard.

The multi-rank tests launch the virtual environment's ``mpiexec`` (the ``mpich`` wheel of
the test extras) from here, with 2 and 3 ranks, on the digits or a small synthetic set.
"""

import importlib.util
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from manualnn.cli import main
from manualnn.io.serialize import load_model
from manualnn.train import distributed
from manualnn.train.distributed import LOCAL, shard

HERE = Path(__file__).parent
WORKER = HERE / "mpi_ranks.py"
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or \
    shutil.which("mpiexec")
TIMEOUT = 120   # seconds: a hang (a rank waiting for a dead one) fails instead of blocking
# digits: 1294 training rows in batches of 68 -> 19 steps, the last of 2 rows (idle ranks)
TRAIN = ["--dataset", "digits", "--hidden", "24", "--dropout", "0", "--batch-size", "68",
         "--dtype", "float64", "--threads", "1", "--schedule", "constant", "--lr", "0.01"]


def _mpi_missing():
    # found, not imported: importing mpi4py.MPI would start MPI inside pytest
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'manualnn[mpi]' mpich)"
    return None if MPIEXEC else "no mpiexec found (pip install mpich)"


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def launch(ranks, *args, cwd, module=True):
    """Run ``args`` on ``ranks`` ranks (``python -m mpi4py`` first when ``module``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI", "OMPI", "PMIX"))}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [MPIEXEC, "-n", str(ranks), sys.executable, *(["-m", "mpi4py"] if module else []),
               *map(str, args)]
    return subprocess.run(command, check=False, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def relative(a, b):
    return max(float(np.abs(x - y).max() / np.abs(y).max()) for x, y in zip(a, b))


def params(folder):
    return load_model(folder)[0].params


LARGEST = {}   # the largest relative difference seen, float64 and float32


def record(kind, value):
    LARGEST[kind] = max(LARGEST.get(kind, 0.0), value)
    print(f"largest relative difference, distributed vs single ({kind}): {LARGEST[kind]:.2e}")


# -- one process ---------------------------------------------------------------------
def test_shards_are_disjoint_near_equal_and_cover_the_batch():
    for m in (1, 2, 3, 7, 68, 101):
        for size in (1, 2, 3, 4, 64):
            rows = [shard(m, r, size) for r in range(size)]
            assert rows[0].start == 0 and rows[-1].stop == m
            assert all(a.stop == b.start for a, b in itertools.pairwise(rows))
            lengths = [s.stop - s.start for s in rows]
            assert max(lengths) - min(lengths) <= 1


def test_alone_the_collectives_leave_buffers_alone():
    buf = np.arange(5.0)
    assert LOCAL.allreduce_(buf) is buf and buf.tolist() == [0, 1, 2, 3, 4]
    assert LOCAL.bcast_(buf) is buf
    assert LOCAL.allgather(np.array([7])).tolist() == [[7]]
    with pytest.raises(TypeError, match="buf: expected a writeable C-contiguous"):
        LOCAL.allreduce_(np.zeros((4, 4))[:, 0])
    with pytest.raises(TypeError, match="buf: expected .* got list"):
        LOCAL.allreduce_([1.0, 2.0])


def test_world_without_a_launcher_is_one_process_and_never_imports_mpi4py(monkeypatch):
    for name in (*distributed.LAUNCHER_SIZE, *distributed.LAUNCHER_RANK):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(distributed, "_world", None)
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    assert distributed.world() is LOCAL
    assert "mpi4py.MPI" not in sys.modules


@pytest.mark.parametrize("bias", [True, False])
def test_alone_the_data_parallel_step_is_the_step(bias):
    """One rank: the flat buffer, the rescaled G and the packed sums change nothing."""
    from manualnn import MLP, get_loss
    from manualnn.train.optim import SGD
    from manualnn.train.step import Step
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(30, 5)), rng.integers(0, 3, 30), rng.uniform(0.5, 2, 30)
    nets = [MLP([5, 7, 3], bias=bias, dtype="float64", rng=1, backend="numpy")
            for _ in range(2)]
    loss = get_loss("softmax_cross_entropy")
    opts = [SGD(net.params, lr=0.1, momentum=0.9) for net in nets]
    alone = Step(nets[0], loss, opts[0])
    step = distributed.DataParallelStep(nets[1], loss, opts[1], LOCAL, check_every=2)
    assert all(np.shares_memory(g, step.flat) for g in nets[1].grads)
    for rows, weights in ((slice(0, 10), None), (slice(10, 30), w[10:30])):
        expected = alone(X[rows], y[rows], weights)
        got = step(X[rows], y[rows], weights)
        assert got[1] == expected[1] and got[0] == pytest.approx(expected[0], rel=1e-14)
    assert relative(nets[1].params, nets[0].params) < 1e-14
    assert step.evaluate(X, y) == pytest.approx(alone.evaluate(X, y), rel=1e-14)
    step.check()


def _cli(code, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI", "OMPI", "PMIX"))}
    env.pop("SLURM_NTASKS", None)
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


@needs_mpi
def test_distributed_without_a_launcher_is_one_line_and_exit_2(tmp_path):
    done = _cli("import sys; from manualnn.cli import main; "
                "sys.exit(main(['train', '--distributed', '--dataset', 'digits']))", tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "not started by an MPI launcher" in done.stderr
    assert "mpiexec -n 4 python -m mpi4py -m manualnn train" in done.stderr
    assert not os.listdir(tmp_path)


def test_distributed_without_mpi4py_is_one_line_and_exit_2(tmp_path):
    done = _cli("import sys; sys.modules['mpi4py'] = None; from manualnn.cli import main; "
                "sys.exit(main(['train', '--distributed', '--dataset', 'digits']))", tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert "needs mpi4py" in done.stderr and "pip install 'manualnn[mpi]'" in done.stderr


# -- several ranks ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One epoch on 2 ranks (its checkpoint is resumed below), and the same run alone."""
    if _mpi_missing():
        pytest.skip(_mpi_missing())
    root = tmp_path_factory.mktemp("distributed")
    done = launch(2, "-m", "manualnn", "train", *TRAIN, "--epochs", "1", "--out", "two",
                  cwd=root)
    assert done.returncode == 0, done.stderr
    for epochs in (1, 2):
        assert main(["train", *TRAIN, "--epochs", str(epochs), "--quiet",
                     "--out", str(root / f"alone{epochs}")]) == 0
    return root, done


def test_two_ranks_train_the_single_process_weights(runs):
    root, _ = runs
    difference = relative(params(root / "two"), params(root / "alone1"))
    record("float64, 1 epoch on 2 ranks", difference)
    assert difference < 1e-10


def test_rank_0_alone_prints_and_writes(runs):
    root, done = runs
    lines = done.stdout.splitlines()
    assert sum(line.startswith("| Epoch") for line in lines) == 1
    assert sum(line.startswith("|     1 |") for line in lines) == 1
    assert [line for line in lines if line.startswith("run folder")] == ["run folder: two"]
    assert sorted(os.listdir(root)) == ["alone1", "alone2", "two"]
    assert sorted(os.listdir(root / "two")) == sorted(os.listdir(root / "alone1"))
    assert (root / "two" / "history.csv").read_text().count("\n") == 2


@pytest.mark.parametrize("ranks", [3, 1])
def test_a_checkpoint_of_2_ranks_resumes_on_3_and_on_1(runs, ranks):
    root, _ = runs
    folder = root / f"resumed{ranks}"
    shutil.copytree(root / "two", folder)
    if ranks == 1:
        assert main(["train", "--resume", str(folder), "--epochs", "2", "--quiet"]) == 0
    else:
        done = launch(ranks, "-m", "manualnn", "train", "--resume", folder.name, "--epochs",
                      "2", "--distributed", cwd=root)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("resuming") == 1 and "|     2 |" in done.stdout
    difference = relative(params(folder), params(root / "alone2"))
    record(f"float64, 1 epoch on 2 ranks + 1 on {ranks}", difference)
    assert difference < 1e-10
    assert (folder / "history.csv").read_text().count("\n") == 3


def _worker():
    spec = importlib.util.spec_from_file_location("mpi_ranks", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_mpi
@pytest.mark.parametrize("ranks", [2, 3])
def test_float32_steps_and_weighted_steps_match_one_process(tmp_path, ranks):
    done = launch(ranks, WORKER, "steps", tmp_path / "out.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = np.load(tmp_path / "out.npz")
    worker = _worker()
    p32, h32 = worker.trained(None, np.float32, worker.SGD, 1, 67)
    p64, values = worker.weighted_steps(None)
    assert all(got[f"f32_{i}"].dtype == np.float32 for i in range(len(p32)))
    record(f"float32, 3 steps on {ranks} ranks",
           relative([got[f"f32_{i}"] for i in range(len(p32))], p32))
    assert relative([got[f"f32_{i}"] for i in range(len(p32))], p32) < 1e-5
    np.testing.assert_allclose(got["train_loss"], [h32[0]["train_loss"], h32[0]["val_loss"]],
                               rtol=1e-5)
    assert relative([got[f"w64_{i}"] for i in range(len(p64))], p64) < 1e-10
    np.testing.assert_allclose(got["values"], values, rtol=1e-12)


@needs_mpi
def test_a_rank_that_raises_ends_the_job(tmp_path):
    # no `-m mpi4py`: the CLI turns the error into exit 2 and must abort the others
    done = launch(2, WORKER, "raise", *TRAIN, "--epochs", "3", "--quiet", "--out", "run",
                  cwd=tmp_path, module=False)
    assert done.returncode != 0
    assert "manualnn: error: rank 1 fails on purpose at its 3rd step" in done.stderr
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


@needs_mpi
@pytest.mark.parametrize("every", [7, 0])
def test_the_guard_catches_weights_that_differ(tmp_path, every):
    # 203 rows in batches of 20: 11 steps an epoch; rank 1 nudges a weight after epoch 1
    done = launch(2, WORKER, "diverge", every, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    after = 14 if every else 11   # the 2nd check of every 7 steps, or the end of epoch 1
    for rank in (0, 1):
        assert f"rank {rank}: distributed: the weights of rank(s) 1 differ from rank 0's " \
               f"after {after} steps" in done.stdout
