"""``manualnn course grade`` on a generated class: seconds per submission, 1 job and all cores.

The class: ``--students`` submissions (200 by default) cycling through the hand-written
students of tests/learn/course/course_students.py (all right; one catalogued mistake in
one function; an unknown; a forbidden import; a float32 one; a shape error), each a file
of the course's three homework functions plus ``backprop``.  The student whose nn_epoch
never returns is left out unless ``--with-loop``: it costs its time limit (the course's
``timeout``, 20 s by default) whatever the grader does.

Every student has their own variant (HMAC of the course's key and their id) and is
checked on it and on a hidden one: two child processes per submission, and the reference
and the catalogue's mistakes computed for both variants.

    python benchmarks/bench_grade.py [--students 200] [--jobs 1,0] [--with-loop]

``--jobs 0`` means all the cores this process may use.  Prints one line per setting:
seconds in all, seconds per submission, seconds per submission per core used, and the CPU
seconds per submission at ``--jobs 1`` (this process and its children: the figure a busy
machine moves least; with more jobs the workers are the fork server's children, whose
time this process cannot see).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import resource
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "learn" / "course"))

from course_students import CHANGES, FUNCTIONS, write_class

from manualnn.learn.course import folder, pool
from manualnn.learn.course.submissions import find_submissions


def make_class(root: pathlib.Path, students: int, with_loop: bool):
    kinds = [s for s in CHANGES if with_loop or s != "hal"]
    copies = -(-students // len(kinds))
    (root / "subs").mkdir()
    write_class(root / "subs", kinds, copies)
    found, _ = find_submissions(root / "subs")
    return sorted(found, key=lambda s: (int(s.student.rsplit("-", 1)[1]), s.student))[:students]


def cpu_seconds() -> float:
    """User + system seconds of this process and of its children that have ended."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", default="1,0", help="comma-separated; 0: all cores")
    parser.add_argument("--with-loop", action="store_true")
    args = parser.parse_args(argv)
    cores = pool.default_jobs()
    print(f"# {platform.processor() or platform.machine()}, {cores} cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        course = folder.new_course(root / "course", list(FUNCTIONS))
        subs = make_class(root, args.students, args.with_loop)
        print(f"# {len(subs)} submissions, functions {', '.join(FUNCTIONS)}")
        for jobs in (int(j) or cores for j in args.jobs.split(",")):
            start, cpu = time.perf_counter(), cpu_seconds()
            grades = pool.grade_class(course, subs, jobs=jobs, progress=False)
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            used = min(jobs, cores)
            print(f"jobs {jobs}: {seconds:.1f} s for {len(grades)} submissions, "
                  f"{seconds / len(grades):.3f} s per submission, "
                  f"{seconds * used / len(grades):.3f} s per submission per core"
                  + (f", {cpu / len(grades):.3f} CPU s per submission" if jobs == 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
