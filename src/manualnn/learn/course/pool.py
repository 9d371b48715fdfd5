"""Grading a class: every submission checked in child processes, several at once.

A submission's code runs in the checker's children (learn/runner: a fresh interpreter per
pass over the functions, its own temporary working folder, time and memory limits, an
import guard, an environment built from nothing).  Comparing what came back with the
right answer and the catalogue's mistakes is work for this side, in Python, so ``jobs``
submissions are checked at once in worker processes (threads would share one
interpreter's lock), each worker waiting on its own children.  A submission that loops,
crashes, eats memory or exits costs its own limits and gets its own verdict; the others
go on.

The course's key stays in this process: the workers are handed each student's two
variants (the fields only), and the children never see more than the probes' arrays.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
import time

from manualnn.learn.course import adapter
from manualnn.learn.course.feedback import LANGS
from manualnn.learn.course.grades import from_verdicts, not_graded
from manualnn.learn.course.variants import variant_for


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        return os.cpu_count() or 1


def _task(course, submission, lang):
    """What a worker needs for one submission (no key): path, functions, variants, limits,
    the language of the checker's words."""
    visible, hidden = (variant_for(course.key, submission.student, h) for h in (False, True))
    return (submission.path, course.functions, visible, hidden, course.timeout,
            course.memory_mb * 2 ** 20, adapter.FORBIDDEN, lang)


def _not_run(course, submission):
    verdict = "missing" if submission.refused == "no submission" else "refused"
    return not_graded(submission.student, course, verdict, submission.refused)


def _graded(course, submission, checked):
    seen, unseen, failed = checked
    if seen and all(v["verdict"] == "refused" for v in seen):   # at the file's top
        failed = {"verdict": "refused", "message": seen[0]["message"]}
    if failed:   # the file could not be run at all: its reason for every function
        return not_graded(submission.student, course, failed["verdict"], failed["message"])
    return from_verdicts(submission.student, course, seen, unseen)


def grade_class(course, submissions: list, jobs: int | None = None,
                progress: bool | None = None, lang: str = "en") -> list:
    """StudentGrades in the order of ``submissions``.  ``jobs``: submissions checked at
    once (default: the cores; 1: all in this process); ``progress``: a tqdm bar on stderr
    (None: when stderr is a terminal); ``lang``: the checker's messages and hints, en or
    zh."""
    jobs = default_jobs() if jobs is None else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a positive number of submissions at once, got "
                         f"{jobs!r}")
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    from tqdm import tqdm
    results = [_not_run(course, s) if s.refused else None for s in submissions]
    todo = [i for i, r in enumerate(results) if r is None]
    bar = tqdm(total=len(submissions), initial=len(submissions) - len(todo), leave=False,
               unit="submission", file=sys.stderr,
               disable=None if progress is None else not progress)
    try:
        tasks = [_task(course, submissions[i], lang) for i in todo]
        for i, checked in _checked(tasks, todo, jobs):
            results[i] = _graded(course, submissions[i], checked)
            bar.update()
    finally:
        bar.close()
    return results


def _checked(tasks, indices, jobs):
    """(index, what adapter.check_submission gave) for each task, as they finish."""
    done = set()
    if jobs > 1 and len(tasks) > 1:
        # forkserver: workers start from a clean process, not a fork of this threaded one
        context = multiprocessing.get_context("forkserver")
        with concurrent.futures.ProcessPoolExecutor(min(jobs, len(tasks)), context) as pool:
            futures = {pool.submit(adapter.check_submission, *t): i
                       for i, t in zip(indices, tasks)}
            broken = concurrent.futures.process.BrokenProcessPool
            try:
                for future in concurrent.futures.as_completed(futures):
                    if isinstance(future.exception(), broken):
                        continue   # the others that finished still count
                    done.add(futures[future])
                    yield futures[future], future.result()
            finally:   # on Ctrl-C or an error: nothing new starts
                pool.shutdown(wait=True, cancel_futures=True)
        if len(done) < len(tasks):
            print("a grading worker was killed (out of memory?); the remaining "
                  "submissions are graded one at a time", file=sys.stderr)
    for i, task in zip(indices, tasks):   # jobs 1, or what a broken pool left
        if i not in done:
            yield i, adapter.check_submission(*task)


def summary(course, grades: list, seconds: float) -> str:
    """The line printed at the end of a grading."""
    full = sum(1 for g in grades if g.total >= course.max_points - 1e-9)
    not_run = sum(1 for g in grades if g.note)
    nothing = sum(1 for g in grades if not g.note and g.total <= 1e-9)   # graded, 0 points
    partial = len(grades) - full - not_run - nothing
    mean = sum(g.total for g in grades) / len(grades) if grades else 0.0
    return (f"graded {len(grades)} submission{'' if len(grades) == 1 else 's'} in "
            f"{seconds:.1f} s: {full} full marks, {partial} partial, "
            + (f"{nothing} with no points, " if nothing else "")
            + f"{not_run} not graded; mean {mean:.2f} of {course.max_points:g} points")


def timed(fn, *args, **kwargs):
    """(fn's result, wall seconds it took)."""
    start = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - start
