"""The submissions folder: one ``ID.py`` file, or one ``ID/`` folder, per student.

An ``ID/`` folder holds the student's code as ``ID/simple_ml.py`` (the homework's file
name) or as its only ``.py`` file.  What cannot be graded is kept as a submission with a
reason (a symbolic link, a special file, a folder with no or several candidate files), so
that it gets a row and a clear verdict instead of stopping the class.  Names that are not
student ids (notes, hidden files) are not submissions and are returned apart.
"""

from __future__ import annotations

import dataclasses
import os
import stat

from manualnn.learn.course.roster import ID_PATTERN

HOMEWORK_FILE = "simple_ml.py"


@dataclasses.dataclass(frozen=True)
class Submission:
    """One student's code: ``path`` of the file to run, or ``refused`` saying why none."""

    student: str
    path: str | None
    refused: str | None = None


def find_submissions(folder, roster=None) -> tuple[list[Submission], list[str]]:
    """(submissions sorted by id, names skipped).  With ``roster`` (a list of ids), only
    its students are graded, found whatever the case of their file's name ("Ada.py" for
    the id "ada") and named as the roster spells them, since the variant comes from that
    spelling; one with nothing to grade gets a "no submission" entry, and the others found
    are skipped."""
    folder = os.fspath(folder)
    if os.path.islink(folder) or not os.path.isdir(folder):
        raise ValueError(f"submissions: expected a folder of ID.py files or ID/ folders, "
                         f"got {folder!r}"[:300])
    found, skipped = {}, []
    for entry in sorted(os.listdir(folder)):
        student = entry.removesuffix(".py")
        if entry.startswith(".") or not ID_PATTERN.fullmatch(student) or ".." in student:
            skipped.append(entry)
            continue
        full = os.path.join(folder, entry)
        mode = os.lstat(full).st_mode
        if entry.endswith(".py") or stat.S_ISDIR(mode):
            if student.lower() in {s.lower() for s in found}:
                skipped.append(entry)   # ID.py beside ID/: the first (the folder) counts
                continue
            found[student] = _submission(student, full, mode)
        else:
            skipped.append(entry)
    if roster is not None:   # matched without case; the roster's spelling (the variant's)
        by_lower = {s.lower(): sub for s, sub in found.items()}
        named = {s.lower() for s in roster}
        skipped += [f"{s} (not on the roster)" for s in found if s.lower() not in named]
        found = {s: dataclasses.replace(by_lower[s.lower()], student=s) if s.lower() in
                 by_lower else Submission(s, None, "no submission") for s in roster}
    return [found[s] for s in sorted(found)], skipped


def _submission(student: str, path: str, mode: int) -> Submission:
    if stat.S_ISLNK(mode):
        return Submission(student, None, "refused: the submission is a symbolic link; "
                          "submit the file itself")
    if stat.S_ISDIR(mode):
        return _in_folder(student, path)
    if not stat.S_ISREG(mode):
        return Submission(student, None, "refused: the submission is not a regular file")
    return Submission(student, path)


def _in_folder(student: str, folder: str) -> Submission:
    names = sorted(e for e in os.listdir(folder) if e.endswith(".py"))
    chosen = HOMEWORK_FILE if HOMEWORK_FILE in names else names[0] if len(names) == 1 else None
    if chosen is None:
        what = "no .py file" if not names else f"{len(names)} .py files ({', '.join(names[:5])})"
        return Submission(student, None, f"refused: the folder holds {what}; expected "
                          f"{HOMEWORK_FILE} or a single .py file")
    path = os.path.join(folder, chosen)
    return _submission(student, path, os.lstat(path).st_mode) if not os.path.isdir(path) \
        else Submission(student, None, f"refused: {chosen} is a folder")
