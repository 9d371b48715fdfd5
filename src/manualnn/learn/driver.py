"""The child's side of the checker: run a learner's functions on probes, record what came.

This file is standalone (the standard library and NumPy only), so that the child process
the runner starts needs nothing of manualnn, and an import guard can refuse ``manualnn``
to the learner's code.  The parent starts it as ``python -I driver.py JOB_DIR`` with:

    JOB_DIR/job.json     {"source", "filename", "functions", "probes": {function: [probe
                          names]}, "scalars": {function: {probe: {...}}}, "forbidden",
                          "memory", "cpu"}
    JOB_DIR/probes.npz   the probes' arrays, key "function/probe/name"

and the child appends one JSON line per event to JOB_DIR/results.jsonl: ``{"start": f,
"probe": p}`` before each call (so a parent whose child died knows where), then the
call's outcome (:func:`call`), whose arrays it writes as JOB_DIR/<f>.<p>.out<k>.npy and
.obs<k>.npy (sigma' arguments seen).  The parent reads them with allow_pickle=False.

:func:`call` is also what ``manualnn.learn.check.check(fn)`` runs in-process.
"""

import builtins
import importlib.abc
import json
import os
import sys
import traceback

import numpy as np

FUNCTIONS = ("softmax_loss", "softmax_regression_epoch", "nn_epoch", "backprop",
             "backprop_bias")
MAX_OBSERVED = 16   # sigma' calls recorded per probe
LIMITS = {"seconds": None, "memory": None}   # the child's, said in its messages
OUTPUT_CAP = 2000   # characters of the learner's printing kept


def _sigmoid(A):
    E = np.exp(-np.abs(A))
    return np.where(A >= 0, 1, E) / (1 + E)


# sigma and sigma' (of the pre-activation A), element-wise, dtype kept
ACTIVATIONS = {
    "tanh": (np.tanh, lambda A: 1 - np.tanh(A) ** 2),
    "sigmoid": (_sigmoid, lambda A: _sigmoid(A) * (1 - _sigmoid(A))),
    "softplus": (lambda A: np.maximum(A, 0) + np.log1p(np.exp(-np.abs(A))), _sigmoid),
    "relu": (lambda A: np.maximum(A, 0), lambda A: (A > 0).astype(A.dtype)),
    "leaky_relu": (lambda A: np.where(A > 0, A, A * A.dtype.type(0.01)),
                   lambda A: np.where(A > 0, A.dtype.type(1), A.dtype.type(0.01))),
}


class Refused(ImportError):
    pass


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout


def call(fn, function, arrays, scalars, filename=None, interruptible=False):
    """Run the learner's ``fn`` as ``function`` on one probe (fresh copies of ``arrays``).
    ``interruptible``: a KeyboardInterrupt goes through (a notebook's user pressed stop).

    Returns {"status": "ok", "outputs": [arrays], "observed": [sigma' arguments],
    "forward": [sigma arguments]} (backprop's: the pre-activations it formed) or
    {"status": "raised", "error": "one line", "line": the learner's line}, or another
    failure {"status", "say": a message key, "values": {...}, "line"}: the parent words
    it (learn/verdict.py's TEXTS), in the learner's language.
    """
    args = {k: np.array(v, copy=True) for k, v in arrays.items()}
    observed, forward = [], []
    try:
        with np.errstate(all="ignore"):
            got = _invoke(fn, function, args, scalars, observed, forward)
        outputs = _outputs(function, got, args, arrays)
    except _BadReturn as exc:
        return {"status": "bad_return", "say": exc.args[0], "values": exc.args[1],
                "line": None}
    except BaseException as exc:   # SystemExit too: anything the learner raises
        if interruptible and isinstance(exc, KeyboardInterrupt):
            raise
        return _failure(exc, filename, fn)
    return {"status": "ok", "outputs": outputs, "observed": observed, "forward": forward}


def _failure(exc, filename, fn):
    """The outcome of an exception out of the learner's code: status, one line, its line."""
    line = _line(exc, filename, fn)
    if isinstance(exc, _Timeout):
        return {"status": "timeout", "say": "timeout", "values": {"seconds": LIMITS["seconds"]},
                "line": line}
    if isinstance(exc, Refused):
        return {"status": "refused", "say": "refused", "values": {"module": exc.name},
                "line": line}
    if isinstance(exc, MemoryError):
        mib = LIMITS["memory"] >> 20 if LIMITS["memory"] else None
        return {"status": "memory", "say": "memory" if mib else "memory_free",
                "values": {"mib": mib, "error": _one_line(exc)}, "line": line}
    return {"status": "raised", "error": _one_line(exc), "line": line}


def _watch(f, seen):
    """f, recording (copies of) the first MAX_OBSERVED arrays it is handed in ``seen``."""
    def watched(A):
        if len(seen) < MAX_OBSERVED and isinstance(A, np.ndarray):
            seen.append(np.array(A, copy=True))
        return f(A)
    return watched


def _invoke(fn, function, a, s, observed, forward):
    if function == "softmax_loss":
        return fn(a["Z"], a["y"])
    if function == "softmax_regression_epoch":
        return fn(a["X"], a["y"], a["theta"], lr=s["lr"], batch=s["batch"])
    if function == "nn_epoch":
        return fn(a["X"], a["y"], a["W1"], a["W2"], lr=s["lr"], batch=s["batch"])
    sigma, sigma_prime = (_watch(f, seen) for f, seen in zip(ACTIVATIONS[s["activation"]],
                                                              (forward, observed)))
    Ws = [a[f"W{i}"] for i in range(1, s["L"] + 1)]
    if function == "backprop":
        return fn(a["X"], a["y"], Ws, sigma, sigma_prime)
    bs = [a[f"b{i}"] for i in range(1, s["L"] + 1)]
    return fn(a["X"], a["y"], Ws, bs, sigma, sigma_prime)


class _BadReturn(Exception):
    """(message key, values): a return value that is not what the function gives."""


def _outputs(function, got, args, before):
    """The arrays to compare: the loss, the updated parameters, or the gradients."""
    if function == "softmax_loss":
        return [_array(got, "the loss", scalar=True)]
    if function in ("softmax_regression_epoch", "nn_epoch"):
        names = ["theta"] if function == "softmax_regression_epoch" else ["W1", "W2"]
        if all(np.array_equal(args[n], before[n]) for n in names):
            raise _BadReturn("unchanged", {"names": ", ".join(names), "function": function})
        return [args[n] for n in names]   # updated in place, as the course's functions do
    if function == "backprop":
        return _array_list(got, "[grad W_1, ..., grad W_L]")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise _BadReturn("not_pair", {"kind": _kind(got)})
    return (_array_list(got[0], "grads_W")
            + _array_list(got[1], "grads_b"))


def _array_list(got, what):
    if not isinstance(got, (tuple, list)):
        raise _BadReturn("not_list", {"kind": _kind(got), "what": what})
    return [_array(g, f"{what}[{i}]") for i, g in enumerate(got)]


def _array(value, what, scalar=False):
    try:
        out = np.asarray(value)
    except Exception:  # noqa: BLE001  (whatever the learner returned)
        raise _BadReturn("not_numbers", {"kind": _kind(value), "what": what}) from None
    if out.dtype.kind not in "fiub":
        raise _BadReturn("not_numbers", {"kind": _kind(value), "what": what})
    if scalar:
        if out.size != 1:
            raise _BadReturn("not_scalar", {"what": what, "shape": str(out.shape)})
        out = out.reshape(())
    return np.array(out, copy=True)


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return "None" if value is None else f"a {type(value).__name__}"


def _one_line(exc):
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:300]


def _line(exc, filename, fn):
    """The learner's own line: the deepest frame of the traceback in their file."""
    target = filename or getattr(getattr(fn, "__code__", None), "co_filename", None)
    if isinstance(exc, SyntaxError) and exc.filename == target:
        return exc.lineno
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == target]
    return lines[-1] if lines else None


class _Guard(importlib.abc.MetaPathFinder):
    """Refuse the top-level modules the course forbids, wherever the import comes from."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            top = fullname.split(".")[0]
            raise Refused(f"refused: imports {top}", name=top)


class _Capped:
    """A text stream that keeps the first OUTPUT_CAP characters and drops the rest."""

    def __init__(self):
        self.kept = []
        self.size = 0

    def write(self, text):
        text = str(text)
        if self.size < OUTPUT_CAP:
            self.kept.append(text[:OUTPUT_CAP - self.size])
        self.size += len(text)
        return len(text)

    def flush(self):
        pass


def _limit(memory, cpu):
    import resource
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    size = 64 << 20   # no file (results or the learner's) past 64 MiB
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(job_dir):
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    with np.load(os.path.join(job_dir, "probes.npz"), allow_pickle=False) as npz:
        probes = {key: npz[key] for key in npz.files}
    with open(os.path.join(job_dir, job["source"]), encoding="utf-8", errors="replace") as f:
        source = f.read()
    results = open(os.path.join(job_dir, "results.jsonl"), "a", encoding="utf-8")  # noqa: SIM115

    def report(entry):
        results.write(json.dumps(entry) + "\n")
        results.flush()
    _limit(job["memory"], job["cpu"])
    LIMITS.update(seconds=job["timeout"], memory=job["memory"])
    sys.meta_path.insert(0, _Guard(job["forbidden"]))
    for name in list(sys.modules):   # already loaded ones would bypass the finder
        if name.split(".")[0] in job["forbidden"]:
            del sys.modules[name]
    sys.stdout = sys.stderr = _Capped()
    sys.argv = [job["filename"]]
    import signal  # the learner's line where time ran out, before the parent kills us
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, job["alarm"])
    space = {"__name__": "learner", "__file__": job["filename"], "__builtins__": builtins}
    try:
        exec(compile(source, job["filename"], "exec"), space)  # noqa: S102  (the child's job)
    except BaseException as exc:  # noqa: BLE001  (a load that fails in any way is reported)
        report({"loaded": False, **_failure(exc, job["filename"], None)})
        return
    found = [f for f in job["functions"] if callable(space.get(f))]
    report({"loaded": True, "found": found})
    for function in found:
        for probe in job["probes"][function]:
            report({"start": function, "probe": probe})
            prefix = f"{function}/{probe}/"
            arrays = {k[len(prefix):]: v for k, v in probes.items() if k.startswith(prefix)}
            outcome = call(space[function], function, arrays,
                           job["scalars"][function][probe], job["filename"])
            for kind in ("outputs", "observed", "forward"):
                for k, arr in enumerate(outcome.pop(kind, [])):
                    np.save(os.path.join(job_dir, f"{function}.{probe}.{kind}{k}.npy"), arr,
                            allow_pickle=False)
                    outcome[kind] = k + 1
            report({"function": function, "probe": probe, **outcome})
            if outcome["status"] == "timeout":
                return   # the time is spent: the parent runs what is left in a new child


if __name__ == "__main__":
    main(sys.argv[1])
