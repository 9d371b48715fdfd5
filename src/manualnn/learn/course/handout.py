"""The handouts: one skeleton per student, on the student's own variant.

``OUT/ID.py`` is the checker's skeleton (learn/skeleton) for the course's functions,
written for the student's variant, so that the self-check it tells them to run
(``manualnn check`` on that variant) gives verdicts and hints on their own shapes.  It
holds no reference number: the checker's probes compute those when the student runs it.
"""

from __future__ import annotations

import os

from manualnn import atomic
from manualnn.learn.course import adapter
from manualnn.learn.course.outputs import prepare_folder
from manualnn.learn.course.variants import variant_for


def write_handouts(course, students: list, out, lang: str = "en") -> list[str]:
    """Write ``out/ID.py`` for each id of ``students``, in ``lang`` (en or zh); returns
    the paths."""
    out = prepare_folder(out)
    paths = []
    for student in students:
        path = atomic.check_target(os.path.join(out, f"{student}.py"), "out")
        variant = variant_for(course.key, student)
        atomic.write_text(path, adapter.skeleton(course.functions, variant,
                                                 f"{student}.py", lang))
        paths.append(path)
    return paths
