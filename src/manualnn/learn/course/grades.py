"""What grading gives: per student, per function, a verdict and the probes it passed.

A function's points are its weight times the fraction of probes passed (the student's
own variant's probes and the hidden ones together): partial credit per probe.  A
student's total is the sum over the course's functions.
"""

from __future__ import annotations

import dataclasses

# verdicts the checker gives, then those only the course gives (nothing ran)
VERDICTS = ("correct", "mistake", "unknown", "error", "refused", "missing")


@dataclasses.dataclass(frozen=True)
class FunctionGrade:
    """One function of one student.  ``passed``/``total``: probes; ``weight``: points
    the function is worth in the course."""

    function: str
    verdict: str
    passed: int
    total: int
    weight: float
    mistake: str | None = None
    layer: int | None = None
    message: str = ""
    hint: str = ""

    @property
    def points(self) -> float:
        return self.weight * self.passed / self.total if self.total else 0.0


@dataclasses.dataclass(frozen=True)
class StudentGrade:
    """One student's grades, one FunctionGrade per course function, in the course's order;
    ``note``: why nothing was graded (a refused or missing submission), else ''."""

    student: str
    functions: tuple
    note: str = ""

    @property
    def total(self) -> float:
        return sum(f.points for f in self.functions)


def not_graded(student: str, course, verdict: str, note: str) -> StudentGrade:
    """Zero for every function, with the reason (``verdict`` refused or missing)."""
    return StudentGrade(student, tuple(
        FunctionGrade(f, verdict, 0, 0, course.weights[f], message=note)
        for f in course.functions), note)


def from_verdicts(student: str, course, visible: list, hidden: list) -> StudentGrade:
    """Combine the checker's verdicts (dicts as ``Verdict.to_dict()`` gives) on the
    student's variant and on the hidden one.  The verdict, mistake and hint shown are the
    visible variant's (the student can reproduce them with ``manualnn check``) unless it
    passed and the hidden probes found something."""
    by_name = [{v["function"]: v for v in verdicts} for verdicts in (visible, hidden)]
    grades = []
    for name in course.functions:
        seen, unseen = (d.get(name) for d in by_name)
        if seen is None and unseen is None:
            grades.append(FunctionGrade(name, "missing", 0, 0, course.weights[name],
                                        message=f"no function {name} in the submission"))
            continue
        shown = seen if seen is not None and (seen["verdict"] != "correct" or unseen is None) \
            else unseen
        passed = sum(v.get("probes_passed", 0) for v in (seen, unseen) if v is not None)
        total = sum(v.get("probes_total", 0) for v in (seen, unseen) if v is not None)
        grades.append(FunctionGrade(name, shown["verdict"], passed, total, course.weights[name],
                                    shown.get("mistake"), shown.get("layer"),
                                    shown.get("message") or "", shown.get("hint") or ""))
    return StudentGrade(student, tuple(grades))
