"""The course's one seam to the checker (``manualnn check``, learn/): what it grades with.

    FUNCTIONS      the exercises a course may grade
    ACTIVATIONS    the sigmas a variant's backprop may use
    make_variant   a Variant from its fields
"""

from __future__ import annotations

from manualnn.learn.driver import FUNCTIONS
from manualnn.learn.variant import ACTIVATIONS

__all__ = ["ACTIVATIONS", "FUNCTIONS", "make_variant"]


def make_variant(**fields):
    from manualnn.learn.variant import Variant
    return Variant(**fields)


def describe_mistake(mistake: str, lang: str = "en") -> str:
    from manualnn.learn.catalogue import MISTAKES
    entry = MISTAKES.get(mistake)
    return mistake if entry is None else entry.description[lang]


def skeleton(functions, variant, filename: str) -> str:
    """The handout's text: the checker's skeleton for ``functions`` on ``variant``."""
    from manualnn.learn.skeleton import skeleton_text
    return skeleton_text(functions, variant)


def check_submission(path, functions, visible, hidden, timeout, memory, forbidden):
    """(verdicts on ``visible``, verdicts on ``hidden``, None) for the file ``path`` as
    dicts (Verdict.to_dict()), or ([], [], reason) when the file cannot be checked at all
    (not UTF-8, too large, not a regular file).  Runs in a grading worker process."""
    from manualnn.checks import DataError
    from manualnn.learn.check import check_file
    out = []
    for variant in (visible, hidden):
        try:
            verdicts = check_file(path, functions=list(functions), variant=variant,
                                  timeout=timeout, memory=memory, forbidden_imports=forbidden)
        except (DataError, ValueError) as exc:
            return [], [], f"refused: {exc}"
        out.append([v.to_dict() for v in verdicts])
    return out[0], out[1], None
