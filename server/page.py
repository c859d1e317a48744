"""The sketch server's page: index.html and the files under web/, and the TF.js files it needs from node_modules.

Part of the server package (server/__init__.py); run it with `python serve.py`, then open http://127.0.0.1:5000/.
init_app(app) resolves WEB_DIR and NODE_MODULES once into app.extensions ("web_dir", "node_modules"); the
blueprint `bp` serves GET /, /<file> (web/; folders are not listed, nothing outside it is served, not even
through a symbolic link, and nothing from a model folder: web/model/ and web/model-*/ may come from a stranger,
and a page or script there would run as this origin's) and /vendor/<name> (only VENDOR_FILES, from the pinned
npm packages). The model files are server/models.py's: only the files its gate read.
"""

import mimetypes
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory
from werkzeug.exceptions import MethodNotAllowed

bp = Blueprint("page", __name__)

# The TF.js files the page needs, by the name the page asks for, from the pinned npm packages.
VENDOR_FILES = {
    "tf.es2017.min.js": "@tensorflow/tfjs/dist/tf.es2017.min.js",
    "tf-backend-wasm.es2017.min.js": "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js",
    "tfjs-backend-wasm.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm-simd.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm":
        "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
}
MAX_PATH_LENGTH = 200  # characters of a file path in a URL; no file we serve has a longer one

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/manifest+json", ".webmanifest")


def init_app(app):
    app.extensions["web_dir"] = Path(app.config["WEB_DIR"]).resolve()
    app.extensions["node_modules"] = Path(app.config["NODE_MODULES"]).resolve()


def is_model_folder_path(relative):
    """Whether a path relative to web/ lies in a model folder (web/model/, web/model-*/), whose files only the
    model routes serve."""
    first = Path(relative).parts[0] if Path(relative).parts else ""
    return first == "model" or first.startswith("model-")


def static_file(directory, name, refuse_model_folders=False):
    """A file under directory by its URL path; 404 for anything else, however long or odd the path: a path with
    an empty, "." or ".." segment (which would be tidied into another path), a folder, a path that a symbolic
    link leads outside directory (directory is resolved already), and, with refuse_model_folders, a file whose
    real place is in a model folder, however the path names it."""
    if len(name) > MAX_PATH_LENGTH or any(part in ("", ".", "..") for part in name.split("/")):
        abort(404)
    try:
        path = directory / name
        resolved = path.resolve()
        if path.is_dir() or not resolved.is_relative_to(directory):
            abort(404)
        if refuse_model_folders and is_model_folder_path(resolved.relative_to(directory)):
            abort(404)
        return send_from_directory(directory, name)
    except (OSError, ValueError):
        abort(404)


@bp.get("/")
def index():
    return send_from_directory(current_app.extensions["web_dir"], "index.html")


@bp.get("/vendor/<name>")
def vendor_file(name):
    if name not in VENDOR_FILES:
        abort(404)
    return static_file(current_app.extensions["node_modules"], VENDOR_FILES[name])


@bp.get("/<path:name>")
def web_file(name):
    # send_from_directory refuses paths that leave web_dir; folders are not listed.
    if name == "predict":
        raise MethodNotAllowed(valid_methods=["POST"])
    if name.startswith("models/") or is_model_folder_path(name):
        abort(404)
    return static_file(current_app.extensions["web_dir"], name, refuse_model_folders=True)
