"""Tests for training.download against a local HTTP server on 127.0.0.1 (these machines are offline)."""

import http.server
import io
import threading

import numpy as np
import pytest

from training import download


def npy_bytes(rows=50):
    buffer = io.BytesIO()
    np.save(buffer, np.random.default_rng(0).integers(0, 256, (rows, 784), dtype=np.uint8))
    return buffer.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    files = {}
    cut_first_transfer = False
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1].replace("%20", " ")
        body = self.files.get(name)
        range_header = self.headers.get("Range")
        type(self).requests.append((name, range_header))
        if body is None:
            self.send_error(404)
            return
        start = int(range_header.split("=")[1].rstrip("-")) if range_header else 0
        self.send_response(206 if range_header else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if type(self).cut_first_transfer:
            type(self).cut_first_transfer = False
            self.wfile.write(body[start:start + len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)  # Break the transfer off a third of the way through.
            return
        self.wfile.write(body[start:])


@pytest.fixture()
def server():
    Handler.files = {"cat.npy": npy_bytes(), "alarm clock.npy": npy_bytes(7), "broken.npy": b"not npy"}
    Handler.requests = []
    Handler.cut_first_transfer = False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/numpy_bitmap/"
    httpd.shutdown()


def test_download_and_layout(server, tmp_path):
    assert download.main(["--classes", "cat", "alarm clock", "--out", str(tmp_path), "--base-url", server]) == 0
    assert (tmp_path / "bitmaps" / "cat.npy").read_bytes() == Handler.files["cat.npy"]
    assert np.load(tmp_path / "bitmaps" / "alarm clock.npy").shape == (7, 784)
    assert not list(tmp_path.glob("bitmaps/*.part"))


def test_interrupted_transfer_resumes(server, tmp_path):
    Handler.cut_first_transfer = True
    path = download.download_class("cat", tmp_path, server, timeout=5)
    assert path.read_bytes() == Handler.files["cat.npy"]
    ranges = [header for name, header in Handler.requests if name == "cat.npy"]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"


def test_partial_file_from_an_earlier_run_resumes(server, tmp_path):
    (tmp_path / "bitmaps").mkdir()
    (tmp_path / "bitmaps" / "cat.npy.part").write_bytes(Handler.files["cat.npy"][:1000])
    download.download_class("cat", tmp_path, server)
    assert Handler.requests == [("cat.npy", "bytes=1000-")]
    assert (tmp_path / "bitmaps" / "cat.npy").read_bytes() == Handler.files["cat.npy"]


def test_unknown_class_and_invalid_file(server, tmp_path, capsys):
    assert download.main(["--classes", "unicorn", "--out", str(tmp_path), "--base-url", server]) == 2
    assert "no class 'unicorn'" in capsys.readouterr().err
    assert download.main(["--classes", "broken", "--out", str(tmp_path), "--base-url", server]) == 2
    assert "not a valid bitmap file" in capsys.readouterr().err
    assert not (tmp_path / "bitmaps" / "broken.npy").exists()


def test_offline_is_one_clear_line(tmp_path, capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    status = download.main(["--classes", "cat", "--out", str(tmp_path), "--base-url", f"http://127.0.0.1:{port}/"])
    error = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and error[-1].startswith("error: cannot reach 127.0.0.1") and "offline" in error[-1]


def test_presets_and_bad_preset(capsys, tmp_path):
    assert download.main(["--preset", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert download.class_url("https://x/y/", "alarm clock") == "https://x/y/alarm%20clock.npy"
