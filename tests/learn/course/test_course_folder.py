"""The course folder: a secret key (0600, never printed) and course.json, validated on
every read; the roster's ids; the variants' derivation from HMAC(key, id)."""

import json
import os
import stat

import pytest

from cli_helpers import one_line
from manualnn.checks import DataError
from manualnn.cli import main
from manualnn.learn.course import folder, roster, variants


@pytest.fixture
def course(tmp_path):
    return folder.new_course(tmp_path / "course", ["softmax_loss", "nn_epoch", "backprop"])


def test_new_course_writes_a_private_key_and_the_settings(tmp_path, capsys):
    path = tmp_path / "c"
    assert main(["course", "new", str(path), "--functions", "softmax_loss,backprop"]) == 0
    out = capsys.readouterr().out
    key = (path / "key").read_text().strip()
    assert len(key) == 64 and key not in out            # never printed
    assert stat.S_IMODE(os.stat(path / "key").st_mode) == 0o600
    assert not [e for e in os.listdir(path) if e.endswith(".tmp")]
    c = folder.open_course(path)
    assert c.functions == ("softmax_loss", "backprop") and c.weights == {
        "softmax_loss": 1.0, "backprop": 1.0}
    assert c.key == bytes.fromhex(key) and key not in repr(c) and str(c.key) not in repr(c)
    other = folder.new_course(tmp_path / "d")             # default: every exercise
    assert other.functions == folder.exercises() and other.key != c.key


def test_new_course_refuses_a_used_folder_a_link_and_unknown_functions(course, tmp_path,
                                                                        capsys):
    key = (tmp_path / "course" / "key").read_bytes()
    assert main(["course", "new", str(tmp_path / "course")]) == 2
    assert "not empty" in one_line(capsys)
    assert (tmp_path / "course" / "key").read_bytes() == key   # a key is never replaced
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    assert main(["course", "new", str(tmp_path / "link")]) == 2
    assert "symbolic link" in one_line(capsys)
    for bad, said in (("softmax_loss,foo", "unknown ['foo']"),
                      ("backprop,backprop", "names one twice"), ("a,,b", "comma-separated")):
        assert main(["course", "new", str(tmp_path / "new"), "--functions", bad]) == 2
        assert said in one_line(capsys)
        assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("edit, said", [
    (lambda s: s["weights"].update(backprop=-1), "weights: backprop: expected a number"),
    (lambda s: s["weights"].pop("nn_epoch"), "weights: expected one number for each"),
    (lambda s: s["weights"].update(dict.fromkeys(s["weights"], 0)), "at least one weight"),
    (lambda s: s["weights"].update(backprop=True), "weights: backprop"),
    (lambda s: s.update(timeout=0), "timeout: expected seconds"),
    (lambda s: s.update(memory_mb=10.5), "memory_mb"),
    (lambda s: s.update(extra=1), "unexpected fields ['extra']"),
    (lambda s: s.update(functions=["softmax_loss", "nn_epoch", "nope"]), "unknown ['nope']"),
    (lambda s: s.update(format="other"), "format: expected"),
])
def test_course_json_is_validated_on_every_read(course, edit, said):
    path = os.path.join(course.path, folder.SETTINGS)
    with open(path) as f:
        settings = json.load(f)
    edit(settings)
    with open(path, "w") as f:
        json.dump(settings, f)
    with pytest.raises(DataError, match="course.json: .*" + said.replace("[", r"\[")
                       .replace("(", r"\(")):
        folder.open_course(course.path)


def test_edited_weights_are_read_back(course):
    path = os.path.join(course.path, folder.SETTINGS)
    with open(path) as f:
        settings = json.load(f)
    settings["weights"] = {"softmax_loss": 2, "nn_epoch": 3.5, "backprop": 0}
    with open(path, "w") as f:
        json.dump(settings, f)
    assert folder.open_course(course.path).max_points == 5.5


def test_a_key_others_may_read_or_a_damaged_key_is_refused(course):
    key = os.path.join(course.path, folder.KEY)
    os.chmod(key, 0o644)
    with pytest.raises(DataError, match="other users may read .* 'chmod 600"):
        folder.open_course(course.path)
    os.chmod(key, 0o600)
    with open(key, "w") as f:
        f.write("not hex\n")
    with pytest.raises(DataError, match="expected 64 hexadecimal digits"):
        folder.open_course(course.path)
    os.unlink(key)
    os.symlink(os.path.join(course.path, folder.SETTINGS), key)
    with pytest.raises(DataError, match="symbolic link"):
        folder.open_course(course.path)


# -- the roster ------------------------------------------------------------------------
def write(path, text):
    path.write_text(text)
    return path


def test_the_roster_gives_its_ids_in_order(tmp_path):
    path = write(tmp_path / "r.csv", "\ufeffname,id\nAnn,s001\nBob, s-2.b \n\n,s_3\n")
    assert roster.read_roster(path) == ["s001", "s-2.b", "s_3"]
    assert roster.read_roster(write(tmp_path / "n.csv", "name\nAnn\nBob\n"), "name") == ["Ann", "Bob"]


@pytest.mark.parametrize("rows, said", [
    ("id\na1\nb2\nA1\n", "row 4: id: 'A1' is also on row 2"),
    ("id,name\na1,x\n,y\n", "row 3: id: expected a student id .* got an empty id"),
    ("id\na1\n../etc/passwd\n", "row 3: id: .* got '../etc/passwd'"),
    ("id\na/b\n", "row 2: id: .* got 'a/b'"),
    ("id\n.hidden\n", "row 2: id"),
    ("id\n" + "x" * 65 + "\n", "row 2: id"),
    ("name\nAnn\n", "expected a header row with a column 'id'"),
    ("id\n", "no students"),
])
def test_a_bad_roster_is_refused_in_one_line_naming_the_row(tmp_path, rows, said, course,
                                                            capsys):
    path = write(tmp_path / "r.csv", rows)
    with pytest.raises((ValueError, DataError), match=said):
        roster.read_roster(path)
    assert main(["course", "handout", course.path, "--roster", str(path), "--out",
                 str(tmp_path / "h")]) == 2
    line = one_line(capsys)
    assert str(path) in line
    assert not (tmp_path / "h").exists()


# -- the variants ----------------------------------------------------------------------
KEY_A, KEY_B = bytes(range(32)), bytes(range(1, 33))


def test_variants_are_deterministic_per_key_and_id_and_differ_across_them():
    ids = [f"s{i:03d}" for i in range(200)]
    a = [variants.variant_fields(KEY_A, s) for s in ids]
    assert a == [variants.variant_fields(KEY_A, s) for s in ids]
    b = [variants.variant_fields(KEY_B, s) for s in ids]
    assert sum(x != y for x, y in zip(a, b)) >= 195     # another key: another variant
    assert len({x["seed"] for x in a}) == len(ids)      # another id: another data seed
    assert len({(x["widths"], x["batch"], x["activation"]) for x in a}) > 100
    hidden = [variants.variant_fields(KEY_A, s, hidden=True) for s in ids]
    assert all(h["seed"] != x["seed"] for h, x in zip(hidden, a))
    assert {h["activation"] for h in hidden} == set(variants.SMOOTH)
    # every choice is used: depth, activations, batch sizes
    assert {len(x["widths"]) for x in a} == {3, 4}
    assert {x["activation"] for x in a} == set(variants._activations())
    assert {x["batch"] for x in a} == set(variants.BATCHES)


def test_variant_shapes_are_always_valid():
    for i in range(500):
        for hidden in (False, True):   # the checker's own validation accepts each
            v = variants.variant_for(KEY_A, f"student{i}", hidden)
            assert v.widths == variants.variant_fields(KEY_A, f"student{i}", hidden)["widths"]
        f = variants.variant_fields(KEY_A, f"student{i}")
        n, *hidden, k = f["widths"]
        assert n in variants.INPUTS and k in variants.CLASSES
        assert 1 <= len(hidden) <= 2 and all(h in variants.HIDDEN for h in hidden)
        assert 0 <= f["seed"] < 2 ** 32


def test_variants_refuse_a_bad_key_or_id():
    with pytest.raises(ValueError, match="key: expected the course's secret key"):
        variants.variant_fields(b"short", "s1")
    with pytest.raises(ValueError, match="student: expected a student id"):
        variants.variant_fields(KEY_A, "../x")
