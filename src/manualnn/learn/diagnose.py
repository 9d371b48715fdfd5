"""From the learner's outcomes on the probes to a Verdict.

The right answer and every catalogued mistake (``reference.py``, each form, at every layer
and at each single layer) are run through the same driver on the same probes.  Then:

    correct    the learner matches the right answer on every probe
    mistake    it matches one mistake on every probe (and that mistake differs from the
               right answer somewhere); where a mistake is made at every layer, the layer
               named is the first one the backward pass reaches
    error      it raised, timed out, crashed, returned the wrong type, count or shape of
               arrays, or NaN/inf where the answer is finite
    unknown    anything else: which output is off, by how much, the first layer that
               disagrees, and what sigma' was handed when that tells something

Two outcomes match when both ran and every array agrees within a relative tolerance
scaled to the dtype (1e-4 for float64, 2e-3 where float32 is involved; the epoch
functions are compared by their updates W_after - W_before), or when neither ran.
A candidate with NaN/inf matches a learner with NaN/inf (softmax without its max).
"""

from __future__ import annotations

import functools

import numpy as np

from manualnn.learn import catalogue, driver, reference
from manualnn.learn.probes import build, output_names, starting_params
from manualnn.learn.verdict import Verdict, failure_text, say

TOL = {8: 1e-4, 4: 2e-3}
FAILED = {"raised", "bad_return"}   # ways of not answering that a mistake can explain


def run_reference(function, probes, mistake=None, layers=None) -> dict:
    """{probe: outcome} of the reference with ``mistake`` made (None: the right answer)."""
    fn = reference.solution(function, mistake, layers)
    return {name: driver.call(fn, function, arrays, scalars)
            for name, (arrays, scalars) in probes.items()}


@functools.lru_cache(maxsize=64)
def candidates(function, variant, extra=0):
    """(probes, right outcomes, [(mistake id, form, layers or None, outcomes)]) for ``function``
    on the probes of ``variant``: every mutant that differs from the right answer.  Cached:
    a class shares a few variants, a notebook checks many times."""
    probes = build(variant, (function,), extra)[function]
    right = run_reference(function, probes)
    L = _depth(function, probes)
    table = []
    for mistake in catalogue.for_function(function):
        layer_sets = [None] + ([frozenset({i}) for i in range(L, 0, -1)]
                               if mistake.layered else [])
        for form in mistake.mutants:
            for layers in layer_sets:
                outcomes = run_reference(function, probes, form, layers)
                if not all(_same(function, probes[p], outcomes[p], right[p])
                           for p in probes):
                    table.append((mistake.id, form, layers, outcomes))
    return probes, right, table


def _depth(function, probes):
    _, scalars = next(iter(probes.values()))
    return scalars.get("L", 2 if function == "nn_epoch" else 1)


def diagnose(function, learner, variant, extra=0, lang="en") -> Verdict:
    """The verdict on ``learner`` ({probe: outcome} on the probes of ``variant``)."""
    probes, right, table = candidates(function, variant, extra)
    names = list(probes)
    passed = sum(_same(function, probes[p], learner.get(p), right[p]) for p in names)
    base = {"function": function, "probes_passed": passed, "probes_total": len(names),
            "lang": lang}
    if passed == len(names):
        return Verdict(verdict="correct", message=say(lang, "correct", total=len(names)),
                       **base)
    ran = any(learner.get(p, {}).get("status") == "ok" for p in names)
    matches = [(mid, form, layers) for mid, form, layers, outcomes in table
               if ran and all(_same(function, probes[p], learner.get(p), outcomes[p])
                              for p in names)]
    if matches:
        first = matches[0][0]   # in the catalogue's order; at every layer before one only
        mid, form, layers = min((m for m in matches if m[0] == first),
                                key=lambda m: m[2] is not None)
        mistake = catalogue.MISTAKES[mid]
        return Verdict(verdict="mistake", mistake=mid,
                       layer=_layer(mistake, form, layers, table),
                       message=mistake.description[lang], hint=mistake.hint[lang], **base)
    return _wrong(function, probes, learner, right, lang, base)


def _layer(mistake, form, layers, table):
    """The layer i a layer's mistake is made at; made at every layer, the first i the
    backward pass reaches where making it at i alone changes the answer."""
    if not mistake.layered:
        return None
    if layers is not None:
        return next(iter(layers))
    return max((next(iter(ls)) for _, f, ls, _ in table if f == form and ls), default=None)


def _wrong(function, probes, learner, right, lang, base):
    """An error verdict where the learner failed to answer properly, else unknown."""
    for p, (arrays, scalars) in probes.items():
        got = learner.get(p) or {"status": "crashed", "say": "silent", "line": None}
        if right[p]["status"] != "ok":
            continue   # no answer to hold it to here (a test pins that this never happens)
        if got["status"] != "ok":
            where = say(lang, "at_line", line=got["line"]) if got.get("line") else ""
            return Verdict(verdict="error", message=failure_text(lang, got) + where,
                           line=got.get("line"), **base)
        problem = _form_problem(function, arrays, scalars, got, right[p], p, lang)
        if problem:
            return Verdict(verdict="error", message=problem, **base)
    return _unknown(function, probes, learner, right, lang, base)


def _form_problem(function, arrays, scalars, got, right, probe, lang):
    names = output_names(function, arrays, scalars)
    a, b = got["outputs"], right["outputs"]
    if len(a) != len(b):
        return say(lang, "count", got=len(a), want=len(b), names=", ".join(names))
    for name, x, y in zip(names, a, b):
        if x.shape != y.shape:
            return say(lang, "shape", output=name, got=x.shape, want=y.shape)
        if not np.isfinite(x).all() and np.isfinite(y).all():
            return say(lang, "nonfinite", output=name, probe=probe)
    return None


def _unknown(function, probes, learner, right, lang, base):
    for p, (arrays, scalars) in probes.items():
        got, want = learner[p], right[p]
        if _same(function, probes[p], got, want):
            continue
        names = output_names(function, arrays, scalars)
        a, b = _comparable(function, arrays, got), _comparable(function, arrays, want)
        errs = [_error(x, y) for x, y in zip(a, b)]
        j = int(np.argmax(errs))
        detail = say(lang, "off", output=names[j], err=errs[j], probe=p)
        layer = None
        if function in ("backprop", "backprop_bias"):
            L = scalars["L"]
            tol = _tol(arrays, got)
            wrong = [i for i in range(1, L + 1) if errs[i - 1] > tol
                     or (function == "backprop_bias" and errs[L + i - 1] > tol)]
            layer = max(wrong, default=None)
            detail += say(lang, "first_layer", layer=layer) if layer else ""
            detail += _observed_note(arrays, scalars, got, lang)
        return Verdict(verdict="unknown", layer=layer, message=say(lang, "unknown",
                       detail=detail), **base)
    return Verdict(verdict="unknown", message=say(lang, "unknown", detail="?"), **base)


def _observed_note(arrays, scalars, got, lang):
    """What sigma (the forward pass) or sigma' was handed, where that is not one of the
    pre-activations A_i = Z_i W_i (+ b_i): the first of them that is not, in calls."""
    L = scalars["L"]
    sigma, _ = driver.ACTIVATIONS[scalars["activation"]]
    Ws = [arrays[f"W{i}"] for i in range(1, L + 1)]
    bs = [arrays[f"b{i}"] for i in range(1, L + 1)] if "b1" in arrays else None
    with np.errstate(all="ignore"):
        Z, A = reference.forward(arrays["X"], Ws, bs, sigma)
    tol = _tol(arrays, got)
    for k, arg in enumerate(got.get("forward", []), start=1):
        if not any(arg.shape == a.shape and _error(arg, a) <= tol for a in A):
            return say(lang, "forward_wrong", call=k, shape=tuple(arg.shape))
    seen = got.get("observed", [])
    if not seen and L > 1:
        return say(lang, "sigma_never")
    for arg in seen:
        if any(arg.shape == a.shape and _error(arg, a) <= tol for a in A):
            continue
        for i in range(1, L):
            if arg.shape == Z[i].shape and _error(arg, Z[i]) <= tol:
                return say(lang, "sigma_output", i1=i + 1, i=i)
        return say(lang, "sigma_other", shape=tuple(arg.shape))
    return ""


def _tol(arrays, outcome):
    sizes = [a.dtype.itemsize for a in arrays.values() if a.dtype.kind == "f"]
    sizes += [a.dtype.itemsize for a in outcome.get("outputs", []) if a.dtype.kind == "f"]
    return TOL[4] if min(sizes, default=8) <= 4 else TOL[8]


def _comparable(function, arrays, outcome):
    """Float64 arrays to compare: the outputs, or for an epoch, the updates it made."""
    start = starting_params(function, arrays)
    outs = [np.asarray(a, dtype=np.float64) for a in outcome["outputs"]]
    if start is None:
        return outs
    return [o - s.astype(np.float64) if o.shape == s.shape else o for o, s in zip(outs, start)]


def _error(x, y):
    """The largest |x - y| relative to the largest |y| (finite entries)."""
    finite = np.isfinite(x) & np.isfinite(y)
    scale = np.max(np.abs(y[finite]), initial=0.0)
    diff = np.max(np.abs(x[finite] - y[finite]), initial=0.0)
    return float(diff / max(scale, 1e-30))


def _same(function, probe, got, want):
    """Whether outcome ``got`` matches ``want`` on ``probe`` (arrays, scalars)."""
    if got is None:
        return False
    if got["status"] != "ok" or want["status"] != "ok":
        return got["status"] in FAILED and want["status"] in FAILED
    arrays, _ = probe
    a, b = _comparable(function, arrays, got), _comparable(function, arrays, want)
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        return False
    tol = _tol(arrays, got)
    for x, y in zip(a, b):
        if np.isfinite(y).all():
            if not np.isfinite(x).all() or _error(x, y) > tol:
                return False
        elif np.isfinite(x).all() or _error(x, y) > tol:
            return False
    return True
