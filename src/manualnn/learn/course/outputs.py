"""The grading's files: grades.csv, one feedback file per student, and class.html.

    OUT/grades.csv           id, one column of points per function, total, percent, note
    OUT/feedback/ID.md       the student's verdicts: mistake named, hint, layer, probes
                             (learn/course/feedback.py)
    OUT/class.html           the class at a glance (learn/course/page.py)

Every file is written atomically; OUT and OUT/feedback may exist (re-grading replaces the
files of the same names) but must be folders, not links.
"""

from __future__ import annotations

import csv
import io
import os

from manualnn import atomic
from manualnn.learn.course.feedback import feedback_text, points_text

GRADES, FEEDBACK, PAGE = "grades.csv", "feedback", "class.html"


def prepare_folder(path, name: str = "out") -> str:
    """``path`` as a folder that exists (made if absent); a link or a file is refused."""
    path = os.fspath(path)
    if os.path.islink(path):
        raise ValueError(f"{name}: {path} is a symbolic link; give a folder's own path")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{name}: {path} exists and is not a folder")
    os.makedirs(path, exist_ok=True)
    return path


def grades_csv(course, grades: list) -> str:
    """One row a student, a column of points per function, the total, the percentage of
    the course's points, and the note (why nothing was graded, if so)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *course.functions, "total", "percent", "note"])
    for g in grades:
        writer.writerow([g.student, *(points_text(f.points) for f in g.functions), points_text(g.total),
                         f"{100 * g.total / course.max_points:.1f}", g.note])
    return out.getvalue()


def write_outputs(out, course, grades: list, lang: str = "en") -> dict:
    """Write the three outputs into folder ``out``, the feedback in ``lang`` (en or zh);
    returns {name: path}."""
    out = prepare_folder(out)
    folder = prepare_folder(os.path.join(out, FEEDBACK), "out/feedback")
    paths = {GRADES: atomic.check_target(os.path.join(out, GRADES), "out/grades.csv"),
             PAGE: atomic.check_target(os.path.join(out, PAGE), "out/class.html")}
    for g in grades:
        target = atomic.check_target(os.path.join(folder, f"{g.student}.md"), "out/feedback")
        atomic.write_text(target, feedback_text(course, g, lang))
    atomic.write_text(paths[GRADES], grades_csv(course, grades))
    from manualnn.learn.course.page import class_page
    atomic.write_text(paths[PAGE], class_page(course, grades))
    paths[FEEDBACK] = folder
    return paths
