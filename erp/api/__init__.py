"""The JSON API's host side: ``/api/v1``, token authentication, errors, rate limit, OpenAPI.

Modules contribute flask-smorest blueprints (``registry.add(ApiBlueprint(blp))``); the host
mounts them under ``/api/v1`` on one :class:`flask_smorest.Api`, whose OpenAPI document
(generated from the blueprints' marshmallow schemas) is served at
``/api/v1/openapi.json``. Every API request is authenticated by a per-user token
(``Authorization: Bearer mos_...``), never by the session cookie, so the API needs no
CSRF token and a browser session cannot be ridden into it.
"""

from __future__ import annotations

import hashlib

import flask_smorest
from flask import Flask, current_app, g, request
from flask_limiter import Limiter

from ..registry import ApiBlueprint
from .blueprint import Blueprint
from .errors import ErrorSchema, abort
from .limits import check_json_body
from .tokens import user_for_token

PREFIX = "/api/v1"
SPEC_PATH = "openapi.json"


class ErpApi(flask_smorest.Api):
    """flask-smorest's Api, documenting our error shape and leaving errors to the host.

    (flask-smorest would otherwise answer every HTTP error of the whole app, the HTML
    pages' included, with its own JSON.)
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _is_api_request() -> bool:
    return request.path.startswith(PREFIX + "/") and request.path != f"{PREFIX}/{SPEC_PATH}"


def _rate_key() -> str:
    """Requests are counted per token (its hash: no database query), else per address."""
    token = _bearer_token()
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


def _authenticate():
    if not _is_api_request():
        return None
    view = current_app.view_functions.get(request.endpoint)
    max_body = current_app.config[getattr(view, "max_body_setting", "API_MAX_BODY_BYTES")]
    request.max_content_length = max_body  # also stops chunked bodies without a length
    if request.content_length is not None and request.content_length > max_body:
        abort(413, f"The request body may have at most {max_body} bytes.")
    check_json_body()  # nesting bounded before any parser recurses into it
    token = _bearer_token()
    if token is None:
        abort(401, "Send an API token: 'Authorization: Bearer <token>'. "
                   "Create one in your preferences.", code="token_missing")
    user = user_for_token(token)
    if user is None:
        abort(401, "The API token is invalid or was revoked.", code="token_invalid")
    # Flask-Login reads the request's user from g._login_user; setting it (instead of
    # login_user()) authenticates this one request without touching the session cookie.
    g._login_user = user
    return None


def large_body(setting: str):
    """Let a route accept bodies up to the config value ``setting`` (e.g. file uploads)."""

    def decorator(view):
        view.max_body_setting = setting  # copied onto flask-smorest's wrappers by @wraps
        return view

    return decorator


def init_app(app: Flask, registry, csrf, host_blueprints=()) -> ErpApi:
    app.config.setdefault("API_TITLE", "Mosaic ERP API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", SPEC_PATH)
    app.config.setdefault("API_SPEC_OPTIONS", {
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "A personal API token, created in Preferences."},
        }},
    })
    api = ErpApi(app)
    limiter = Limiter(
        _rate_key,
        app=app,
        application_limits=[app.config["API_RATE_LIMIT"]],
        application_limits_exempt_when=lambda: not _is_api_request(),
        storage_uri=app.config["API_RATE_LIMIT_STORAGE"],
        headers_enabled=True,
        key_prefix="erp-api",
    )
    # The pages are not counted: say so before Flask-Limiter works out their limits (every
    # page request did, to find them exempt).
    limiter.request_filter(lambda: not _is_api_request())
    app.before_request(_authenticate)
    blueprints = [(blp, "") for blp in host_blueprints] + [
        (c.blueprint, c.url_prefix)
        for c in registry.items(ApiBlueprint, check_permission=False)]
    for blueprint, url_prefix in blueprints:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=PREFIX + url_prefix)
    app.extensions["erp_api"] = api
    return api


__all__ = ["PREFIX", "Blueprint", "ErpApi", "abort", "init_app", "large_body"]
