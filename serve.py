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

Staying up: the rasterizer's limits bound one drawing's cost, and a work gate lets at most PREDICT_SLOTS
predictions compute at once with PREDICT_WAITING more waiting; beyond that /predict answers 503 with
Retry-After, so worker threads stay free for /healthz and the page's files. Served by waitress unless
--debug, with limits on connections, idle time and body size (the README says how to deploy it behind a
reverse proxy on the open internet).
"""

import base64
import binascii
import contextlib
import errno
import hashlib
import io
import json
import mimetypes
import os
import struct
import sys
import threading
from pathlib import Path

# TensorFlow's start-up notes (no GPU here, CPU instruction sets) are noise for someone starting a server.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from flask import Flask, Response, abort, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from training import raster
from training.cli import ArgumentParser, native_stderr_captured
from training.data import model_input
from training.picture import image_to_bitmap
from training.raster import IMAGE_SIZE
from training.webmodel import WebModelError, load_web_model, read_model_files

ROOT = Path(__file__).resolve().parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The TF.js files the page needs, by the name the page asks for, from the pinned npm packages.
VENDOR_FILES = {
    "tf.es2017.min.js": "@tensorflow/tfjs/dist/tf.es2017.min.js",
    "tf-backend-wasm.es2017.min.js": "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js",
    "tfjs-backend-wasm.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm-simd.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm":
        "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
}

DEFAULT_CONFIG = {
    "MODEL_DIR": str(ROOT / "web" / "model"),
    # More models that POST /predict can run ({"model": id}) and the page can pick; each folder's files are
    # read at start-up like the default's.
    "EXTRA_MODEL_DIRS": [str(path) for path in sorted((ROOT / "web").glob("model-*")) if path.is_dir()],
    "WEB_DIR": str(ROOT / "web"),
    "NODE_MODULES": str(ROOT / "node_modules"),
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,   # bytes of request body; more is answered 413
    "MAX_IMAGE_SIDE": 4096,                  # pixels; larger PNGs are refused before decoding
    # Predictions computing at once (one per core here) and waiting beyond them; more are answered 503.
    "PREDICT_SLOTS": 2,
    "PREDICT_WAITING": 4,
}
RETRY_AFTER_SECONDS = 1
DEFAULT_THREADS = 32  # waitress threads; waiting on the work gate costs a thread, not a core
MAX_PATH_LENGTH = 200  # characters of a file path in a URL; no file we serve has a longer one
WAITRESS_SETTINGS = {
    "connection_limit": 1000,   # open connections; idle ones cost a socket, not a thread
    "channel_timeout": 30,      # seconds a connection may sit idle (or half-sent) before it is closed
    "cleanup_interval": 5,      # seconds between checks for such connections
    "asyncore_use_poll": True,  # poll() rather than select(), which cannot watch more than 1024 sockets
    "max_request_header_size": 64 * 1024,
}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    # 'wasm-unsafe-eval': the wasm backend compiles WebAssembly. blob:: the threaded wasm backend's workers
    # importScripts() its glue code from a blob URL, which only script already running here can create.
    "script-src 'self' 'wasm-unsafe-eval' blob:",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",                # threaded wasm starts its workers from blob URLs
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/manifest+json", ".webmanifest")


class BadRequest(ValueError):
    """The client sent something we cannot predict on; the message says what."""


def reject_constant(name):
    raise BadRequest(f"{name} is not a number JSON allows")


class Busy(Exception):
    """Every prediction slot and waiting place is taken; the client should retry shortly."""


class WorkGate:
    """At most `slots` predictions compute at once and `waiting` more wait for a slot; others get Busy.

    Waiting holds a server thread, so slots + waiting stays below the server's threads: the rest serve
    /healthz and the page's files however many predictions arrive.
    """

    def __init__(self, slots, waiting):
        self.slots = threading.Semaphore(slots)
        self.places = threading.Semaphore(slots + waiting)

    @contextlib.contextmanager
    def enter(self):
        if not self.places.acquire(blocking=False):
            raise Busy()
        try:
            with self.slots:
                yield
        finally:
            self.places.release()


def parse_strokes(strokes):
    """Rasterize the strokes; the rasterizer's checks (shape, numbers, limits) name any bad value."""
    if not isinstance(strokes, list):
        raise BadRequest("'strokes' must be a list of strokes, each [[x...], [y...]]")
    if len(strokes) == 0:
        raise BadRequest("the drawing is empty: 'strokes' has no strokes")
    try:
        return raster.rasterize(strokes)
    except ValueError as error:
        raise BadRequest(str(error)) from None


def parse_image(data_url, max_side):
    """A data:image/png;base64 URL to the model's input; the size is checked before decoding."""
    from PIL import Image

    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise BadRequest("'image' must be a data URL starting with data:image/png;base64,")
    try:
        png = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("'image' is not valid base64") from None
    if not png.startswith(PNG_SIGNATURE) or len(png) < 24 or png[12:16] != b"IHDR":
        raise BadRequest("'image' is not a PNG")
    width, height = struct.unpack(">II", png[16:24])
    if width == 0 or height == 0 or width > max_side or height > max_side:
        raise BadRequest(f"'image' is {width}x{height} pixels (at most {max_side}x{max_side})")
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            return image_to_bitmap(image)
    except BadRequest:
        raise
    except ValueError as error:
        raise BadRequest(f"'image': {error}") from None
    except (OSError, SyntaxError, Image.DecompressionBombError):
        raise BadRequest("'image' is not a readable PNG") from None


class Predictor:
    """The web model, loaded once, and a lock-free compiled forward pass for one 28x28 image (with its mirror
    image too, when the export says the page averages the two)."""

    def __init__(self, model_dir, files=None):
        import tensorflow as tf

        self.model, self.metadata = load_web_model(model_dir, files)
        self.labels = self.metadata["labels"]
        self.model_hash = self.metadata["model_hash"]
        mirror = bool(self.metadata.get("mirror_average"))

        def forward(images):
            probabilities = self.model(images, training=False)
            if mirror:  # As the page guesses (training.model.mirror_average): averaged with the mirror image.
                probabilities = (probabilities + self.model(tf.reverse(images, [2]), training=False)) / 2
            return probabilities

        self._forward = tf.function(forward, input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1],
                                                                            tf.float32)])
        self.predict([0] * IMAGE_SIZE * IMAGE_SIZE)  # Trace once now, not on the first request.

    def predict(self, bitmap):
        probabilities = self._forward(model_input(bitmap)).numpy()[0]
        order = np.argsort(-probabilities, kind="stable")
        return [{"label": self.labels[i], "probability": float(probabilities[i])} for i in order]


DEFAULT_MODEL_ID = "shipped"


def model_id(folder):
    """A model folder's id in URLs and in POST /predict: its name without "model-"."""
    return Path(folder).name.removeprefix("model-")


def create_app(config=None):
    """The application factory (as in Flask's tutorial); config overrides DEFAULT_CONFIG."""
    app = Flask(__name__, static_folder=None)
    app.config.update(DEFAULT_CONFIG)
    app.config.update(config or {})
    model_files = {DEFAULT_MODEL_ID: read_model_files(app.config["MODEL_DIR"])}
    for folder in app.config["EXTRA_MODEL_DIRS"]:
        if model_id(folder) in model_files:
            raise WebModelError(f"model folder {folder}: a second model with the id {model_id(folder)!r}")
        model_files[model_id(folder)] = read_model_files(folder)
    predictor = app.config.get("PREDICTOR") or Predictor(app.config["MODEL_DIR"], model_files[DEFAULT_MODEL_ID])
    predictors = {DEFAULT_MODEL_ID: predictor} | {
        model_id(folder): Predictor(folder, model_files[model_id(folder)]) for folder in app.config["EXTRA_MODEL_DIRS"]}
    app.extensions["predictor"] = predictor
    app.extensions["predictors"] = predictors
    gate = WorkGate(app.config["PREDICT_SLOTS"], app.config["PREDICT_WAITING"])
    web_dir = Path(app.config["WEB_DIR"]).resolve()
    node_modules = Path(app.config["NODE_MODULES"]).resolve()

    @app.errorhandler(HTTPException)
    def http_error(error):
        messages = {413: f"request body too large (at most {app.config['MAX_CONTENT_LENGTH']} bytes)",
                    404: "not found", 405: "method not allowed"}
        response = jsonify(error=messages.get(error.code, error.description))
        response.status_code = error.code
        # Keep what the error says beyond its body, such as a 405's Allow header.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    def static_file(directory, name):
        """A file under directory by its URL path; 404 for anything else, however long or odd the path."""
        if len(name) > MAX_PATH_LENGTH:
            abort(404)
        try:
            if (directory / name).is_dir():
                abort(404)
            return send_from_directory(directory, name)
        except (OSError, ValueError):
            abort(404)

    @app.errorhandler(Exception)
    def internal_error(error):
        app.logger.exception("unexpected error")
        return jsonify(error="internal error"), 500

    @app.get("/")
    def index():
        return send_from_directory(web_dir, "index.html")

    # Each model file's ETag, its content's hash, computed once: a new model is fetched at once, an
    # unchanged one costs a 304.
    etags = {model: {name: hashlib.sha256(data).hexdigest()[:32] for name, data in files.items()}
             for model, files in model_files.items()}

    def model_file_response(model, name):
        """The bytes read at start-up, not the folder as it is now."""
        if model not in model_files or name not in model_files[model]:
            abort(404)
        mimetype = "application/json" if name.endswith(".json") else "application/octet-stream"
        response = Response(model_files[model][name], mimetype=mimetype)
        response.set_etag(etags[model][name])
        return response.make_conditional(request)

    @app.get("/model/<path:name>")
    def model_file(name):
        return model_file_response(DEFAULT_MODEL_ID, name)

    @app.get("/models/<model>/<path:name>")
    def any_model_file(model, name):
        return model_file_response(model, name)

    @app.get("/models")
    def models():
        return jsonify(models=[{"id": key, "classes": len(each.labels), "model": each.model_hash,
                                "default": key == DEFAULT_MODEL_ID} for key, each in predictors.items()])

    @app.get("/vendor/<name>")
    def vendor_file(name):
        if name not in VENDOR_FILES:
            abort(404)
        return static_file(node_modules, VENDOR_FILES[name])

    @app.get("/<path:name>")
    def web_file(name):
        # send_from_directory refuses paths that leave web_dir; folders are not listed.
        if name == "predict":
            raise MethodNotAllowed(valid_methods=["POST"])
        if name.startswith(("model/", "models/")):
            abort(404)
        return static_file(web_dir, name)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", model=predictor.model_hash, classes=len(predictor.labels),
                       models={key: each.model_hash for key, each in predictors.items()})

    @app.post("/predict")
    def predict():
        if request.mimetype != "application/json":
            return jsonify(error="send the drawing as JSON with Content-Type: application/json"), 415
        body = request.get_data(cache=False)
        try:
            payload = json.loads(body, parse_constant=reject_constant)
        except BadRequest as error:
            return jsonify(error=str(error)), 400
        except (ValueError, RecursionError):
            return jsonify(error="the body is not valid JSON"), 400
        try:
            if not isinstance(payload, dict):
                raise BadRequest("the body must be a JSON object with 'strokes' or 'image'")
            unknown = sorted(set(payload) - {"strokes", "image", "model"})
            if unknown:
                raise BadRequest(f"unknown field(s): {', '.join(map(str, unknown))}")
            if ("strokes" in payload) == ("image" in payload):
                raise BadRequest("give exactly one of 'strokes' or 'image'")
            chosen = payload.get("model", DEFAULT_MODEL_ID)
            if not isinstance(chosen, str) or chosen not in predictors:
                raise BadRequest(f"unknown model {json.dumps(chosen)[:40]} (known: {', '.join(predictors)})")
            with gate.enter():
                if "strokes" in payload:
                    bitmap = parse_strokes(payload["strokes"])
                else:
                    bitmap = parse_image(payload["image"], app.config["MAX_IMAGE_SIDE"])
                predictions = predictors[chosen].predict(bitmap)
        except BadRequest as error:
            return jsonify(error=str(error)), 400
        except Busy:
            response = jsonify(error=f"the server is busy; retry in {RETRY_AFTER_SECONDS} s")
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response, 503
        return jsonify(predictions=predictions, model=predictors[chosen].model_hash)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        # Cross-origin isolation lets the wasm backend use SharedArrayBuffer, hence threads.
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Embedder-Policy"] = "require-corp"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        # Answers are never stored; files are kept by the browser and revalidated by ETag, so a new model
        # (new hash) is fetched at once and an unchanged one costs a 304.
        headers["Cache-Control"] = "no-store" if request.path in ("/predict", "/healthz") else "no-cache"
        return response

    return app


def work_gate_config(threads):
    """The gate's share of a server's threads: computing and waiting predictions leave two threads free."""
    slots = min(DEFAULT_CONFIG["PREDICT_SLOTS"], threads - 2)
    return {"PREDICT_SLOTS": slots, "PREDICT_WAITING": threads - 2 - slots}


def make_server(app, host, port, threads):
    """waitress with the limits of WAITRESS_SETTINGS and a body limit equal to the app's; binds the port."""
    import waitress

    return waitress.create_server(app, host=host, port=port, threads=threads, ident="sketch",
                                  max_request_body_size=app.config["MAX_CONTENT_LENGTH"], **WAITRESS_SETTINGS)


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--model", default=DEFAULT_CONFIG["MODEL_DIR"], help="the default web model folder")
    parser.add_argument("--also", nargs="*", default=DEFAULT_CONFIG["EXTRA_MODEL_DIRS"], metavar="FOLDER",
                        help="more web model folders (default: every web/model-*)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="waitress worker threads (at least 4: predictions may hold all but two)")
    parser.add_argument("--debug", action="store_true", help="Flask's debug server instead of waitress")
    args = parser.parse_args(argv)
    if args.threads < 4:
        parser.error(f"--threads must be at least 4, got {args.threads}")
    config = {"MODEL_DIR": args.model, "EXTRA_MODEL_DIRS": args.also} | work_gate_config(args.threads)
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
        print(f"error: {error}", file=sys.stderr)
        return 2
    server = None
    try:
        if not args.debug:
            server = make_server(app, args.host, args.port, args.threads)
    except OSError as error:
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror or str(error)
        print(f"error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
    described = ", ".join(f"{key}: {len(each.labels)} classes" for key, each in app.extensions["predictors"].items())
    print(f"Serving the sketch app on http://{args.host}:{args.port}/ (models {described})", flush=True)
    if server is None:
        app.run(host=args.host, port=args.port, debug=True, use_reloader=False)
    else:
        server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
