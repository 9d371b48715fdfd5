"""``manualnn course``: make a course, hand out each student's exercise, grade a class.

    manualnn course new COURSE_DIR --functions softmax_loss,nn_epoch,backprop
    manualnn course handout COURSE_DIR --roster roster.csv --out handouts
    manualnn course grade COURSE_DIR SUBMISSIONS --out grades [--jobs N]

The work is in learn/course/; this module only parses and prints.
"""

from __future__ import annotations

import argparse
import os
import sys


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated function names, got "
                                         f"{text!r}"[:200])
    return names


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}"[:200])
    return value


def add_parser(sub) -> None:
    """The ``course`` command and its three subcommands, under ``sub``."""
    course = sub.add_parser("course", help="per-student exercises and offline grading of a "
                            "class (see docs/course.md)")
    steps = course.add_subparsers(dest="course_command", required=True,
                                  parser_class=type(course))
    new = steps.add_parser("new", help="make a course folder: a secret key, the functions, "
                           "the weights (course.json)")
    new.add_argument("course_dir", metavar="COURSE_DIR")
    new.add_argument("--functions", type=_names,
                     help="comma-separated exercises to grade (default: all)")
    handout = steps.add_parser("handout", help="one skeleton per student, on their variant")
    handout.add_argument("course_dir", metavar="COURSE_DIR")
    handout.add_argument("--roster", required=True, help="CSV file with a column of ids")
    handout.add_argument("--id-column", default="id", help="the roster's id column (default id)")
    handout.add_argument("--out", required=True, metavar="DIR", help="folder for the handouts")
    handout.add_argument("--lang", choices=["en", "zh"], default="en",
                         help="the handouts' language (default en)")
    grade = steps.add_parser("grade", help="grade every ID.py or ID/ in SUBMISSIONS")
    grade.add_argument("course_dir", metavar="COURSE_DIR")
    grade.add_argument("submissions", metavar="SUBMISSIONS")
    grade.add_argument("--out", required=True, metavar="DIR",
                       help="folder for grades.csv, feedback/ and class.html")
    grade.add_argument("--roster", help="grade only the roster's students; a missing "
                       "submission gets a row of zeros")
    grade.add_argument("--id-column", default="id", help="the roster's id column (default id)")
    grade.add_argument("--jobs", type=_positive,
                       help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--lang", choices=["en", "zh"], default="en",
                       help="the feedback files' language (default en)")
    grade.add_argument("--threads", type=int, help="BLAS threads of the grader's own "
                       "reference computations (each child always runs one)")


def run(args) -> int:
    return {"new": new, "handout": handout, "grade": grade}[args.course_command](args)


def new(args) -> int:
    from manualnn.learn.course.folder import KEY, SETTINGS, new_course
    course = new_course(args.course_dir, args.functions)
    print(f"course: {course.path} ({', '.join(course.functions)})")
    print(f"weights and limits: {course.path}/{SETTINGS} (edit freely; checked on every read)")
    print(f"secret key: {course.path}/{KEY} (mode 0600; keep it out of the students' reach)")
    return 0


def handout(args) -> int:
    from manualnn.learn.course.folder import open_course
    from manualnn.learn.course.handout import write_handouts
    from manualnn.learn.course.roster import read_roster
    course = open_course(args.course_dir)
    students = read_roster(args.roster, args.id_column)
    paths = write_handouts(course, students, args.out, args.lang)
    print(f"wrote {len(paths)} handouts in {args.out}")
    return 0


def grade(args) -> int:
    from manualnn.io.report import require
    from manualnn.learn.course import pool
    from manualnn.learn.course.folder import open_course
    from manualnn.learn.course.outputs import prepare_folder, write_outputs
    from manualnn.learn.course.roster import read_roster
    from manualnn.learn.course.submissions import find_submissions
    require()   # class.html needs the report extra: said before an hour of grading
    course = open_course(args.course_dir)
    roster = read_roster(args.roster, args.id_column) if args.roster else None
    if _inside(args.out, args.submissions):
        raise ValueError(f"out: {args.out} is inside the submissions folder "
                         f"{args.submissions}; a next grading would take it for a student's")
    prepare_folder(args.out)
    subs, skipped = find_submissions(args.submissions, roster)
    if skipped:
        print(f"skipped (not submissions): {', '.join(skipped)}"[:1000], file=sys.stderr)
    grades, seconds = pool.timed(pool.grade_class, course, subs, args.jobs,
                                 None if not args.quiet else False, args.lang)
    paths = write_outputs(args.out, course, grades, args.lang)
    print(pool.summary(course, grades, seconds))
    print(f"grades: {paths['grades.csv']}  feedback: {paths['feedback']}/  "
          f"class page: {paths['class.html']}")
    return 0


def _inside(path, folder) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder
