"""Run a learner's untrusted file in a child process, with limits, and read back its outcomes.

The child is ``python -I learn/driver.py JOB_DIR`` (standard library and NumPy only):

- its working folder is JOB_DIR, a fresh temporary folder removed afterwards;
- its environment is built here (PATH, HOME = JOB_DIR, one BLAS thread), never copied
  from the parent, so no secret of the parent's environment reaches it;
- it runs in its own session: at ``timeout`` seconds of wall time the whole process
  group is killed; RLIMIT_CPU backs that up, RLIMIT_AS caps its memory at ``memory``
  bytes (a 50 GB allocation fails at once with MemoryError), RLIMIT_FSIZE its files;
- its stdout and stderr go nowhere (the driver keeps the first lines the learner prints);
- an import guard refuses the top-level modules in ``forbidden`` ("refused: imports X").

What comes back is read as data only: JSON lines whose fields are checked, and arrays
through ``np.load(allow_pickle=False)`` after their headers are checked, from regular
files only.  A child that dies (timeout, crash, ``os._exit``) costs the function it was
running; a new child then runs the functions after it.

>>> outcomes = run_file("nn.py", {"nn_epoch": {"main": {...}}}, {...})   # doctest: +SKIP
>>> outcomes["nn_epoch"]["main"]["status"]                                # doctest: +SKIP
'ok'
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile

import numpy as np

from manualnn import atomic
from manualnn.checks import DataError
from manualnn.data.npyfile import check_sizes

DRIVER = pathlib.Path(__file__).with_name("driver.py")
TIMEOUT, MEMORY = 10.0, 1 << 30
MAX_SOURCE = 1 << 20          # a learner's file larger than 1 MiB is refused
MAX_RESULTS = 1 << 20         # bytes of results.jsonl read back
STATUSES = {"ok", "raised", "bad_return", "refused", "memory", "timeout"}
FAILURE_KEYS = {"timeout", "refused", "memory", "memory_free", "unchanged", "not_pair",
                "not_list", "not_numbers", "not_scalar"}   # the driver's (verdict.TEXTS)


def read_source(path) -> str:
    """The text of the learner's file: a regular file (no link, FIFO or folder) of at most
    1 MiB, in UTF-8; anything else is a DataError naming the file."""
    with atomic.open_regular(path, follow=True) as handle:
        data = handle.read(MAX_SOURCE + 1)
    if len(data) > MAX_SOURCE:
        raise DataError(f"{path}: larger than {MAX_SOURCE >> 20} MiB; not a learner's file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def run_file(source: str, filename: str, probes: dict, scalars: dict, *,
             functions=None, timeout=TIMEOUT, memory=MEMORY, forbidden=()) -> dict:
    """Run the functions of ``source`` (the text of ``filename``) on ``probes``.

    probes   {function: {probe: {name: array}}}; scalars the same with JSON values
    Returns {"loaded": None or the load failure, "found": [functions defined],
    "outcomes": {function: {probe: outcome}}} where an outcome is {"status": "ok",
    "outputs": [arrays], "observed": [arrays], "forward": [arrays]} (what sigma' and sigma
    were handed) or a failure {"status": one of raised/bad_return/refused/memory/timeout/
    crashed, "error": one line, or "say" + "values" (verdict.failure_text words them),
    "line": the learner's line or None}.
    """
    pending = [f for f in (functions or probes) if f in probes]
    result = {"loaded": None, "found": [], "outcomes": {}}
    first = True
    while pending:
        events, death = _run_child(source, filename, pending, probes, scalars,
                                   timeout=timeout, memory=memory, forbidden=forbidden)
        if first:
            first = False
            _record_load(result, events, death)
            if result["loaded"] is not None:
                return result
            pending = [f for f in pending if f in result["found"]]
        outcomes = result["outcomes"]
        _record_calls(outcomes, events, pending)
        running = _running(events)
        if running is not None:   # the child died in the middle of this call
            outcomes.setdefault(running[0], {})[running[1]] = death or _death("crashed",
                                                                              "silent")
        touched = [i for i, f in enumerate(pending) if f in outcomes]
        if not touched or all(len(outcomes.get(f, {})) == len(probes[f]) for f in pending):
            break
        pending = pending[touched[-1] + 1:]   # what the dead or timed-out child left
    return result


def _record_load(result, events, death):
    load = next((e for e in events if "loaded" in e), None)
    if load is None:
        result["loaded"] = death or _death("crashed", "silent")
    elif not load["loaded"]:
        result["loaded"] = _checked_failure(load)
    else:
        result["found"] = [f for f in load.get("found", []) if isinstance(f, str)]


def _record_calls(outcomes, events, pending):
    for e in events:
        if "function" in e and e.get("function") in pending and "outcome" in e:
            outcomes.setdefault(e["function"], {})[e["probe"]] = e["outcome"]


def _running(events):
    """(function, probe) started and never finished, or None."""
    started = [(e["start"], e.get("probe")) for e in events if "start" in e]
    finished = {(e.get("function"), e.get("probe")) for e in events if "function" in e}
    return next((s for s in started if s not in finished), None)


def _run_child(source, filename, functions, probes, scalars, *, timeout, memory, forbidden):
    """One child over ``functions``: (events read back, the death outcome or None)."""
    job = tempfile.mkdtemp(prefix="manualnn-check-")
    try:
        _write_job(job, source, filename, functions, probes, scalars, timeout, memory,
                   forbidden)
        death = _wait(job, timeout, memory)
        return _read_events(job, probes), death
    finally:
        shutil.rmtree(job, ignore_errors=True)


def _write_job(job, source, filename, functions, probes, scalars, timeout, memory,
               forbidden):
    with open(os.path.join(job, "learner.py"), "w", encoding="utf-8") as f:
        f.write(source)
    arrays = {f"{fn}/{p}/{name}": a for fn in functions for p, named in probes[fn].items()
              for name, a in named.items()}
    np.savez(os.path.join(job, "probes.npz"), **arrays)
    spec = {"source": "learner.py", "filename": filename, "functions": list(functions),
            "probes": {fn: list(probes[fn]) for fn in functions},
            "scalars": {fn: scalars[fn] for fn in functions},
            "forbidden": list(forbidden), "memory": int(memory) if memory else 0,
            "cpu": int(timeout) + 2, "alarm": max(0.1, timeout - 0.5), "timeout": timeout}
    with open(os.path.join(job, "job.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f)


def _environment(job) -> dict:
    one = "1"
    return {"PATH": os.defpath, "HOME": job, "TMPDIR": job, "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": one, "OMP_NUM_THREADS": one, "MKL_NUM_THREADS": one,
            "NUMBA_NUM_THREADS": one, "PYTHONDONTWRITEBYTECODE": one}


def _wait(job, timeout, memory):
    """Run the child to its end; None when it ended by itself with status 0."""
    child = subprocess.Popen([sys.executable, "-I", str(DRIVER), job], cwd=job,
                             env=_environment(job), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True, close_fds=True)
    try:
        code = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        return _death("timeout", "timeout", seconds=timeout)
    finally:
        _kill_group(child)   # whatever it started is ended with it
    if code == 0:
        return None
    if code == -signal.SIGXCPU:
        return _death("timeout", "cpu", seconds=int(timeout) + 2)
    if code == -signal.SIGXFSZ:
        return _death("crashed", "fsize")
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        memory_like = memory and -code in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS)
        return _death("crashed", "signal_memory" if memory_like else "signal", name=name,
                      mib=memory >> 20 if memory else None)
    return _death("crashed", "exit", code=code)


def _kill_group(child):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def _death(status, say, **values):
    """A failure the parent saw; verdict.py's TEXTS word ``say`` with ``values``."""
    return {"status": status, "say": say, "values": values, "line": None}


def _read_events(job, probes):
    path = os.path.join(job, "results.jsonl")
    try:
        with atomic.open_regular(path) as handle:
            data = handle.read(MAX_RESULTS)
    except DataError:
        return []
    events = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            events.append(_event(job, entry, probes))
    return [e for e in events if e is not None]


def _event(job, entry, probes):
    """A checked copy of one line the child wrote (it is untrusted), arrays loaded."""
    if "loaded" in entry or "start" in entry:
        return entry
    fn, probe = entry.get("function"), entry.get("probe")
    if fn not in probes or probe not in probes[fn]:
        return None
    if entry.get("status") != "ok":
        return {"function": fn, "probe": probe, "outcome": _checked_failure(entry)}
    outcome = {"status": "ok"}
    for kind in ("outputs", "observed", "forward"):
        count = entry.get(kind, 0)
        count = count if isinstance(count, int) and 0 <= count <= 64 else 0
        outcome[kind] = [_load(os.path.join(job, f"{fn}.{probe}.{kind}{k}.npy"))
                         for k in range(count)]
        if any(a is None for a in outcome[kind]):
            outcome = _death("bad_return", "unreadable")
            break
    return {"function": fn, "probe": probe, "outcome": outcome}


def _checked_failure(entry):
    """A failure line the child wrote, kept to known statuses, message keys and plain
    values (strings cut short, numbers)."""
    status, line, say = entry.get("status"), entry.get("line"), entry.get("say")
    values = entry.get("values") if isinstance(entry.get("values"), dict) else {}
    values = {str(k)[:40]: v if isinstance(v, (int, float)) or v is None else str(v)[:300]
              for k, v in list(values.items())[:8]}
    out = {"status": status if status in STATUSES else "crashed",
           "error": str(entry.get("error", ""))[:300],
           "line": line if isinstance(line, int) and not isinstance(line, bool) else None}
    if isinstance(say, str) and say in FAILURE_KEYS:
        out.update(say=say, values=values)
    return out


def _load(path):
    """A plain numeric array from ``path``, or None (a link, a pickle, an oversized one)."""
    try:
        with atomic.open_regular(path) as handle:
            check_sizes(handle, path)
            arr = np.load(handle, allow_pickle=False)
    except (DataError, OSError, ValueError, EOFError):
        return None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiub" or arr.size > 1 << 22:
        return None
    return arr
