"""The course's one seam to the checker (``manualnn check``, learn/): what it grades with.

    FUNCTIONS         the exercises a course may grade
    ACTIVATIONS       the sigmas a variant's backprop may use
    FORBIDDEN         the modules a submission may not import
    make_variant      a Variant from its fields
    describe_mistake  a catalogued mistake's one-line description
    skeleton          a handout's text
    check_submission  one submission's verdicts on its two variants (in a worker)
"""

from __future__ import annotations

from manualnn.learn.check import FORBIDDEN
from manualnn.learn.driver import FUNCTIONS
from manualnn.learn.variant import ACTIVATIONS

__all__ = ["ACTIVATIONS", "FORBIDDEN", "FUNCTIONS", "make_variant"]


def make_variant(**fields):
    from manualnn.learn.variant import Variant
    return Variant(**fields)


def describe_mistake(mistake: str, lang: str = "en") -> str:
    from manualnn.learn.catalogue import MISTAKES
    entry = MISTAKES.get(mistake)
    return mistake if entry is None else entry.description[lang]


def skeleton(functions, variant, filename: str, lang: str = "en") -> str:
    """The handout's text: the checker's exercise file for ``functions``, whose header
    gives the ``manualnn check`` command on ``variant`` (no answer, no reference number)."""
    from manualnn.learn.skeleton import skeleton_text
    return skeleton_text(list(functions), variant, lang, filename)


def check_submission(path, functions, visible, hidden, timeout, memory, forbidden,
                     lang="en"):
    """(verdicts on ``visible``, verdicts on ``hidden``, None) for the file ``path`` as
    dicts (Verdict.to_dict()), or ([], [], {"verdict": "refused" or "error", "message"})
    when the file cannot be checked at all (unreadable, not UTF-8, too large, or it fails
    before defining any function).  The hidden probes are run only for the functions that
    gave no error on the visible ones: a function that loops costs its time limit once.
    Messages and hints in ``lang``.  Runs in a grading worker process."""
    from manualnn.checks import DataError
    from manualnn.learn.check import check_file
    out, wanted = [], list(functions)
    for variant in (visible, hidden):
        try:
            verdicts = check_file(path, functions=wanted, variant=variant, timeout=timeout,
                                  memory=memory, forbidden_imports=forbidden,
                                  lang=lang) if wanted else []
        except (DataError, ValueError) as exc:   # the student's file, not the grader's path
            message = str(exc).removeprefix(f"{path}: ")
            return [], [], {"verdict": "refused" if _refusal(message, lang) else "error",
                            "message": message}
        out.append([_refused(v.to_dict(), lang) for v in verdicts])
        wanted = [v.function for v in verdicts if v.verdict != "error"]
    return out[0], out[1], None


def _refusal(message: str, lang: str) -> bool:
    """Whether the checker's ``message`` says the import guard refused a module."""
    from manualnn.learn.verdict import TEXTS
    return TEXTS[lang]["refused"].split("{module}")[0] in message


def _refused(verdict: dict, lang: str) -> dict:
    """The checker's error verdict for an import the guard refused, as the course's own
    verdict "refused" (its message says which module)."""
    if verdict["verdict"] == "error" and _refusal(verdict["message"], lang):
        verdict["verdict"] = "refused"
    return verdict
