"""Teaching a class with the checker: ``manualnn course`` (cli/course.py).

    folder.py       the course folder: secret key (0600) and course.json (functions,
                    weights, limits), validated on every read
    roster.py       the roster CSV and the rule for a student id (a safe file name)
    variants.py     each student's Variant from HMAC(key, id), and their hidden one
    handout.py      one skeleton per student, on their variant
    submissions.py  the submissions folder: ID.py files or ID/ folders
    adapter.py      the one seam to the checker (learn/): check, variants, the catalogue
    grades.py       verdicts to points: partial credit per probe, the course's weights
    pool.py         a class graded in child processes, ``jobs`` at once, with progress
    outputs.py      grades.csv, the feedback files, class.html, written atomically
    feedback.py     a student's feedback file, in English or Chinese
    page.py         class.html: mistakes per function, verdicts, totals, with pictures
"""
