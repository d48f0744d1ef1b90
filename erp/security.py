"""Security headers on every response the app sends: pages, CSV files, the API, static files,
error pages and the admin.

One ``after_request`` hook instead of a per-view decorator, so that a new route cannot
forget them; Flask runs it for error handlers' responses too. A view (or a module) that
needs another value for one of these headers sets it on its response and keeps it.

The Content-Security-Policy allows scripts and styles from this origin only: no inline
``<script>``, no ``on*=`` attribute, no ``javascript:`` URL, no ``style=`` attribute or
``<style>`` element. Templates put behaviour in static files (``erp/static/erp.js``, a
module's ``static/``) and looks in CSS classes (``erp/static/erp.css``); values only known
at run time (a tag's colour) are set from script through ``element.style``, which the
policy does not restrict. ``data:`` images are allowed because Bootstrap draws its icons
(menu toggler, select arrows, validation marks) as ``data:`` SVG in its CSS.

HSTS is sent only when the cookies are marked secure (``ERP_SECURE_COOKIES``): that is the
setting that says the app is served over HTTPS, and HSTS over plain HTTP would lock users
out of a deployment that has no certificate.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def security_headers(response: Response, *, hsts: bool) -> Response:
    """Add the headers ``response`` does not set itself."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if hsts:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        return security_headers(response, hsts=bool(app.config.get("SESSION_COOKIE_SECURE")))
