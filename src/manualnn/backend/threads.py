"""BLAS threads: how many the matrix products use, and which library runs them.

NumPy hands every matrix product to a BLAS library (OpenBLAS in NumPy's wheels) that
starts its own pool of threads, one per core by default.  ``limit_threads(n)`` caps that
pool for a block of code (the CLI's ``--threads``) and gives any other BLAS one thread,
and ``blas_info()`` says what is in use, for the benchmark's table and for bug reports.  Both go through threadpoolctl, which
finds the loaded libraries themselves, so the answer is the truth and not a guess from
environment variables.
"""

from __future__ import annotations

import contextlib

from manualnn import checks
from manualnn.backend import blas

MAX_THREADS = 1 << 16


def limit_threads(n: int | None):
    """A context manager for a block of training or inference: NumPy's BLAS (and OpenMP)
    capped at ``n`` threads, every other BLAS library at one.  The previous limits come
    back on exit.

    ``n=None`` leaves NumPy's pools as they are.  A second BLAS (scipy's, which numba
    loads for its own linear algebra) does none of manualnn's work, but a pool of idle
    threads beside NumPy's is a trap: any call into it spins its threads against NumPy's.

    >>> with limit_threads(1):
    ...     pass
    """
    if n is not None:
        n = int(checks.number(n, "threads", 1, integer=True))
        if n > MAX_THREADS:   # the BLAS libraries take a C int
            raise ValueError(f"threads: expected at most {MAX_THREADS}, got {n}")
    try:   # numba loads scipy's BLAS at its first compile: load it now, to limit it too
        import scipy.linalg.cython_blas  # noqa: F401
    except ImportError:
        pass
    from threadpoolctl import ThreadpoolController

    pools = ThreadpoolController()
    mine = blas_info()["filepath"]
    others = [lib["filepath"] for lib in pools.info()
              if lib["user_api"] == "blas" and lib["filepath"] != mine]
    stack = contextlib.ExitStack()
    if others:
        stack.enter_context(pools.select(filepath=others).limit(limits=1))
    if n is not None:
        ours = pools.select(filepath=mine) if mine else pools.select(user_api="blas")
        stack.enter_context(ours.limit(limits=n))
        stack.enter_context(pools.select(user_api="openmp").limit(limits=n))
    return stack


def blas_info() -> dict:
    """The BLAS library NumPy uses: a dict with ``library`` (e.g. "openblas"),
    ``version``, ``threads``, ``kernel`` (the CPU code path it picked, e.g. "SkylakeX",
    or None where the library does not say), ``threading`` (pthreads, openmp, ...) and
    ``filepath``.  Values it cannot find are None.
    """
    import numpy  # noqa: F401  (loads the BLAS library, so threadpoolctl can see it)
    from threadpoolctl import threadpool_info

    info = threadpool_info()
    path = blas._numpy_blas_path(info)
    libs = [lib for lib in info if lib.get("user_api") == "blas"]
    numpy_blas = [lib for lib in libs if lib["filepath"] == path] or libs
    if not numpy_blas:
        return {"library": None, "version": None, "threads": None, "kernel": None,
                "threading": None, "filepath": None}
    lib = numpy_blas[0]
    return {"library": lib.get("internal_api"), "version": lib.get("version"),
            "threads": lib.get("num_threads"), "kernel": lib.get("architecture"),
            "threading": lib.get("threading_layer"), "filepath": lib.get("filepath")}


def describe() -> str:
    """One line: "openblas 0.3.31 (SkylakeX kernel, pthreads), 2 threads"."""
    info = blas_info()
    if info["library"] is None:
        return "no BLAS library found"
    kernel = f"{info['kernel']} kernel, " if info["kernel"] else ""
    return (f"{info['library']} {info['version']} ({kernel}{info['threading']}), "
            f"{info['threads']} thread{'s' if info['threads'] != 1 else ''}")
