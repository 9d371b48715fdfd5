"""Packaging: ``python -m build`` makes a wheel and an sdist that ``twine check`` accepts,
with the license, the changelog's version, ``py.typed`` and the report's template; the
wheel installs into a fresh virtual environment, where ``manualnn --help`` and a short
training run from the installed copy.

Offline: the build uses the test environment's setuptools (no isolation), and the fresh
environment gets no package from an index: manualnn from the wheel (--no-index
--no-deps), its dependencies through a .pth line naming the test environment's
site-packages, which comes after the environment's own on sys.path."""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytest.importorskip("build", reason="build (the test extra) is not installed")
pytest.importorskip("twine", reason="twine (the test extra) is not installed")
tomllib = pytest.importorskip("tomllib", reason="tomllib is Python 3.11's")


def _run(*args, env_extra=None, **kwargs):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", **(env_extra or {}))
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300,
                            check=False, **kwargs)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def _tracked_files():
    """The files a fresh clone has (git's list; the whole tree less build output where
    this is no git checkout)."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        return [p for p in out.splitlines() if (ROOT / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "build", "dist", "runs", "__pycache__", "_build"}
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The wheel and the sdist built from a copy of the checkout's files."""
    tree = tmp_path_factory.mktemp("checkout")
    for rel in _tracked_files():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tree / rel)
    out = tree / "dist"
    _run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
         "--outdir", str(out), str(tree))
    wheel, = out.glob("manualnn-*.whl")
    sdist, = out.glob("manualnn-*.tar.gz")
    return wheel, sdist


def test_twine_accepts_the_wheel_and_the_sdist(dist):
    result = _run(sys.executable, "-m", "twine", "check", "--strict", *map(str, dist))
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_wheel_holds_the_license_the_types_and_the_templates(dist):
    wheel, sdist = dist
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert "manualnn/py.typed" in names
    assert "manualnn/io/templates/report.html.j2" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    meta = meta.decode()
    assert "License-Expression: MIT" in meta and "Requires-Python: >=3.10" in meta
    assert "Classifier: Typing :: Typed" in meta
    extras = re.findall(r"Requires-Dist: (\S+).*extra == \"onnx\"", meta)
    assert {e.split(">")[0] for e in extras} == {"onnx", "onnxruntime"}
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert any(m.endswith("/LICENSE") for m in members)
    assert any(m.endswith("/src/manualnn/py.typed") for m in members)


def test_the_stated_python_versions_agree_and_include_this_one():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    low = tuple(map(int, project["requires-python"].removeprefix(">=").split(".")))
    versions = [tuple(map(int, c.rsplit(" :: ", 1)[1].split("."))) for c in project["classifiers"]
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions and min(versions) == low
    assert sys.version_info[:2] in versions


def test_the_changelog_names_the_version_and_an_unreleased_section():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## Unreleased" in text and re.search(rf"^## {re.escape(version)} - \d{{4}}-\d\d-\d\d$",
                                                 text, re.MULTILINE)
    import manualnn
    assert manualnn.__version__ == version


def test_the_wheel_installs_into_a_fresh_venv_and_trains(dist, tmp_path):
    wheel, _ = dist
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
         "--no-deps", "-q", str(wheel))
    site = pathlib.Path(_run(str(python), "-c", "import sysconfig; "
                             "print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "test_environment.pth").write_text(
        "\n".join(dict.fromkeys([sysconfig.get_paths()["purelib"],
                                 sysconfig.get_paths()["platlib"]])) + "\n")
    where = _run(str(python), "-c", "import manualnn; print(manualnn.__file__)").stdout
    assert where.startswith(str(site)), where   # the wheel's copy, not the checkout's
    command = venv / "bin" / "manualnn"
    assert "train a network and write a run folder" in _run(str(command), "--help").stdout
    out = tmp_path / "run"
    result = _run(str(command), "train", "--dataset", "digits", "--epochs", "3", "--hidden",
                  "32", "--schedule", "constant", "--lr", "0.01", "--out", str(out),
                  "--quiet", "--threads", "1", cwd=tmp_path,
                  env_extra={"MANUALNN_KERNELS": "numpy", "MPLBACKEND": "Agg"})
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", result.stdout).group(1))
    assert accuracy > 80, result.stdout
    assert (out / "model.safetensors").is_file() and (out / "model.json").is_file()
