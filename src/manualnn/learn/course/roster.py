"""The class roster: a CSV file with a header and a column of student ids.

Each id names the student's files (their handout, ``ID.py`` submission, feedback), so an
id must be a safe file name: letters, digits, '.', '_' and '-', starting with a letter or
digit, at most 64 characters.  An empty, path-like or duplicated id (duplicates compared
without case, since some file systems do not tell "Ann" from "ann") is refused in one
line that names its row.
"""

from __future__ import annotations

import csv
import io
import re

from manualnn import atomic
from manualnn.checks import DataError

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_ROSTER = 16 * 1024 * 1024


def check_id(student: str, where: str = "id") -> str:
    """``student`` if it is a safe file name (see the module), else ValueError."""
    if not isinstance(student, str) or not ID_PATTERN.fullmatch(student) or ".." in student:
        what = "an empty id" if student == "" else f"{student!r}"[:80]
        raise ValueError(f"{where}: expected a student id made of letters, digits, '.', '_' "
                         f"or '-' (a safe file name, at most 64 characters), got {what}")
    return student


def read_roster(path, column: str = "id") -> list[str]:
    """The ids of roster ``path`` (a CSV file whose header names ``column``), in file
    order.  Rows are numbered as a spreadsheet shows them: the header is row 1."""
    with atomic.open_regular(path, follow=True) as f:
        raw = f.read(MAX_ROSTER + 1)
    if len(raw) > MAX_ROSTER:
        raise DataError(f"{path}: roster larger than {MAX_ROSTER} bytes")
    try:
        text = raw.decode("utf-8-sig")   # a spreadsheet's export may start with a BOM
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: roster is not UTF-8 text ({exc.reason} at byte "
                        f"{exc.start})") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None or column not in [h.strip() for h in header]:
        raise DataError(f"{path}: roster: expected a header row with a column {column!r}, "
                        f"got {header!r}"[:300])
    index = [h.strip() for h in header].index(column)
    ids, seen = [], {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue   # a blank line (a trailing one, often)
        student = row[index].strip() if index < len(row) else ""
        where = f"{path}: row {number}: {column}"
        check_id(student, where)
        if student.lower() in seen:
            raise DataError(f"{where}: {student!r} is also on row {seen[student.lower()]} "
                            "(ids must differ, ignoring case)")
        seen[student.lower()] = number
        ids.append(student)
    if not ids:
        raise DataError(f"{path}: roster: no students (no row below the header)")
    return ids
