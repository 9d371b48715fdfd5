"""Verified downloads against a local HTTP server on 127.0.0.1 (nothing leaves the machine)."""

import hashlib
import http.server
import os
import threading
import time

import numpy as np
import pytest

from manualnn.checks import DataError
from manualnn.data import datasets
from manualnn.data.download import download_file, file_digest, parse_checksum
from manualnn.data.files import write_idx


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (status, body, how) with how in ok/truncate/stall."""

    def do_GET(self):
        self.server.hits.append(self.path)
        status, body, how = self.server.routes.get(self.path, (404, b"not found", "ok"))
        if how == "stall":
            self.server.release.wait(5)     # until the test is over
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # A truncated download: promise the whole body, send half, hang up.
            self.wfile.write(body[: len(body) // 2] if how == "truncate" else body)
        except OSError:     # the client gave up (the timeout test): nothing to answer
            pass
        if how == "truncate":
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes, httpd.hits, httpd.release = {}, [], threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def _sha(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def test_parse_checksum():
    digest = "ab" * 32
    assert parse_checksum("sha256:" + digest.upper()) == ("sha256", digest)
    assert parse_checksum(digest) == ("sha256", digest)
    assert parse_checksum("cd" * 16) == ("md5", "cd" * 16)
    for bad in ["sha1:" + "a" * 40, "sha256:" + "a" * 63, "md5:" + "g" * 32, "abc", ""]:
        with pytest.raises(ValueError, match="checksum"):
            parse_checksum(bad)
    with pytest.raises(TypeError, match="checksum"):
        parse_checksum(b"x")


def test_good_download_with_md5(server, tmp_path):
    body = os.urandom(3000)
    server.routes["/m/f.bin"] = (200, body, "ok")
    dest = tmp_path / "sub" / "f.bin"
    md5 = hashlib.md5(body).hexdigest()
    assert download_file(f"{server.url}/m/f.bin", dest, "md5:" + md5) == str(dest)
    assert dest.read_bytes() == body
    assert file_digest(dest, "md5") == md5
    assert os.listdir(dest.parent) == ["f.bin"]


def test_404_then_second_mirror(server, tmp_path):
    body = b"payload" * 100
    server.routes["/b/f"] = (200, body, "ok")
    dest = tmp_path / "f"
    download_file([f"{server.url}/a/f", f"{server.url}/b/f"], dest, _sha(body))
    assert dest.read_bytes() == body
    assert server.hits == ["/a/f", "/b/f"]


@pytest.mark.parametrize("how, words", [("truncate", "truncated: got 500 of 1000 bytes"),
                                        ("ok", "checksum mismatch")])
def test_bad_copies_are_deleted_and_reported(server, tmp_path, how, words):
    body = bytes(1000)
    server.routes["/f"] = (200, body, how)
    expected = "sha256:" + "0" * 64 if how == "ok" else _sha(body)
    dest = tmp_path / "f"
    with pytest.raises(DataError) as info:
        download_file(f"{server.url}/f", dest, expected)
    message = str(info.value)
    assert message.startswith("f: no mirror gave a good copy")
    assert words in message
    if how == "ok":   # names the expected and the actual digest
        assert "0" * 64 in message and hashlib.sha256(body).hexdigest() in message
    assert os.listdir(tmp_path) == []


def test_timeout_moves_on_to_the_next_mirror(server, tmp_path):
    body = b"x" * 10
    server.routes["/slow"] = (200, body, "stall")
    server.routes["/fast"] = (200, body, "ok")
    start = time.perf_counter()
    download_file([f"{server.url}/slow", f"{server.url}/fast"], tmp_path / "f", _sha(body),
                  timeout=0.3)
    assert time.perf_counter() - start < 1.5
    assert (tmp_path / "f").read_bytes() == body


def test_unreachable_mirror_is_reported(tmp_path):
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    with pytest.raises(DataError, match="cannot connect"):
        download_file("http://127.0.0.1:9/f", tmp_path / "f", "a" * 64, timeout=2)


def test_size_limit(server, tmp_path):
    server.routes["/big"] = (200, bytes(5000), "ok")
    with pytest.raises(DataError, match="limit"):
        download_file(f"{server.url}/big", tmp_path / "f", "a" * 64, max_bytes=1000)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"urls": []}, ValueError, "at least one URL"),
    ({"urls": ["ftp://x/f"]}, ValueError, "http"),
    ({"urls": 5}, TypeError, "urls"),
    ({"dest": None}, TypeError, "dest"),
    ({"checksum": "nope"}, ValueError, "checksum"),
    ({"timeout": 0}, ValueError, "timeout"),
    ({"max_bytes": 1.5}, TypeError, "max_bytes"),
])
def test_download_file_validates(tmp_path, kwargs, error, words):
    args = {"urls": "http://127.0.0.1:9/f", "dest": tmp_path / "f", "checksum": "a" * 64,
            **kwargs}
    with pytest.raises(error, match=words):
        download_file(**args)


# --------------------------------------------------------- the dataset registry end to end


def _idx_set(folder, n_train=12, n_test=5):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    blobs = {}
    for file, n in zip(datasets.IDX_FILES, [n_train, n_train, n_test, n_test]):
        arr = (rng.integers(0, 256, (n, 28, 28)) if "images" in file
               else rng.integers(0, 10, n)).astype(np.uint8)
        write_idx(folder / file, arr, gzip=True)
        blobs[file] = (folder / file).read_bytes()
    return blobs


def test_load_dataset_downloads_missing_files_into_the_cache(server, isolated):
    blobs = _idx_set(isolated / "made")
    for file, body in blobs.items():
        server.routes[f"/second/{file}"] = (200, body, "ok")
    sums = {file: _sha(body) for file, body in blobs.items()}
    mirrors = [f"{server.url}/first", f"{server.url}/second/"]
    ds = datasets.load_dataset("mnist", download=True, mirrors=mirrors, checksums=sums)
    assert ds.X_train.shape == (12, 784) and ds.X_test.shape == (5, 784)
    cached = isolated / "cache" / "manualnn" / "mnist"
    assert sorted(os.listdir(cached)) == sorted(blobs)
    # Found locally the second time: no request at all.
    hits = len(server.hits)
    datasets.load_dataset("mnist", download=True, mirrors=mirrors, checksums=sums)
    assert len(server.hits) == hits


def test_load_dataset_fetches_only_what_is_missing(server, isolated):
    blobs = _idx_set(isolated / "mine")
    os.remove(isolated / "mine" / datasets.IDX_FILES[3])
    server.routes["/" + datasets.IDX_FILES[3]] = (200, blobs[datasets.IDX_FILES[3]], "ok")
    sums = {file: _sha(body) for file, body in blobs.items()}
    ds = datasets.load_dataset("fashion-mnist", data_dir=isolated / "mine", download=True,
                               mirrors=[server.url], checksums=sums)
    assert server.hits == ["/" + datasets.IDX_FILES[3]]
    assert ds.classes[0] == "T-shirt/top"


def test_load_dataset_reports_a_bad_checksum_with_the_file_name(server, isolated):
    blobs = _idx_set(isolated / "made")
    for file, body in blobs.items():
        server.routes[f"/{file}"] = (200, body, "ok")
    sums = {file: _sha(body) for file, body in blobs.items()}
    sums[datasets.IDX_FILES[0]] = "sha256:" + "1" * 64
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: no mirror") as info:
        datasets.load_dataset("mnist", download=True, mirrors=[server.url], checksums=sums)
    assert "1" * 64 in str(info.value)


def test_load_dataset_checksum_argument_is_checked(isolated):
    with pytest.raises(ValueError, match="checksums: expected an entry"):
        datasets.load_dataset("mnist", download=True, mirrors=["http://127.0.0.1:9/"],
                              checksums={})
    with pytest.raises(ValueError, match="mirrors"):
        datasets.load_dataset("mnist", download=True, mirrors=["file:///tmp/"])
