"""deploy/nginx.conf, as shipped, in front of serve.py: the README's advice for the open internet, tested.

    .venv/bin/python -m pytest tests/test_nginx.py -p no:cacheprovider     # needs Debian's nginx (make setup)

nginx runs as this test's own child process on free loopback ports, with its prefix (pid file, logs,
temporary files) in a temporary folder; only the listening port and the address of waitress are changed
in the file. serve.py's app (with a stand-in model) runs in this process behind it, so the test can look at
what reaches waitress. The attacks of bench/hostile.py come from 127.0.0.1 and the probes from 127.0.0.2,
as from another client (nginx limits each address). Every attack is bounded in count and time; nothing is
timed.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
from conftest import ROOT
from support import BIG_FILE, DEADLINE, close_all, connections, open_sockets, running, wait_for

import serve

CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROBE_ADDRESS = "127.0.0.2"  # another client than the attackers on 127.0.0.1


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """(nginx's port, the waitress server behind it) for the module's tests."""
    assert os.path.exists(NGINX), "nginx is missing: `make setup` installs Debian's nginx"
    prefix = tmp_path_factory.mktemp("nginx")
    prefix.chmod(0o755)  # nginx's workers drop root for nobody, and write their temporary files here
    with running() as server:
        port = free_port()
        text = CONFIG.read_text()
        assert text.count("listen 80;") == 1 and text.count("server 127.0.0.1:5000;") == 1
        text = text.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
            "server 127.0.0.1:5000;", f"server 127.0.0.1:{server.effective_port};")
        (prefix / "nginx.conf").write_text(text)
        shutil.copy(ROOT / "deploy" / "sketch-json-error.conf", prefix)
        command = [NGINX, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
        checked = subprocess.run(command + ["-t"], capture_output=True, text=True, timeout=DEADLINE)
        assert checked.returncode == 0, checked.stderr
        nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: nginx.poll() is not None or answers(port), "nginx to answer")
            assert nginx.poll() is None, nginx.stderr.read().decode()
            yield port, server
        finally:
            nginx.terminate()
            nginx.wait(timeout=DEADLINE)


def answers(port):
    try:
        return probe(port, "/healthz", timeout=1)[0] == 200
    except OSError:
        return False


def probe(port, path="/healthz", method="GET", body=None, headers=None, timeout=DEADLINE):
    """A request from PROBE_ADDRESS: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(PROBE_ADDRESS, 0))
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_the_json_error_headers_are_serve_security_headers():
    """deploy/sketch-json-error.conf words nginx's refusals with the same headers as the app's."""
    text = (ROOT / "deploy" / "sketch-json-error.conf").read_text()
    headers = dict(re.findall(r'^add_header (\S+) "(.*)" always;$', text, flags=re.M))
    assert headers == serve.SECURITY_HEADERS | {"Cache-Control": "no-store"}
    config = CONFIG.read_text()
    assert f"at most {serve.DEFAULT_CONFIG['MAX_CONTENT_LENGTH']} bytes" in config
    assert "client_max_body_size 2m;" in config and serve.DEFAULT_CONFIG["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024


@pytest.mark.parametrize("path, body, headers, status, message", [
    ("/predict", b" " * (3 * 1024 * 1024), {"Content-Type": "application/json"}, 413,
     "request body too large (at most 2097152 bytes)"),
    ("/" + "a" * 70_000, None, {}, 414, "request line too long (at most 8192 bytes)"),
    ("/healthz", None, {"X-Big": "a" * 9000}, 400, "a request header too large (at most 8192 bytes)"),
    ("/nope.html", None, {}, 404, "not found"),  # the app's own, passed through
    ("/.refusal/413", None, {}, 404, "not found"),  # nginx's internal pages are not reachable
], ids=["body over 2 MB", "70,000-character path", "9,000-byte header", "no such file", "internal page"])
def test_refusals_through_nginx_are_json_with_the_security_headers(proxied, path, body, headers, status, message):
    port, _ = proxied
    answer_status, answer_headers, answer_body = probe(port, path, "POST" if body else "GET", body, headers)
    assert answer_status == status and json.loads(answer_body) == {"error": message}
    assert answer_headers["Content-Type"] == "application/json"
    assert {name: answer_headers.get(name) for name in serve.SECURITY_HEADERS} == serve.SECURITY_HEADERS


def test_slow_readers_hold_nothing_of_waitress(proxied):
    """32 connections each pipeline 20 GETs of the 1.1 MB TF.js file and never read: nginx takes the
    answers from waitress and holds them; /healthz and the page's files are answered meanwhile."""
    port, server = proxied
    request = f"GET {BIG_FILE} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 20
    crowd = open_sockets(port, 32, request, receive_buffer=4096)
    try:
        wait_for(lambda: server.task_dispatcher.active_count == 0 and all(
            channel.total_outbufs_len == 0 for channel in connections(server)),
            "waitress to have handed every answer to nginx")
        assert probe(port, "/healthz")[0] == 200
        assert probe(port, "/js/main.js")[0] == 200
        assert probe(port, BIG_FILE)[0] == 200
    finally:
        close_all(crowd)


@pytest.mark.parametrize("first_bytes", [
    b"",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: a",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
], ids=["silent", "trickling headers", "trickling body"])
def test_a_thousand_slow_clients_never_reach_waitress(proxied, first_bytes):
    """1,000 connections that send nothing, or half a request: nginx holds them all (waitress's limit is
    1,000), passes none of them on, and /healthz and the page's files are answered meanwhile."""
    port, server = proxied
    crowd = open_sockets(port, 1000, first_bytes)
    try:
        assert probe(port, "/healthz")[0] == 200
        assert probe(port, "/js/main.js")[0] == 200
        # Only nginx's own connections reach waitress: those kept open for reuse (keepalive 32 a worker)
        # and those of the probes.
        assert len(connections(server)) < 100
    finally:
        close_all(crowd)


def test_one_address_is_limited_to_its_share_of_predictions(proxied):
    """/predict from one address: 10 a second with a burst of 20; beyond it, 429 as JSON with Retry-After.
    200 requests as fast as one connection goes cannot all fit (that would take 18 s at 10 a second). They
    come from 127.0.0.3: the earlier tests' attackers used up 127.0.0.1's share."""
    port, _ = proxied
    body = json.dumps({"strokes": [[[0, 50, 100], [0, 80, 20]]]})
    statuses = {}
    refusal = None
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE, source_address=("127.0.0.3", 0))
    started = time.monotonic()
    try:
        for _ in range(200):
            connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status == 429:
                refusal = (response.headers["Retry-After"], json.loads(data), response.headers["Content-Type"])
    finally:
        connection.close()
    if time.monotonic() - started >= 18:
        pytest.skip("the machine was too slow to exceed 10 requests a second")
    assert set(statuses) == {200, 429} and statuses[200] >= 20, statuses
    assert refusal == ("1", {"error": "too many requests from this address; retry in 1 s"}, "application/json")
    assert probe(port, "/predict", "POST", body, {"Content-Type": "application/json"})[0] == 200  # other addresses
