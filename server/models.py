"""The sketch server's web models: read once at start-up, their predictors, and their files served from memory.

Part of the server package (server/__init__.py); run it with `python serve.py`, then `curl localhost:5000/models`.
init_app(app) reads MODEL_DIR (id "shipped") and each of EXTRA_MODEL_DIRS (id: the folder's name without
"model-"), loads a Predictor for each, and keeps in app.extensions: "model_files" (id -> file name -> bytes),
"model_etags" (the same, each file's content hash), "predictors" (id -> Predictor) and "predictor" (the
default's). The blueprint `bp` serves GET /models, /model/<file> (the default's) and /models/<id>/<file>
from those bytes, not from the folders as they are now, so the page always gets the model /predict runs.
"""

import hashlib

import numpy as np
from flask import Blueprint, Response, abort, current_app, jsonify, request

from training.data import model_input
from training.model import mirror_average
from training.modelfolder import check_model_id, model_id  # noqa: F401  (model_id: serve.py re-exports it)
from training.raster import IMAGE_SIZE
from training.taught import beside_softmax, check_taught, class_means, unit_length
from training.webmodel import WebModelError, all_labels, load_web_model, read_model_files

bp = Blueprint("models", __name__)

DEFAULT_MODEL_ID = "shipped"


class Predictor:
    """The web model, loaded once, and a lock-free compiled forward pass for one 28x28 image (with its mirror
    image too, when the export says the page averages the two). A model with classes taught in the page
    (metadata "taught", a folder saved by "Download as a model") also names them, by the page's rule."""

    def __init__(self, model_dir, files=None):
        import tensorflow as tf
        import tf_keras as keras

        files = files if files is not None else read_model_files(model_dir)
        self.model, self.metadata = load_web_model(model_dir, files)
        self.labels = all_labels(self.metadata)
        self.model_hash = self.metadata["model_hash"]
        mirror = bool(self.metadata.get("mirror_average"))
        taught_labels, self.taught_means = check_taught(self.metadata, files, model_dir)

        def probabilities(images):
            return self.model(images, training=False)

        if not taught_labels:
            def forward(images):
                # As the page guesses: averaged with the mirror image when the export says so.
                return mirror_average(probabilities, images) if mirror else probabilities(images)
        else:
            # Taught classes also need the features of the drawing itself (not of its mirror image, as the page
            # computes them): one run of a two-output model gives both, and only the mirror image runs again.
            self.class_means = class_means(self.metadata, files)
            layer = self.model.get_layer(self.metadata["class_means"]["layer"])
            with_features = keras.Model(self.model.input, [self.model.output, layer.output])

            def forward(images):
                first, features = with_features(images, training=False)
                return ((first + probabilities(images[:, :, ::-1])) / 2 if mirror else first), features

        self._forward = tf.function(forward, input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1],
                                                                            tf.float32)])
        self.predict([0] * IMAGE_SIZE * IMAGE_SIZE)  # Trace once now, not on the first request.

    def predict(self, bitmap):
        output = self._forward(model_input(bitmap))
        if self.taught_means is None:
            probabilities = output.numpy()[0]
        else:
            probabilities, features = (part.numpy() for part in output)
            probabilities = beside_softmax(probabilities, unit_length(features), self.class_means, self.taught_means)[0]
        order = np.argsort(-probabilities, kind="stable")
        return [{"label": self.labels[i], "probability": float(probabilities[i])} for i in order]


def init_app(app):
    """Read every model folder through the gate (training.modelfolder) and load its predictor (config
    PREDICTOR, if given, stands in for the default's). A missing or broken default folder raises WebModelError
    naming it; any other folder that the gate refuses, or whose id another folder has, is left out, with one
    line naming it and the reason in app.extensions["refused_models"], and the other models still serve."""
    model_files = {DEFAULT_MODEL_ID: read_model_files(app.config["MODEL_DIR"])}
    predictor = app.config.get("PREDICTOR") or Predictor(app.config["MODEL_DIR"], model_files[DEFAULT_MODEL_ID])
    predictors = {DEFAULT_MODEL_ID: predictor}
    refused = []
    for folder in app.config["EXTRA_MODEL_DIRS"]:
        try:
            identifier = check_model_id(folder)
            if identifier in model_files:
                raise WebModelError(f"model folder {folder}: a second model with the id {identifier!r}")
            files = read_model_files(folder)
            predictors[identifier] = Predictor(folder, files)
            model_files[identifier] = files
        except WebModelError as error:
            refused.append(f"left out {error}")
        except ValueError as error:  # Keras refusing what the gate let through: still this folder's alone
            refused.append(f"left out model folder {folder}: {str(error).splitlines()[0][:200] if str(error) else error!r}")
    app.extensions["predictor"] = predictor
    app.extensions["predictors"] = predictors
    app.extensions["model_files"] = model_files
    app.extensions["refused_models"] = refused
    # Each model file's ETag, its content's hash, computed once: a new model is fetched at once, an
    # unchanged one costs a 304.
    app.extensions["model_etags"] = {
        model: {name: hashlib.sha256(data).hexdigest()[:32] for name, data in files.items()}
        for model, files in model_files.items()}


def model_file_response(model, name):
    """The bytes read at start-up, not the folder as it is now: only the files the gate read (model.json,
    metadata.json, the manifest's shards and the files metadata.json names), never anything else there."""
    model_files = current_app.extensions["model_files"]
    if model not in model_files or name not in model_files[model]:
        abort(404)
    mimetype = "application/json" if name.endswith(".json") else "application/octet-stream"
    response = Response(model_files[model][name], mimetype=mimetype)
    response.set_etag(current_app.extensions["model_etags"][model][name])
    return response.make_conditional(request)


@bp.get("/model/<path:name>")
def model_file(name):
    return model_file_response(DEFAULT_MODEL_ID, name)


@bp.get("/models/<model>/<path:name>")
def any_model_file(model, name):
    return model_file_response(model, name)


@bp.get("/models")
def models():
    predictors = current_app.extensions["predictors"]
    return jsonify(models=[{"id": key, "classes": len(each.labels), "model": each.model_hash,
                            "default": key == DEFAULT_MODEL_ID} for key, each in predictors.items()])
