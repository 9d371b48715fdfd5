"""The checker's entry points: a learner's file (run in a child process) or a function object.

    check_file(path)   the verdicts on each of the learner's functions the file defines
                       (``manualnn check FILE.py``); the file runs in a child process with
                       a time and memory limit (runner.py), never in this one
    check(fn)          the verdict on one function object (a notebook's cell), run here

>>> [v.verdict for v in check_file("nn.py")]            # doctest: +SKIP
['mistake']
>>> check(backprop).mistake                              # doctest: +SKIP
'sigma_prime_of_output'
"""

from __future__ import annotations

import re

from manualnn.learn import driver, runner
from manualnn.learn.catalogue import LANGS
from manualnn.learn.diagnose import candidates, diagnose
from manualnn.learn.probes import FUNCTIONS, build
from manualnn.learn.variant import Variant
from manualnn.learn.verdict import Verdict, failure_text, say

FORBIDDEN = ("manualnn", "autograd", "torch", "jax", "tensorflow")   # a course's usual list


def check_file(path, *, functions=None, variant=None, lang="en", timeout=runner.TIMEOUT,
               memory=runner.MEMORY, forbidden_imports=(), extra_probes=0) -> list:
    """The verdicts (:class:`Verdict`) on the learner's functions in the file ``path``.

    functions          names to check (default: whichever of FUNCTIONS the file defines;
                       a name given here that the file lacks gets an "error" verdict)
    variant            the probes' :class:`Variant` (default ``Variant()``)
    lang               "en" or "zh", for messages and hints
    timeout, memory    the child's wall-time limit (seconds) and address space (bytes)
    forbidden_imports  top-level modules the learner's code may not import
    extra_probes       more probes from other seeds and shapes (a grader's hidden ones)

    Raises ValueError (or DataError) when an argument is bad, the file cannot be read, or
    it defines none of the functions.
    """
    wanted = _functions(functions)
    variant, lang = _options(variant, lang, extra_probes)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or \
            not 0 < timeout <= 3600:
        raise ValueError(f"timeout: expected seconds in (0, 3600], got {timeout!r}")
    if not isinstance(memory, int) or isinstance(memory, bool) or memory < 1 << 26:
        raise ValueError(f"memory: expected bytes, at least 64 MiB, got {memory!r}")
    if isinstance(forbidden_imports, str) or not all(
            isinstance(n, str) and n.isidentifier() for n in forbidden_imports):
        raise ValueError("forbidden_imports: expected a list of module names, got "
                         f"{forbidden_imports!r}"[:200])
    source = runner.read_source(path)
    probes = build(variant, wanted, extra_probes)
    arrays = {f: {p: a for p, (a, _) in ps.items()} for f, ps in probes.items()}
    scalars = {f: {p: s for p, (_, s) in ps.items()} for f, ps in probes.items()}
    result = runner.run_file(source, str(path), arrays, scalars, functions=wanted,
                             timeout=timeout, memory=memory, forbidden=tuple(forbidden_imports))
    if result["loaded"] is not None:
        return _not_loaded(path, source, wanted, result["loaded"], lang)
    found = result["found"]
    if not found and functions is None:
        raise ValueError(f"{path}: defines none of the functions {', '.join(wanted)}")
    return [diagnose(f, result["outcomes"].get(f, {}), variant, extra_probes, lang)
            if f in found else _missing(f, lang) for f in (found if functions is None else wanted)]


def check(fn, function=None, *, variant=None, lang="en", extra_probes=0) -> Verdict:
    """The verdict on the function object ``fn``, run in this process (a notebook's own
    code, with no time or memory limit: interrupt the kernel to stop it); ``function``
    is which of FUNCTIONS it is (default: its ``__name__``)."""
    if not callable(fn):
        raise TypeError(f"fn: expected the learner's function, got {type(fn).__name__}")
    name = getattr(fn, "__name__", None) if function is None else function
    if name not in FUNCTIONS:
        raise ValueError(f"function: expected one of {', '.join(FUNCTIONS)}, got {name!r} "
                         "(pass function=... when the name differs)")
    variant, lang = _options(variant, lang, extra_probes)
    probes = candidates(name, variant, extra_probes)[0]
    learner = {p: driver.call(fn, name, arrays, scalars, interruptible=True)
               for p, (arrays, scalars) in probes.items()}
    return diagnose(name, learner, variant, extra_probes, lang)


def _functions(functions):
    if functions is None:
        return list(FUNCTIONS)
    if isinstance(functions, str) or not functions or any(f not in FUNCTIONS
                                                          for f in functions):
        raise ValueError(f"functions: expected names among {', '.join(FUNCTIONS)}, got "
                         f"{functions!r}"[:200])
    return list(dict.fromkeys(functions))


def _options(variant, lang, extra_probes):
    variant = Variant() if variant is None else variant
    if not isinstance(variant, Variant):
        raise TypeError(f"variant: expected a Variant, got {type(variant).__name__}")
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    if not isinstance(extra_probes, int) or isinstance(extra_probes, bool) or \
            not 0 <= extra_probes <= 8:
        raise ValueError(f"extra_probes: expected an integer 0..8, got {extra_probes!r}")
    return variant, lang


def _not_loaded(path, source, wanted, failure, lang):
    """One error verdict per function the text defines, when the file itself fails."""
    where = say(lang, "at_line", line=failure["line"]) if failure.get("line") else ""
    message = say(lang, "load", error=failure_text(lang, failure)) + where
    defined = [f for f in wanted if re.search(rf"^\s*def\s+{f}\s*\(", source, re.MULTILINE)]
    if not defined:
        raise ValueError(f"{path}: {message}; and it defines none of {', '.join(wanted)}")
    return [Verdict(function=f, verdict="error", message=message, line=failure.get("line"),
                    lang=lang) for f in defined]


def _missing(function, lang):
    text = {"en": f"{function} is not defined in the file",
            "zh": f"文件里没有定义 {function}"}[lang]
    return Verdict(function=function, verdict="error", message=text, lang=lang)
