"""The sketch server's Flask app: create_app(config), the application factory, as in Flask's tutorial (flaskr).

Run it with `python serve.py` (serve.py holds the command line and serves the app through waitress), or in
a test: `create_app({"TESTING": True}).test_client()`. config overrides DEFAULT_CONFIG, whose work gate is
the one `python serve.py` runs with its default 32 threads (2 predicting, 28 waiting). The app is the
blueprints of this package, each with the state it shares kept in app.extensions, not in closures:

    page.py        GET /, the files under web/, /vendor/ (TF.js from node_modules)
    models.py      the models, read and loaded once; GET /models, /model/..., /models/<id>/...
    predict.py     POST /predict, its parsing and its work gate
    health.py      GET /healthz
    responses.py   errors as JSON, the security headers and Cache-Control on every answer
    waitress_policy.py   waitress's settings and what it lacks against hostile clients (make_server)
"""

import os
from pathlib import Path

# TensorFlow's start-up notes (no GPU here, CPU instruction sets) are noise for someone starting a server.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from flask import Flask

from . import health, models, page, predict, responses
from .predict import work_gate_config
from .waitress_policy import DEFAULT_THREADS

ROOT = Path(__file__).resolve().parent.parent


def model_folders(web_dir):
    """The extra model folders `python serve.py` (and so `make run`) serves by default: every web/model-*
    folder, in name order (a ZIP unpacked by training.unpack lands there)."""
    return [str(path) for path in sorted(Path(web_dir).glob("model-*")) if path.is_dir()]


DEFAULT_CONFIG = {
    "MODEL_DIR": str(ROOT / "web" / "model"),
    # More models that POST /predict can run ({"model": id}) and the page can pick; each folder's files are
    # read at start-up like the default's.
    "EXTRA_MODEL_DIRS": model_folders(ROOT / "web"),
    "WEB_DIR": str(ROOT / "web"),
    "NODE_MODULES": str(ROOT / "node_modules"),
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,   # bytes of request body; more is answered 413
    "MAX_IMAGE_SIDE": 4096,                  # pixels; larger PNGs are refused before decoding
    # Predictions computing at once (PREDICT_SLOTS, one per core here) and waiting beyond them
    # (PREDICT_WAITING); more are answered 503. As `python serve.py` runs them with its default threads: 2
    # and 28, leaving 2 of the 32 threads for /healthz and the files. With fewer threads, pass
    # work_gate_config(threads), as serve.py's main() does for --threads.
    **work_gate_config(DEFAULT_THREADS),
}


def create_app(config=None):
    """The application factory (as in Flask's tutorial); config overrides DEFAULT_CONFIG. Reads and loads
    every model (WebModelError names a missing or broken one) and registers the blueprints."""
    app = Flask(__name__, static_folder=None)
    app.config.update(DEFAULT_CONFIG)
    app.config.update(config or {})
    models.init_app(app)
    predict.init_app(app)
    page.init_app(app)
    responses.init_app(app)
    for blueprint in (page.bp, models.bp, predict.bp, health.bp):
        app.register_blueprint(blueprint)
    return app
