"""The submissions folder: ID.py files and ID/ folders; what cannot be graded keeps a row
with its reason, and what is not a submission is skipped."""

import os

import pytest

from manualnn.learn.course.submissions import find_submissions


def test_files_folders_links_and_strays(tmp_path):
    (tmp_path / "a1.py").write_text("x = 1\n")
    (tmp_path / "b2").mkdir()
    (tmp_path / "b2" / "simple_ml.py").write_text("x = 1\n")
    (tmp_path / "b2" / "helper.py").write_text("x = 1\n")
    (tmp_path / "c3").mkdir()
    (tmp_path / "c3" / "mine.py").write_text("x = 1\n")
    (tmp_path / "d4").mkdir()
    (tmp_path / "d4" / "one.py").write_text("")
    (tmp_path / "d4" / "two.py").write_text("")
    os.symlink(tmp_path / "a1.py", tmp_path / "e5.py")
    os.mkfifo(tmp_path / "f6.py")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".hidden.py").write_text("")
    subs, skipped = find_submissions(tmp_path)
    by = {s.student: s for s in subs}
    assert sorted(by) == ["a1", "b2", "c3", "d4", "e5", "f6"]
    assert by["a1"].path == str(tmp_path / "a1.py") and by["a1"].refused is None
    assert by["b2"].path == str(tmp_path / "b2" / "simple_ml.py")
    assert by["c3"].path == str(tmp_path / "c3" / "mine.py")
    assert "2 .py files" in by["d4"].refused and by["d4"].path is None
    assert "symbolic link" in by["e5"].refused and by["e5"].path is None
    assert "not a regular file" in by["f6"].refused
    assert sorted(skipped) == [".hidden.py", "notes.txt"]


def test_a_roster_picks_its_students_and_names_the_missing(tmp_path):
    (tmp_path / "a1.py").write_text("")
    (tmp_path / "Cy.py").write_text("")
    (tmp_path / "zz.py").write_text("")
    subs, skipped = find_submissions(tmp_path, ["a1", "b2", "cy"])
    assert [(s.student, s.refused) for s in subs] == [("a1", None), ("b2", "no submission"),
                                                      ("cy", None)]
    assert subs[2].path == str(tmp_path / "Cy.py")   # the roster's spelling, the file's path
    assert skipped == ["zz (not on the roster)"]


def test_the_progress_bar_counts_submissions(tmp_path, capsys):
    from manualnn.learn.course import folder, pool
    course = folder.new_course(tmp_path / "course", ["softmax_loss"])
    subs, _ = find_submissions(tmp_path, ["a", "b"])   # nothing to run: both missing
    grades = pool.grade_class(course, subs, jobs=1, progress=True)
    assert [g.functions[0].verdict for g in grades] == ["missing", "missing"]
    assert "2/2" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs: expected a positive number"):
        pool.grade_class(course, subs, jobs=0)


def test_the_folder_must_be_a_folder(tmp_path):
    with pytest.raises(ValueError, match="submissions: expected a folder"):
        find_submissions(tmp_path / "absent")
    os.symlink(tmp_path, tmp_path / "link")
    with pytest.raises(ValueError, match="submissions: expected a folder"):
        find_submissions(tmp_path / "link")


def test_a_killed_worker_leaves_the_rest_to_this_process(tmp_path, monkeypatch, capsys):
    """A worker process that dies (the kernel's OOM killer, a kill) breaks the pool; the
    submissions it had not finished are then graded here, one at a time."""
    import concurrent.futures

    from manualnn.learn.course import adapter, folder, pool
    course = folder.new_course(tmp_path / "course", ["softmax_loss"])
    (tmp_path / "subs").mkdir()
    for s in ("a", "b", "c"):
        (tmp_path / "subs" / f"{s}.py").write_text("")
    subs, _ = find_submissions(tmp_path / "subs")

    class Broken:   # the pool: its first result comes, then the worker dies
        def __init__(self, *args):
            self.calls = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, *args):
            future = concurrent.futures.Future()
            if self.calls == 0:
                future.set_result(fn(*args))
            else:
                future.set_exception(concurrent.futures.process.BrokenProcessPool("killed"))
            self.calls += 1
            return future

        def shutdown(self, **kwargs):
            pass

    ran = []

    def check(path, *args):
        ran.append(os.path.basename(path))
        return ([{"function": "softmax_loss", "verdict": "correct", "probes_passed": 3,
                  "probes_total": 3}], [], None)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Broken)
    monkeypatch.setattr(adapter, "check_submission", check)
    grades = pool.grade_class(course, subs, jobs=2, progress=False)
    assert [g.total for g in grades] == [1.0, 1.0, 1.0]
    assert sorted(ran) == ["a.py", "b.py", "c.py"]   # each once
    assert "a grading worker was killed" in capsys.readouterr().err
