"""Grading a class: every submission in its own child processes, several at once.

The work is in the children (the checker's runner: one process per check, its own
temporary working folder, time and memory limits, an import guard), so the pool is
threads, each waiting on its child; ``jobs`` of them run at once.  A submission that
loops, crashes, eats memory or exits costs its own limit and gets its own verdict; the
others go on.  The course's key stays in this process: a child gets only the variant's
fields, never the key (nor this process's environment, see learn/runner).
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import time

from manualnn.learn.course import adapter
from manualnn.learn.course.grades import from_verdicts, not_graded
from manualnn.learn.course.variants import variant_for

FORBIDDEN_IMPORTS = ("manualnn", "autograd", "torch", "jax", "tensorflow")


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        return os.cpu_count() or 1


def grade_one(course, submission):
    """One student's StudentGrade: the course's functions on their variant and on their
    hidden variant, in child processes."""
    if submission.refused:
        verdict = "missing" if submission.path is None and "no submission" in \
            submission.refused else "refused"
        return not_graded(submission.student, course, verdict, submission.refused)
    visible, hidden = (variant_for(course.key, submission.student, h) for h in (False, True))
    seen, unseen = adapter.check_submission(submission.path, course.functions, visible, hidden,
                                            timeout=course.timeout,
                                            memory=course.memory_mb * 2 ** 20,
                                            forbidden=FORBIDDEN_IMPORTS)
    return from_verdicts(submission.student, course, seen, unseen)


def grade_class(course, submissions: list, jobs: int | None = None,
                progress: bool | None = None) -> list:
    """StudentGrades in the order of ``submissions``.  ``jobs``: submissions graded at
    once (default: the cores); ``progress``: a tqdm bar on stderr (None: when it is a
    terminal)."""
    jobs = default_jobs() if jobs is None else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a positive number of submissions at once, got "
                         f"{jobs!r}")
    from tqdm import tqdm
    results = [None] * len(submissions)
    bar = tqdm(total=len(submissions), unit="submission", file=sys.stderr, leave=False,
               disable=None if progress is None else not progress)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(grade_one, course, s): i for i, s in enumerate(submissions)}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
            bar.update()
    finally:   # on Ctrl-C: nothing new starts; running children end at their limits
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return results


def summary(course, grades: list, seconds: float) -> str:
    """The line printed at the end of a grading."""
    full = sum(1 for g in grades if g.total >= course.max_points - 1e-9)
    not_run = sum(1 for g in grades if g.note)
    mean = sum(g.total for g in grades) / len(grades) if grades else 0.0
    return (f"graded {len(grades)} submissions in {seconds:.1f} s: {full} full marks, "
            f"{len(grades) - full - not_run} partial, {not_run} not graded; mean "
            f"{mean:.2f} of {course.max_points:g} points")


def timed(fn, *args, **kwargs):
    """(fn's result, wall seconds it took)."""
    start = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - start
