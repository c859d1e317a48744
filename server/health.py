"""GET /healthz for the sketch server: "ok" and the hash and classes of every model it serves.

Part of the server package (server/__init__.py); run it with `python serve.py`, then `curl localhost:5000/healthz`.
It reads only what server/models.py keeps in app.extensions, so it answers however busy /predict is: the
work gate (server/predict.py) leaves it threads.
"""

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    predictor = current_app.extensions["predictor"]
    predictors = current_app.extensions["predictors"]
    return jsonify(status="ok", model=predictor.model_hash, classes=len(predictor.labels),
                   models={key: each.model_hash for key, each in predictors.items()})
