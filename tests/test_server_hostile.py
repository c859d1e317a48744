"""serve.py's waitress server against clients that hold threads or connections (issue 24), and the refusals
waitress makes before the app sees a request.

    .venv/bin/python -m pytest tests/test_server_hostile.py -p no:cacheprovider

Each test runs make_server in this process on a free loopback port, with a stand-in model, so that it can
wait on the server's own state (its connections, its busy threads), polled with a deadline, rather than on
the clock. Nothing is timed here (bench/hostile.py measures); every attack is bounded in count and time.
"""

import http.client
import json
import select
import socket

import flask
import pytest
from conftest import ROOT
from support import BIG_FILE, DEADLINE, StubPredictor, close_all, connections, open_sockets, running, stub_app, wait_for  # noqa: F401

import serve


@pytest.fixture()
def settings(monkeypatch):
    """Change WAITRESS_SETTINGS for the server the test starts (shorter timeouts, a smaller limit)."""
    return lambda **changes: [monkeypatch.setitem(serve.WAITRESS_SETTINGS, key, value) for key, value in changes.items()]


def get(port, path="/healthz"):
    """A GET on a fresh connection: (status, headers, body); the timeout is the test's deadline."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def raw_exchange(port, request):
    """Send bytes, read until the server closes: (status, headers as a dict, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


# What the README says of refusals waitress makes before the app: JSON, with the app's security headers.
# Of the 70,000-character path only the first 64 KB are sent, on which waitress refuses it: the server has
# then read every byte sent when it answers (closing on unread bytes resets the connection, which may lose
# the answer before the client reads it).
@pytest.mark.parametrize("request_bytes, status, message", [
    (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n\r\n",
     413, "request body too large (at most 2097152 bytes)"),
    ((b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")[:64 * 1024], 431,
     "request line and headers too large (at most 65536 bytes)"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n", 400, "bad request: Content-Length is invalid"),
], ids=["body over 2 MB", "70,000-character path", "bad Content-Length"])
def test_refusals_before_the_app_are_json_with_the_security_headers(request_bytes, status, message):
    with running() as server:
        answer_status, headers, body = raw_exchange(int(server.effective_port), request_bytes)
    assert answer_status == status
    assert json.loads(body) == {"error": message}
    assert headers["Content-Type"] == "application/json" and headers["Cache-Control"] == "no-store"
    assert {name: headers.get(name) for name in serve.SECURITY_HEADERS} == serve.SECURITY_HEADERS


def test_pipelined_requests_beyond_the_bound_are_not_read():
    with running() as server:
        answer = b""
        with socket.create_connection(("127.0.0.1", int(server.effective_port)), timeout=DEADLINE) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * (serve.MAX_PIPELINED + 6))
            while chunk := sock.recv(65536):
                answer += chunk
    answers = answer.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == serve.MAX_PIPELINED and all(each.startswith(b"200 OK") for each in answers)
    assert b"Connection: close" in answers[-1] and all(b"Connection: close" not in each for each in answers[:-1])


def test_pipelined_answers_stay_below_the_write_watermark():
    """A thread waits for a client to read only once outbuf_high_watermark bytes are unread; MAX_PIPELINED
    answers of the largest file served stay below it, so a client that never reads holds no thread."""
    served = [path for path in (ROOT / "web").rglob("*") if path.is_file()]
    served += [ROOT / "node_modules" / path for path in serve.VENDOR_FILES.values()]
    largest = max(path.stat().st_size for path in served)
    assert serve.MAX_PIPELINED * largest < serve.WAITRESS_SETTINGS["outbuf_high_watermark"]


def test_clients_that_pipeline_big_files_and_never_read_hold_no_thread():
    """40 connections (more than the 32 threads) each pipeline 20 GETs of the 1.1 MB TF.js file and read
    nothing: every one ends with its answers queued and no thread of its own, and /healthz and the page's
    files are answered while they stay open."""
    with running() as server:
        port = int(server.effective_port)
        request = f"GET {BIG_FILE} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 20
        attackers = open_sockets(port, 40, request, receive_buffer=4096)
        try:
            # A thread finishing its task lets go of the connection a moment before it counts itself idle.
            wait_for(lambda: len(connections(server)) >= 40 and server.task_dispatcher.active_count == 0 and all(
                not channel.requests and channel.total_outbufs_len > 0 for channel in connections(server)),
                "every slow reader's answers to be queued with no thread busy")
            assert get(port, "/healthz")[0] == 200
            assert get(port, "/js/main.js")[0] == 200
            assert get(port, BIG_FILE)[0] == 200
        finally:
            close_all(attackers)


def test_a_client_that_stops_reading_is_closed_and_its_thread_freed(settings):
    """An answer streamed in pieces, far larger than the socket's buffers: its thread waits for the client
    to read. After channel_timeout without progress the server closes the connection, which frees the
    thread (waitress alone never closes a connection with a request in service)."""
    settings(channel_timeout=1, cleanup_interval=1)
    app = stub_app()
    piece = b"x" * (1024 * 1024)
    app.add_url_rule("/streamed", "streamed", lambda: flask.Response(piece for _ in range(64)))
    with running(app) as server:
        reader = open_sockets(int(server.effective_port), 1, b"GET /streamed HTTP/1.1\r\nHost: x\r\n\r\n",
                              receive_buffer=4096)
        try:
            wait_for(lambda: server.task_dispatcher.active_count == 1, "a thread to wait on the slow reader")
            wait_for(lambda: not connections(server) and server.task_dispatcher.active_count == 0,
                       "the slow reader to be closed and its thread freed")
        finally:
            close_all(reader)


@pytest.mark.parametrize("opening, byte", [
    (b"POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"a"),
    (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", b" "),
], ids=["headers", "body"])
def test_a_request_that_trickles_in_is_closed(settings, opening, byte):
    """A byte every quarter second keeps a connection active, but its request must arrive whole within
    channel_timeout: the server closes it (waitress alone waits for as long as the bytes keep coming)."""
    settings(channel_timeout=2, cleanup_interval=1)
    with running() as server, socket.create_connection(("127.0.0.1", int(server.effective_port)), timeout=DEADLINE) as sock:
        sock.sendall(opening)
        closed = False
        for _ in range(DEADLINE * 4):
            # Wait a quarter second for the server to close the connection (readable at its end); else
            # send one more byte, as the attack does.
            if select.select([sock], [], [], 0.25)[0]:
                try:
                    closed = sock.recv(65536) == b""
                except ConnectionResetError:
                    closed = True
                if closed:
                    break
            try:
                sock.sendall(byte)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        assert closed, "the server kept a trickling request open"


def closed_by_the_server(sockets):
    """How many of these sockets the server has closed (each is read, so use it last)."""
    poller = select.poll()  # not select(), which cannot watch descriptors above 1024
    by_number = {sock.fileno(): sock for sock in sockets}
    for number in by_number:
        poller.register(number, select.POLLIN)
    closed = 0
    for number, _ in poller.poll(0):
        sock = by_number[number]
        try:
            closed += sock.recv(65536) == b""
        except ConnectionResetError:
            closed += 1
    return closed


@pytest.mark.parametrize("first_bytes", [b"", b"POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: a"], ids=["silent", "half-sent"])
def test_at_the_connection_limit_new_clients_are_let_in(settings, first_bytes):
    """The limit filled by connections that send nothing (or half a request) and would not time out for
    300 s: a client that connects after them (so after them in the listening socket's queue) is answered,
    because the longest-waiting idle connections make room for it."""
    settings(connection_limit=60, channel_timeout=300)
    with running() as server:
        port = int(server.effective_port)
        crowd = open_sockets(port, 60, first_bytes)
        try:
            assert get(port, "/healthz")[0] == 200
            assert get(port, "/js/main.js")[0] == 200
            assert closed_by_the_server(crowd) >= 1
        finally:
            close_all(crowd)


def test_a_thousand_silent_connections_at_the_real_limit():
    """The real settings: after 1,000 silent connections, /healthz is answered at once, not after 30 s."""
    with running() as server:
        port = int(server.effective_port)
        crowd = open_sockets(port, serve.WAITRESS_SETTINGS["connection_limit"])
        try:
            assert get(port, "/healthz")[0] == 200
            assert closed_by_the_server(crowd) >= 1
        finally:
            close_all(crowd)
