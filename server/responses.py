"""What every answer of the sketch server carries: the security headers, Cache-Control, and errors as JSON.

Part of the server package (server/__init__.py); run the server with `python serve.py`. init_app(app) installs
the error handlers and the after-request hook on an app; SECURITY_HEADERS and body_too_large are shared
with waitress's own refusals (server/waitress_policy.py) and checked against deploy/nginx.conf.
"""

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

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
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Cross-origin isolation lets the wasm backend use SharedArrayBuffer, hence threads.
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Answers that are never stored; every other answer is a file, kept by the browser and revalidated.
NO_STORE_PATHS = ("/predict", "/healthz")


def body_too_large(limit):
    return f"request body too large (at most {limit} bytes)"


def http_error(error):
    """Flask's and werkzeug's HTTP errors (404, 405, 413...) as {"error": ...}."""
    messages = {413: body_too_large(current_app.config["MAX_CONTENT_LENGTH"]), 404: "not found",
                405: "method not allowed"}
    response = jsonify(error=messages.get(error.code, error.description))
    response.status_code = error.code
    # Keep what the error says beyond its body, such as a 405's Allow header.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def internal_error(error):
    current_app.logger.exception("unexpected error")
    return jsonify(error="internal error"), 500


def security_headers(response):
    headers = response.headers
    headers.update(SECURITY_HEADERS)
    # Answers are never stored; files are kept by the browser and revalidated by ETag, so a new model
    # (new hash) is fetched at once and an unchanged one costs a 304.
    headers["Cache-Control"] = "no-store" if request.path in NO_STORE_PATHS else "no-cache"
    return response


def init_app(app):
    """Every error as JSON (never an HTML page, never a traceback) and the headers on every answer."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, internal_error)
    app.after_request(security_headers)
