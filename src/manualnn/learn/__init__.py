"""Learn by doing: the checker that runs a learner's own backprop and names its mistake.

    check.py       check_file(path) and check(fn): the verdicts, the entry points
    verdict.py     Verdict: correct / mistake / unknown / error, as text and as JSON
    catalogue.py   MISTAKES: each mistake's id, functions, description and hint (en, zh)
    reference.py   the lecture's answers, and each mistake as the same code, one line changed
    probes.py      the inputs that tell the mistakes apart, built from a Variant
    diagnose.py    from the learner's outcomes on the probes to a Verdict
    skeleton.py    the exercise file ``manualnn exercise`` writes, bodies left empty
    variant.py     Variant: the shapes, sigma and seed the probes are built from
    driver.py      the child's side (standard library + NumPy only): call the learner's
                   functions on probes and record what came back
    runner.py      the parent's side: a child process with time and memory limits, an
                   import guard, and outcomes read back as plain arrays
    course/        a teacher's kit built on these (issue 23)
"""

import importlib

_WHERE = {"check": "manualnn.learn.check", "check_file": "manualnn.learn.check",
          "Verdict": "manualnn.learn.verdict", "Variant": "manualnn.learn.variant",
          "MISTAKES": "manualnn.learn.catalogue"}
__all__ = ["MISTAKES", "Variant", "Verdict", "check", "check_file"]   # = _WHERE


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'manualnn.learn' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
