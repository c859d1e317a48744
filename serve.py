"""One small Flask app that serves the drawing page, the web model, TF.js, and POST /predict.

    python serve.py [--host 127.0.0.1] [--port 5000] [--model web/model] [--debug]

Everything comes from one origin: the page (web/), the model (--model, at /model/), and the few TF.js
files the page needs, from the pinned npm packages (at /vendor/). POST /predict runs the same exported
model on the same rasterizer as the browser: it is the fallback when TF.js cannot run, and the reference
the browser is tested against. The model is loaded once, at start-up; a missing or broken model folder
stops start-up with one line. Served by waitress unless --debug.
"""

import base64
import binascii
import io
import json
import mimetypes
import os
import struct
import sys
from pathlib import Path

# TensorFlow's start-up notes (no GPU here, CPU instruction sets) are noise for someone starting a server.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from flask import Flask, abort, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from training import raster
from training.cli import ArgumentParser
from training.webmodel import WebModelError, load_web_model

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
    "WEB_DIR": str(ROOT / "web"),
    "NODE_MODULES": str(ROOT / "node_modules"),
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,   # bytes of request body; more is answered 413
    "MAX_STROKES": 200,
    "MAX_POINTS": 20_000,                    # points over all strokes
    "MAX_IMAGE_SIDE": 4096,                  # pixels; larger PNGs are refused before decoding
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


def parse_strokes(strokes, max_strokes, max_points):
    """Enforce the payload limits, then rasterize; the rasterizer's own checks name any bad value."""
    if not isinstance(strokes, list):
        raise BadRequest("'strokes' must be a list of strokes, each [[x...], [y...]]")
    if len(strokes) == 0:
        raise BadRequest("the drawing is empty: 'strokes' has no strokes")
    if len(strokes) > max_strokes:
        raise BadRequest(f"too many strokes: {len(strokes)} (at most {max_strokes})")
    total = 0
    for index, stroke in enumerate(strokes):
        if not isinstance(stroke, list) or len(stroke) not in (2, 3) \
                or not all(isinstance(row, list) for row in stroke):
            raise BadRequest(f"stroke {index} must be [[x...], [y...]] (an optional third time row is ignored)")
        total += len(stroke[0])
        if total > max_points:
            raise BadRequest(f"too many points (at most {max_points} over all strokes)")
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
            return raster.image_to_bitmap(image)
    except BadRequest:
        raise
    except ValueError as error:
        raise BadRequest(f"'image': {error}") from None
    except (OSError, SyntaxError, Image.DecompressionBombError):
        raise BadRequest("'image' is not a readable PNG") from None


class Predictor:
    """The web model, loaded once, and a lock-free compiled forward pass for one 28x28 image."""

    def __init__(self, model_dir):
        import tensorflow as tf

        self.model, self.metadata = load_web_model(model_dir)
        self.labels = self.metadata["labels"]
        self.model_hash = self.metadata["model_hash"]
        self._forward = tf.function(lambda images: self.model(images, training=False),
                                    input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        self.predict([0] * 784)  # Trace once now, not on the first request.

    def predict(self, bitmap):
        images = (np.asarray(bitmap, dtype=np.float32) / 255.0).reshape(1, 28, 28, 1)
        probabilities = self._forward(images).numpy()[0]
        order = np.argsort(-probabilities, kind="stable")
        return [{"label": self.labels[i], "probability": float(probabilities[i])} for i in order]


def create_app(config=None):
    """The application factory (as in Flask's tutorial); config overrides DEFAULT_CONFIG."""
    app = Flask(__name__, static_folder=None)
    app.config.update(DEFAULT_CONFIG)
    app.config.update(config or {})
    predictor = app.config.get("PREDICTOR") or Predictor(app.config["MODEL_DIR"])
    app.extensions["predictor"] = predictor
    web_dir = Path(app.config["WEB_DIR"]).resolve()
    model_dir = Path(app.config["MODEL_DIR"]).resolve()
    node_modules = Path(app.config["NODE_MODULES"]).resolve()

    @app.errorhandler(HTTPException)
    def http_error(error):
        messages = {413: f"request body too large (at most {app.config['MAX_CONTENT_LENGTH']} bytes)",
                    404: "not found", 405: "method not allowed"}
        response = jsonify(error=messages.get(error.code, error.description))
        response.status_code = error.code
        return response

    @app.errorhandler(Exception)
    def internal_error(error):
        app.logger.exception("unexpected error")
        return jsonify(error="internal error"), 500

    @app.get("/")
    def index():
        return send_from_directory(web_dir, "index.html")

    @app.get("/model/<path:name>")
    def model_file(name):
        return send_from_directory(model_dir, name)

    @app.get("/vendor/<name>")
    def vendor_file(name):
        if name not in VENDOR_FILES:
            abort(404)
        return send_from_directory(node_modules, VENDOR_FILES[name])

    @app.get("/<path:name>")
    def web_file(name):
        # send_from_directory refuses paths that leave web_dir; folders are not listed.
        if name == "predict":
            abort(405)
        if name.startswith("model/") or (web_dir / name).is_dir():
            abort(404)
        return send_from_directory(web_dir, name)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", model=predictor.model_hash, classes=len(predictor.labels))

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
            unknown = sorted(set(payload) - {"strokes", "image"})
            if unknown:
                raise BadRequest(f"unknown field(s): {', '.join(map(str, unknown))}")
            if ("strokes" in payload) == ("image" in payload):
                raise BadRequest("give exactly one of 'strokes' or 'image'")
            if "strokes" in payload:
                bitmap = parse_strokes(payload["strokes"], app.config["MAX_STROKES"], app.config["MAX_POINTS"])
            else:
                bitmap = parse_image(payload["image"], app.config["MAX_IMAGE_SIDE"])
        except BadRequest as error:
            return jsonify(error=str(error)), 400
        return jsonify(predictions=predictor.predict(bitmap), model=predictor.model_hash)

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
        if request.path.startswith("/model/") or request.path.startswith("/vendor/"):
            # Kept by the browser and revalidated by ETag: a new model (new hash) is fetched at once,
            # an unchanged one costs a 304.
            headers["Cache-Control"] = "no-cache"
        elif request.path in ("/predict", "/healthz"):
            headers["Cache-Control"] = "no-store"
        else:
            headers["Cache-Control"] = "no-cache"
        return response

    return app


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--model", default=DEFAULT_CONFIG["MODEL_DIR"], help="web model folder")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--debug", action="store_true", help="Flask's debug server instead of waitress")
    args = parser.parse_args(argv)
    try:
        app = create_app({"MODEL_DIR": args.model})
    except WebModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Serving the sketch app on http://{args.host}:{args.port}/ (model {args.model}, "
          f"{len(app.extensions['predictor'].labels)} classes)", flush=True)
    if args.debug:
        app.run(host=args.host, port=args.port, debug=True, use_reloader=False)
    else:
        import waitress

        waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="sketch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
