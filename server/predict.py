"""POST /predict for the sketch server: a drawing (strokes or a canvas PNG) in, every class's probability out.

Part of the server package (server/__init__.py); run it with `python serve.py`, then
`curl -H 'Content-Type: application/json' -d '{"strokes": [[[0, 50], [0, 80]]]}' localhost:5000/predict`.
The blueprint `bp` holds the route; init_app(app) puts the work gate in app.extensions["work_gate"]. Parsing
(bounded by MAX_JSON_COMMAS before json.loads), rasterizing and the PNG checks name what is wrong as a 400;
the work gate answers 503 with Retry-After when every slot and waiting place is taken.
"""

import base64
import binascii
import contextlib
import json
import threading

from flask import Blueprint, current_app, jsonify, request

from training import raster
from training.picture import PNG_SIGNATURE, png_to_bitmap
from training.raster import MAX_POINTS, MAX_STROKES

from .models import DEFAULT_MODEL_ID

bp = Blueprint("predict", __name__)

RETRY_AFTER_SECONDS = 1
# Predictions computing at once: one per core here (work_gate_config gives the rest of the threads to waiting).
PREDICT_SLOTS = 2
# Commas a body may hold: a drawing within the limits has at most 3 numbers a point (x, y and an ignored
# time) and a few per stroke. Parsing JSON holds the GIL throughout (a 2 MB body of a million numbers took
# 0.2-0.4 s of a core here, and every other thread, /healthz's included, waited for it), so its cost is
# bounded by what a drawing needs before it is parsed, not only by its bytes.
MAX_JSON_COMMAS = 4 * MAX_POINTS + 4 * MAX_STROKES + 64


class BadRequest(ValueError):
    """The client sent something we cannot predict on; the message says what."""


def reject_constant(name):
    raise BadRequest(f"{name} is not a number JSON allows")


def parse_json(body):
    """The request body as JSON; BadRequest for more than MAX_JSON_COMMAS commas (before parsing), NaN or
    infinity (naming it) and anything not JSON."""
    commas = body.count(b",")
    if commas > MAX_JSON_COMMAS:
        raise BadRequest(f"the body holds {commas:,} commas; a drawing within the limits needs at most "
                         f"{MAX_JSON_COMMAS:,}")
    try:
        return json.loads(body, parse_constant=reject_constant)
    except BadRequest:
        raise
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None


class Busy(Exception):
    """Every prediction slot and waiting place is taken; the client should retry shortly."""


class WorkGate:
    """At most `slots` predictions compute at once and `waiting` more wait for a slot; others get Busy.

    Waiting holds a server thread, so slots + waiting stays below the server's threads: the rest serve
    /healthz and the page's files however many predictions arrive.
    """

    def __init__(self, slots, waiting):
        self.slot_count, self.waiting_count = slots, waiting
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


def work_gate_config(threads):
    """The gate's share of a server's threads: computing and waiting predictions leave two threads free."""
    slots = min(PREDICT_SLOTS, threads - 2)
    return {"PREDICT_SLOTS": slots, "PREDICT_WAITING": threads - 2 - slots}


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
    """A data:image/png;base64 URL to the model's input: what the decoder will decode is checked before it
    decodes (training.picture.png_to_bitmap), so a PNG's cost is bounded by max_side, whatever it claims."""
    from PIL import Image

    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise BadRequest("'image' must be a data URL starting with data:image/png;base64,")
    try:
        png = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("'image' is not valid base64") from None
    if not png.startswith(PNG_SIGNATURE):
        raise BadRequest("'image' is not a PNG")
    try:
        return png_to_bitmap(png, max_side)
    except ValueError as error:
        raise BadRequest(f"'image' is {error}" if str(error)[:1].isdigit() else f"'image': {error}") from None
    except (OSError, SyntaxError, Image.DecompressionBombError):
        raise BadRequest("'image' is not a readable PNG") from None


def init_app(app):
    """The work gate, sized by PREDICT_SLOTS and PREDICT_WAITING, shared by every request to this app."""
    app.extensions["work_gate"] = WorkGate(app.config["PREDICT_SLOTS"], app.config["PREDICT_WAITING"])


@bp.post("/predict")
def predict():
    if request.mimetype != "application/json":
        return jsonify(error="send the drawing as JSON with Content-Type: application/json"), 415
    predictors = current_app.extensions["predictors"]
    try:
        # Parsing is work like predicting (it holds the GIL throughout; parse_json bounds it by counting
        # commas first), so it takes a place in the gate too: 30 clients posting 2 MB bodies then make
        # the rest wait or retry, while /healthz and the files keep their threads.
        with current_app.extensions["work_gate"].enter():
            payload = parse_json(request.get_data(cache=False))
            if not isinstance(payload, dict):
                raise BadRequest("the body must be a JSON object with 'strokes' or 'image'")
            unknown = sorted(set(payload) - {"strokes", "image", "model"})
            if unknown:
                # Each name cut to 40 characters, and at most 3 named: the answer never grows with the request.
                named = ", ".join(name[:40] for name in unknown[:3])
                raise BadRequest(f"unknown field(s): {named}{f' and {len(unknown) - 3} more' if len(unknown) > 3 else ''}"
                                 " (known: strokes, image, model)")
            if ("strokes" in payload) == ("image" in payload):
                raise BadRequest("give exactly one of 'strokes' or 'image'")
            chosen = payload.get("model", DEFAULT_MODEL_ID)
            if not isinstance(chosen, str) or chosen not in predictors:
                raise BadRequest(f"unknown model {json.dumps(chosen)[:40]} (known: {', '.join(predictors)})")
            if "strokes" in payload:
                bitmap = parse_strokes(payload["strokes"])
            else:
                bitmap = parse_image(payload["image"], current_app.config["MAX_IMAGE_SIDE"])
            predictions = predictors[chosen].predict(bitmap)
    except BadRequest as error:
        return jsonify(error=str(error)), 400
    except Busy:
        response = jsonify(error=f"the server is busy; retry in {RETRY_AFTER_SECONDS} s")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, 503
    return jsonify(predictions=predictions, model=predictors[chosen].model_hash)
