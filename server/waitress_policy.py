"""waitress as the sketch server runs it: its settings, and what waitress lacks against slow or greedy clients.

Part of the server package (server/__init__.py); `python serve.py` serves the app through make_server(app,
host, port, threads). WAITRESS_SETTINGS bounds connections, idle time and memory; server_classes() changes
waitress's server and connection classes where a client that trickles its request in, never reads, pipelines
without end or fills the connection limit could hold a thread or lock others out, and words waitress's own
refusals (413, 431, 400) as the app's JSON errors. Nothing here imports waitress until a server is made.
"""

import heapq
import json
import socket
import time

from .responses import SECURITY_HEADERS, body_too_large

DEFAULT_THREADS = 32  # waitress threads; waiting on the work gate costs a thread, not a core
WAITRESS_SETTINGS = {
    "connection_limit": 1000,   # open connections; idle ones cost a socket, not a thread (see SketchServer)
    # Seconds a connection may sit idle, a request may take to arrive whole (a client trickling a byte at a
    # time is closed when its request is this old), and a client may go without reading what it is sent.
    "channel_timeout": 30,
    "cleanup_interval": 5,      # seconds between checks for such connections
    # Bytes read from a socket at once: a 2 MB body is 32 passes of waitress's single-threaded loop, not
    # the default's 256, so uploads leave that loop free for /healthz and the files.
    "recv_bytes": 64 * 1024,
    "asyncore_use_poll": True,  # poll() rather than select(), which cannot watch more than 1024 sockets
    "max_request_header_size": 64 * 1024,  # request line and headers; more is answered 431
    # A request body beyond this waits in a temporary file, not in memory: 1,000 half-sent 2 MB bodies then
    # hold 64 MB of memory, not the default 512 KB each.
    "inbuf_overflow": 64 * 1024,
    # A worker thread waits for a client to read only once this much of its answers is unread. Pipelined
    # requests are bounded (MAX_PIPELINED) so that their answers stay below it: a client that never reads
    # holds no thread (tests/test_server_hostile.py checks the largest file we serve against it).
    "outbuf_high_watermark": 16 * 1024 * 1024,
}
# Requests one connection may queue by pipelining; the last of them is answered with Connection: close and
# the rest are not read (a pipelining client retries unanswered requests on a new connection, RFC 9112
# 9.3.2). Browsers do not pipeline.
MAX_PIPELINED = 4
# Connections closed at once when the connection limit is reached, among those holding no request in
# service, the longest waiting first (waiting_since): new clients are let in rather than refused.
EVICT_AT_ONCE = 32
ACCEPT_AT_ONCE = 64  # connections accepted in one pass of waitress's loop


def refusal_message(code, body, adjustments):
    """What our JSON says for a refusal waitress makes before the app sees the request (make_server sets
    waitress's body limit to the app's, so a 413 says what the app's own 413 says)."""
    if code == 413:
        return body_too_large(adjustments.max_request_body_size)
    if code == 431:
        return f"request line and headers too large (at most {adjustments.max_request_header_size} bytes)"
    return f"bad request: {body}" if code == 400 else body


def server_classes():
    """waitress's server, connection and refusal classes, changed where a slow or greedy client could hold
    a thread or every connection. Built on first use, so that importing serve.py does not import waitress."""
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer
    from waitress.task import ErrorTask

    class JsonErrorTask(ErrorTask):
        """waitress's own refusals (413 body too large, 431 headers too large, 400 malformed request) as the
        app's are: {"error": ...} as JSON, with the security headers, not waitress's plain text."""

        def execute(self):
            error = self.request.error
            message = refusal_message(error.code, error.body, self.channel.adj)
            body = json.dumps({"error": message}, separators=(",", ":")).encode() + b"\n"  # as jsonify writes it
            self.status = f"{error.code} {error.reason}"
            self.response_headers.extend([("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                                          *SECURITY_HEADERS.items()])
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class SketchChannel(HTTPChannel):
        """A connection that queues at most MAX_PIPELINED requests and remembers when the request it is
        receiving began, so that SketchServer can close one that trickles in."""

        error_task_class = JsonErrorTask
        request_started = None  # time.time() at the first byte of the request being received
        pipeline_cut = False    # more than MAX_PIPELINED arrived: read nothing more
        shut_down = False       # shut(): the loop closes it on its next pass

        def received(self, data):
            receiving = self.request
            result = super().received(data)
            with self.requests_lock:
                if self.request is not None and self.request is not receiving:
                    self.request_started = time.time()
                if len(self.requests) > MAX_PIPELINED:
                    # The first MAX_PIPELINED are answered, the last of them with Connection: close; the
                    # others are dropped unanswered. Only requests[0] can be in service, so the one marked
                    # is not yet answered.
                    for extra in self.requests[MAX_PIPELINED:]:
                        extra.close()
                    del self.requests[MAX_PIPELINED:]
                    self.requests[-1].headers["CONNECTION"] = "close"
                    if self.request is not None:
                        self.request.close()
                        self.request = None
                    self.pipeline_cut = True
            return result

        def readable(self):
            return not self.pipeline_cut and super().readable()

        def shut(self):
            """Close from the server's loop: shutting the socket down makes poll() report it, and the loop
            closes it as it does any connection the client closed (closing it here, in the middle of the
            loop's pass over its sockets, could let a new connection reuse the number)."""
            self.will_close = True
            self.shut_down = True
            try:
                self.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone: the loop closes it all the same

    class SketchServer(TcpWSGIServer):
        """waitress's TCP server with the connection policy of WAITRESS_SETTINGS enforced where waitress
        does not: requests that take too long to arrive, clients that stop reading, and a full house."""

        channel_class = SketchChannel
        next_eviction_note = 0.0

        def maintenance(self, now):
            """Close, after channel_timeout seconds: a connection idle or with unread answers and no
            request in service (waitress only marks these, and one whose client stopped reading is never
            closed), a request still arriving since then (a byte every few seconds keeps waitress's idle
            timer from ever firing), and a connection whose worker thread has waited that long for the
            client to read (waitress never times out a connection with a request in service)."""
            cutoff = now - self.adj.channel_timeout
            for channel in list(self.active_channels.values()):
                if channel.shut_down:
                    continue
                if not channel.requests:
                    stale = channel.last_activity < cutoff or (
                        channel.request is not None and channel.request_started is not None
                        and channel.request_started < cutoff)
                else:
                    stale = channel.total_outbufs_len > 0 and channel.last_activity < cutoff
                if stale:
                    channel.shut()

        def readable(self):
            """At the connection limit, close the connections that hold no request in service and have
            waited longest (for the request they are receiving to arrive whole, or idle), rather than stop
            accepting: silent or trickling clients cannot lock others out. A trickling client's bytes keep
            it active, so it is ranked by when its request began, not by its last byte."""
            now = time.time()
            if now >= self.next_channel_cleanup:
                self.next_channel_cleanup = now + self.adj.cleanup_interval
                self.maintenance(now)
            if not self.accepting:
                return False
            if len(self._map) < self.adj.connection_limit:
                return True
            idle = [channel for channel in self.active_channels.values() if not channel.requests and not channel.shut_down]
            for channel in heapq.nsmallest(EVICT_AT_ONCE, idle, key=waiting_since):
                channel.shut()
            # One line a minute at most (waitress's own logs two lines each time the limit is reached).
            if idle and now >= self.next_eviction_note:
                self.next_eviction_note = now + 60
                self.logger.warning("the connection limit (%d) is reached: closing the connections that have "
                                    "waited longest without a request in service", self.adj.connection_limit)
            return False

        def handle_accept(self):
            """Accept the connections waiting, up to ACCEPT_AT_ONCE and the room left: waitress accepts one
            per pass of its loop, so behind a backlog of hundreds a new client waited seconds."""
            for _ in range(max(1, min(ACCEPT_AT_ONCE, self.adj.connection_limit - len(self._map)))):
                before = len(self._map)
                super().handle_accept()
                if len(self._map) == before:
                    break

    def waiting_since(channel):
        """When a connection last made progress: the start of the request it is still receiving, or its
        last activity (a fresh connection's is when it was accepted)."""
        if channel.request is not None and channel.request_started is not None:
            return channel.request_started
        return channel.last_activity

    return SketchServer, JsonErrorTask


def make_server(app, host, port, threads, max_body=None):
    """waitress, as waitress.create_server builds it for host and port, with the limits of WAITRESS_SETTINGS
    and a body limit equal to the app's (or max_body, for an app that is not made yet: DeferredApp), and
    SketchServer's connection policy; binds the port."""
    from waitress.adjustments import Adjustments
    from waitress.server import MultiSocketServer
    from waitress.task import ThreadedTaskDispatcher

    server_class, _ = server_classes()
    adjustments = Adjustments(host=host, port=port, threads=threads, ident="sketch",
                              max_request_body_size=max_body or app.config["MAX_CONTENT_LENGTH"], **WAITRESS_SETTINGS)
    raise_open_file_limit(adjustments.connection_limit)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adjustments.threads)
    socket_map = {}
    servers = []
    try:
        for sockinfo in adjustments.listen:
            servers.append(server_class(app, socket_map, dispatcher=dispatcher, adj=adjustments, sockinfo=sockinfo))
    except OSError:
        for server in servers:
            server.close()
        dispatcher.shutdown(timeout=1)
        raise
    if len(servers) == 1:
        return servers[0]
    return MultiSocketServer(socket_map, adj=adjustments, dispatcher=dispatcher,
                             effective_listen=[(server.effective_host, server.effective_port) for server in servers],
                             log_info=servers[-1].log_info)


def raise_open_file_limit(connections):
    """Let the process hold its connections, and a file for each answer queued on them, where the hard limit
    allows: a soft limit of 1,024 would make accept() fail at about 1,000 connections."""
    import resource

    wanted = connections * (MAX_PIPELINED + 1) + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


class DeferredApp:
    """A WSGI application to be given later: serve.py binds its port with this (so that a port in use is said at
    once, not after the models load), then sets `app` before the server runs, so no request ever meets it empty."""

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)
