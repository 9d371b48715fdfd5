"""Hostile submissions each get a clear verdict and do not stop the others; the course's
key never reaches a child (its environment, arguments or working folder)."""

import json
import os

import pytest
from course_students import RIGHT_SOFTMAX_LOSS

from manualnn.learn.course import folder, pool
from manualnn.learn.course.submissions import find_submissions

HOSTILE = {
    "loop": "def softmax_loss(Z, y):\n    while True:\n        pass\n",
    "crash": "import os\nos.abort()\n",
    "huge": "import numpy as np\nBIG = np.ones((50 * 2 ** 30,), dtype=np.uint8)\n",
    "exits": "import sys\nsys.exit(3)\n",
    "torch": "import torch\n" + RIGHT_SOFTMAX_LOSS,
    "sneaky": "import importlib\nmn = importlib.import_module('manualnn')\n" + RIGHT_SOFTMAX_LOSS,
    "autograd": "from autograd import grad\n" + RIGHT_SOFTMAX_LOSS,
    "writer": ("import os\n"
               "for name in ('ok.py', '../ok.py', 'grades.csv', 'simple_ml.py'):\n"
               "    try:\n"
               "        with open(name, 'w') as f:\n"
               "            f.write('def softmax_loss(Z, y):\\n    return 0.0\\n')\n"
               "    except OSError:\n"
               "        pass\n" + RIGHT_SOFTMAX_LOSS),
}
REFUSED_IMPORT = {"torch": "torch", "sneaky": "manualnn", "autograd": "autograd"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    course = folder.new_course(root / "course", ["softmax_loss"])
    settings = json.loads((root / "course" / "course.json").read_text())
    settings.update(timeout=3, memory_mb=512)   # the endless loop costs 3 s
    (root / "course" / "course.json").write_text(json.dumps(settings))
    course = folder.open_course(course.path)
    subs = root / "subs"
    subs.mkdir()
    for name, text in HOSTILE.items():
        (subs / f"{name}.py").write_text(text)
    (subs / "ok.py").write_text(RIGHT_SOFTMAX_LOSS)
    os.symlink(subs / "ok.py", subs / "linked.py")
    spy = root / "spy.json"
    (subs / "spy.py").write_text(
        "import json, os, sys\n"
        "seen = {'env': dict(os.environ), 'argv': sys.argv, 'cwd': os.getcwd(),\n"
        "        'files': {n: open(n, 'rb').read().hex() for n in os.listdir('.')\n"
        "                  if os.path.isfile(n)},\n"
        "        'cmdline': open('/proc/self/cmdline', 'rb').read().hex(),\n"
        "        'parent': open(f'/proc/{os.getppid()}/cmdline', 'rb').read().hex()}\n"
        f"json.dump(seen, open({str(spy)!r}, 'w'))\n" + RIGHT_SOFTMAX_LOSS)
    found, _ = find_submissions(subs)
    grades = pool.grade_class(course, found, jobs=2, progress=False)
    return course, {g.student: g for g in grades}, spy, root


def only(g):
    (f,) = g.functions
    return f


def test_each_hostile_submission_gets_its_own_clear_verdict(graded):
    _, by, _, _ = graded
    assert only(by["ok"]).verdict == "correct" and by["ok"].total == 1
    assert only(by["writer"]).verdict == "correct"   # what it wrote changed nobody
    assert only(by["spy"]).verdict == "correct"
    for name in ("loop", "crash", "huge", "exits", *REFUSED_IMPORT, "linked"):
        f = only(by[name])
        assert f.verdict in ("error", "refused"), (name, f)
        assert by[name].total == 0 and f.message, name
    assert "did not finish within 3 s" in only(by["loop"]).message
    for name, module in REFUSED_IMPORT.items():
        message = only(by[name]).message
        assert "refused" in message and module in message, message
    assert "symbolic link" in only(by["linked"]).message


def test_writes_around_a_submission_land_in_its_own_temporary_folder(graded):
    _, _, _, root = graded
    assert sorted(os.listdir(root / "subs")) == sorted(
        [f"{n}.py" for n in HOSTILE] + ["ok.py", "linked.py", "spy.py"])
    assert not (root / "ok.py").exists() and not (root / "grades.csv").exists()


def test_the_key_never_reaches_a_child(graded):
    course, _, spy, _ = graded
    seen = json.loads(spy.read_text())
    key_hex = course.key.hex()
    blob = json.dumps(seen)
    assert key_hex not in blob and key_hex.encode().hex() not in blob
    assert course.key.hex() not in bytes.fromhex(seen["cmdline"]).hex()
    assert not seen["cwd"].startswith(course.path) and "key" not in seen["files"]
    assert os.path.realpath(seen["cwd"]) != os.path.realpath(os.getcwd())
    for name in ("HOME", "PYTHONPATH"):
        assert course.path not in seen["env"].get(name, "")
