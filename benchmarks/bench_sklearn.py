"""manualnn.sklearn.MLPClassifier against scikit-learn's MLPClassifier on Fashion-MNIST.

The issue's setting: StandardScaler, relu, hidden layers (100,) and (100, 10), the default
adam solver, 5 seeds; test accuracy and fit time for both libraries.  Both get the same
``max_iter`` (20 by default: scikit-learn's default of 200 with its tol-based stop takes
tens of minutes per fit here) and otherwise their defaults; both may stop earlier by the
same tol / n_iter_no_change rule.  Each seed fits both libraries back to back (alternating
which goes first), so a busy machine slows both alike.

Since manualnn.sklearn draws its weights and shuffles as scikit-learn does, the same seed
and dtype give the same model in both libraries (to rounding): the accuracies agree and
the comparison is one of speed.  Data dtypes (--dtypes, both by default):

- float64, what StandardScaler gives and scikit-learn trains on: scikit-learn, manualnn,
  and manualnn with ``dtype="float32"`` (it casts the data and trains in float32);
- float32 input for both libraries (scikit-learn keeps float32 data in float32 too).

    python benchmarks/bench_sklearn.py [--max-iter 20] [--seeds 5] [--dtypes float64,float32]
        [--threads N] [--quick] [--out benchmarks/results_sklearn.md]

Prints a table and writes it, with the machine and versions, to --out.  On a shared
machine use --threads 1: a 2-thread BLAS call waits for a core that another job holds, and
the timings then measure the scheduler more than either library.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
PAPER = {(100,): 0.871, (100, 10): 0.870}  # the dataset's benchmark table, sklearn MLP


def load(folder: str, quick: bool):
    """Standardized Fashion-MNIST as float64: (X_train, y_train, X_test, y_test)."""
    from sklearn.preprocessing import StandardScaler

    from manualnn.data.files import read_idx

    def part(prefix):
        X = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"))
        return X.reshape(len(X), -1).astype(np.float64), y.astype(np.int64)

    X, y = part("train")
    Xt, yt = part("t10k")
    if quick:
        X, y, Xt, yt = X[:3000], y[:3000], Xt[:1000], yt[:1000]
    scaler = StandardScaler().fit(X)
    return scaler.transform(X), y, scaler.transform(Xt), yt


def fit_one(make, hidden, seed, max_iter, X, y, Xt, yt):
    """(test accuracy, fit seconds, epochs, CPU seconds of the process) of one fit."""
    est = make(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        start, cpu = time.perf_counter(), time.process_time()
        est.fit(X, y)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return est.score(Xt, yt), seconds, est.n_iter_, cpu


def contenders(dtype: str) -> dict:
    """Name -> estimator factory.  On float64 data, also manualnn told to train in float32
    (its ``dtype`` parameter): what a user gets by swapping the import and adding it."""
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from manualnn.sklearn import MLPClassifier as ManualMLP

    found = {"scikit-learn": SklearnMLP, "manualnn": ManualMLP}
    if dtype == "float64":
        found["manualnn dtype=float32"] = lambda **kw: ManualMLP(dtype="float32", **kw)
    return found


def run(args, data):
    rows = []
    for dtype in args.dtypes:
        X, y, Xt, yt = (a.astype(dtype) if a.dtype.kind == "f" else a for a in data)
        makers = contenders(dtype)
        for make in makers.values():   # warm-up: imports, compiled loops, first allocations
            fit_one(make, args.hidden[0], 0, 1, X[:2000], y[:2000], Xt[:10], yt[:10])
        for hidden in args.hidden:
            results = {name: [] for name in makers}
            for seed in range(args.seeds):
                order = list(makers) if seed % 2 == 0 else list(makers)[::-1]
                for name in order:
                    r = fit_one(makers[name], hidden, seed, args.max_iter, X, y, Xt, yt)
                    results[name].append(r)
                    print(f"  {dtype:7s} {hidden!s:9s} seed {seed} {name:22s} "
                          f"acc {r[0]:.4f}  {r[1]:7.2f} s  {r[2]} epochs", flush=True)
            rows.append((dtype, hidden, results))
    return rows


def table(rows) -> str:
    head = ("| hidden | dtype | library | test accuracy (mean ± std) | fit time s (mean ± std) "
            "| epochs | speed-up | CPU s | speed-up in CPU s |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for dtype, hidden, results in rows:
        base, base_cpu = (np.mean([r[i] for r in results["scikit-learn"]]) for i in (1, 3))
        for name, rs in results.items():
            acc, sec, ep, cpu = (np.array([r[i] for r in rs]) for i in range(4))
            lines.append(f"| {hidden} | {dtype} | {name} | {acc.mean():.4f} ± {acc.std():.4f} "
                         f"| {sec.mean():.2f} ± {sec.std():.2f} | {ep.mean():.1f} "
                         f"| {base / sec.mean():.2f}x | {cpu.mean():.2f} "
                         f"| {base_cpu / cpu.mean():.2f}x |")
    return head + "\n".join(lines) + "\n"


def environment(args, started: float) -> str:
    import scipy

    import sklearn
    from manualnn import __version__
    from manualnn.backend import get_backend
    from manualnn.backend.threads import blas_info

    blas, load = blas_info(), os.getloadavg()
    quick = ", QUICK subset (3000 train rows)" if args.quick else ""
    lines = [
        (f"date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; total wall time "
         f"{time.perf_counter() - started:.0f} s"),
        (f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
         f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
         "(a shared machine: other jobs ran alongside)"),
        (f"BLAS: {blas.get('library')} {blas.get('version')} ({blas.get('kernel')}), "
         f"threads {args.threads or blas.get('threads')}"),
        (f"Python {platform.python_version()}, NumPy {np.__version__}, scikit-learn "
         f"{sklearn.__version__}, SciPy {scipy.__version__}, manualnn {__version__} "
         f"(backend: {get_backend().name})"),
        (f"settings: max_iter={args.max_iter} for both (other parameters at their defaults: "
         f"adam, lr 1e-3, batch 200, alpha 1e-4, tol 1e-4, n_iter_no_change 10), "
         f"seeds 0..{args.seeds - 1}{quick}"),
        (f"the dataset paper's scikit-learn MLPClassifier: {PAPER[(100,)]} for (100,), "
         f"{PAPER[(100, 10)]} for (100, 10)"),
    ]
    return "".join(f"- {line}\n" for line in lines)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=DATA)
    p.add_argument("--max-iter", type=int, default=20)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--dtypes", default="float64,float32",
                   type=lambda s: [np.dtype(t).name for t in s.split(",")])
    p.add_argument("--hidden", default="100;100,10",
                   type=lambda s: [tuple(int(n) for n in h.split(",")) for h in s.split(";")])
    p.add_argument("--threads", type=int, default=None, help="cap the BLAS threads")
    p.add_argument("--quick", action="store_true", help="a small subset, for a smoke test")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                 "results_sklearn.md"))
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    from manualnn.backend.threads import limit_threads

    started = time.perf_counter()
    data = load(args.data_dir, args.quick)
    with limit_threads(args.threads):
        rows = run(args, data)
    text = table(rows)
    print("\n" + text)
    report = ("# manualnn.sklearn vs scikit-learn: MLPClassifier on Fashion-MNIST\n\n"
              "Written by `benchmarks/bench_sklearn.py`.  Speed-up = scikit-learn's mean fit "
              "time / the row's; the same in CPU seconds of the process (without the time it "
              "waited for a core that other work on this shared machine held).  Before the "
              "timed fits, each contestant fits once on 2000 rows (a warm-up: imports, "
              "manualnn's compiled loops loaded from its cache, about 0.4 s in a fresh "
              "process).\n\n" + text + "\n" + environment(args, started))
    with open(args.out, "w") as f:
        f.write(report)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
