"""One small Flask app that serves the drawing page, the web model, TF.js, and POST /predict.

    python serve.py [--host 127.0.0.1] [--port 5000] [--model web/model] [--also web/model-body-parts ...]
                    [--threads 32] [--debug]

Everything comes from one origin: the page (web/), the models (--model at /model/, and every model at
/models/<id>/, listed by GET /models), and the few TF.js files the page needs, from the pinned npm
packages (at /vendor/). A model's id is its folder's name without "model-" ("body-parts"); --model's is
"shipped". POST /predict runs the same exported model ({"model": id}, "shipped" by default) on the same
rasterizer as the browser: it is the fallback when TF.js cannot run, and the reference the browser is
tested against. The model's files are read once, at start-up, and served from memory, so
the page always gets the model that /predict runs; a missing or broken model folder, or a port in use,
stops start-up with one line.

Staying up: the rasterizer's limits bound one drawing's cost, a PNG is checked for what its decoder will
decode (training.picture.png_to_bitmap), and a work gate lets at most PREDICT_SLOTS requests parse and
predict at once with PREDICT_WAITING more waiting; beyond that /predict answers 503 with Retry-After, so
worker threads stay free for /healthz and the page's files. Served by waitress unless --debug, with limits
on connections, idle time and body size, and with what waitress lacks (server_classes): requests that
trickle in, clients that never read or pipeline without end, and a connection limit filled by idle
clients cannot hold threads or lock others out; waitress's own refusals are JSON like the app's. On the
open internet, deploy/nginx.conf goes in front (README, "The server").

This file is the command line (main) and the names other code imports; the app lives in the server package:
server/__init__.py (create_app, the factory, and DEFAULT_CONFIG), server/page.py, server/models.py (with
Predictor), server/predict.py (with the work gate), server/health.py (blueprints), server/responses.py
(JSON errors, security headers) and server/waitress_policy.py (WAITRESS_SETTINGS, make_server).
"""

import errno
import os
import socket
import sys

from training.cli import interrupt_ends_process, interrupt_raises

if __name__ == "__main__":
    # Until the server listens, Ctrl-C ends it at once: TensorFlow's import sometimes lost the first one.
    interrupt_ends_process()

# TensorFlow's start-up notes (no GPU here, CPU instruction sets) are noise for someone starting a server.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The names tests, benches and deploy/ import from serve.py, re-exported from where they live.
from server import DEFAULT_CONFIG, ROOT, create_app  # noqa: F401
from server.models import DEFAULT_MODEL_ID, Predictor, model_id  # noqa: F401
from server.page import MAX_PATH_LENGTH, VENDOR_FILES  # noqa: F401
from server.predict import (  # noqa: F401
    MAX_JSON_COMMAS,
    PREDICT_SLOTS,
    RETRY_AFTER_SECONDS,
    BadRequest,
    Busy,
    WorkGate,
    parse_image,
    parse_json,
    parse_strokes,
    reject_constant,
    work_gate_config,
)
from server.responses import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, body_too_large  # noqa: F401
from server.waitress_policy import (  # noqa: F401
    ACCEPT_AT_ONCE,
    DEFAULT_THREADS,
    EVICT_AT_ONCE,
    MAX_PIPELINED,
    WAITRESS_SETTINGS,
    DeferredApp,
    make_server,
    raise_open_file_limit,
    refusal_message,
    server_classes,
)
from training.cli import ArgumentParser, native_stderr_captured
from training.webmodel import WebModelError


def main(argv=None):
    from training.cli import count_argument

    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="a name or address of this machine")
    parser.add_argument("--port", type=count_argument(0, 65535), default=5000,
                        help="0 lets the system choose a free port (printed once listening)")
    parser.add_argument("--model", default=DEFAULT_CONFIG["MODEL_DIR"], help="the default web model folder")
    parser.add_argument("--also", nargs="*", default=DEFAULT_CONFIG["EXTRA_MODEL_DIRS"], metavar="FOLDER",
                        help="more web model folders (default: every web/model-*)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="waitress worker threads (at least 4: predictions may hold all but two)")
    parser.add_argument("--debug", action="store_true", help="Flask's debug server instead of waitress")
    args = parser.parse_args(argv)
    if args.threads < 4:
        parser.error(f"--threads must be at least 4, got {args.threads}")
    if args.debug and args.port == 0:
        parser.error("--port 0 needs waitress: Flask's debug server would not say which port it chose")
    # Resolve the host before the model loads, so a typo costs a second and one line, not a traceback.
    try:
        socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        print(f"error: cannot listen on {args.host}:{args.port}: the host does not resolve ({reason})", file=sys.stderr)
        return 2
    config = {"MODEL_DIR": args.model, "EXTRA_MODEL_DIRS": args.also} | work_gate_config(args.threads)
    # The port first: a port in use is said in a second, not after every model has loaded.
    server, deferred = None, DeferredApp()
    try:
        if not args.debug:
            server = make_server(deferred, args.host, args.port, args.threads,
                                 max_body=DEFAULT_CONFIG["MAX_CONTENT_LENGTH"])
    except (OSError, ValueError) as error:  # waitress raises ValueError for a host it cannot use
        reason = "the port is in use" if getattr(error, "errno", None) == errno.EADDRINUSE else (
            getattr(error, "strerror", None) or str(error))
        print(f"error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
    try:
        with native_stderr_captured() as native_output:
            try:
                app = create_app(config)
            except Exception as error:
                if not isinstance(error, WebModelError):
                    native_output.seek(0)
                    sys.stderr.buffer.write(native_output.read())
                raise
    except WebModelError as error:
        if server is not None:
            server.close()
        print(f"error: {error}", file=sys.stderr)
        return 2
    deferred.app = app
    for refusal in app.extensions["refused_models"]:  # a stranger's folder: the other models still serve
        print(f"warning: {refusal}", file=sys.stderr)
    described = ", ".join(f"{key}: {len(each.labels)} classes" for key, each in app.extensions["predictors"].items())
    # The addresses actually bound (the port the system chose for --port 0; each address of a host name).
    listening = ([(args.host, args.port)] if server is None else
                 getattr(server, "effective_listen", None) or [(server.effective_host, server.effective_port)])
    addresses = ", ".join(f"http://{f'[{host}]' if ':' in str(host) else host}:{port}/" for host, port in listening)
    print(f"Serving the sketch app on {addresses} (models {described})", flush=True)
    interrupt_raises()  # From here Ctrl-C stops the server cleanly.
    if server is None:
        app.run(host=args.host, port=args.port, debug=True, use_reloader=False)
    else:
        server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
