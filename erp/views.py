"""The host's own pages: home, global search, error pages; and the layout's context."""

from __future__ import annotations

import logging
import mimetypes

from flask import current_app, g, jsonify, render_template, request, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from . import dashboard
from .api.errors import error_response
from .db import database_busy, db
from .registry import MenuItem, SearchProvider

log = logging.getLogger(__name__)

SEARCH_MIN_LENGTH = 2
SEARCH_LIMIT = 10


def registry():
    return current_app.extensions["erp"]


@login_required
def home():
    """The user's dashboard (the widgets modules contribute) and quick links to the modules."""
    entries = [item for item in registry().items(MenuItem, current_user) if item.quick_link]
    return render_template("erp/home.html", entries=entries,
                           cards=dashboard.cards(registry(), current_user))


@login_required
def search():
    """Ask every search provider the user may use; a failing provider becomes a notice."""
    query = request.args.get("q", "").strip()[:200]
    groups, failed = [], []
    if len(query) >= SEARCH_MIN_LENGTH:
        for provider in registry().items(SearchProvider, current_user):
            try:
                results = provider.search(query, current_user, SEARCH_LIMIT)
            except Exception:
                log.exception("search provider %s failed", provider.key)
                failed.append(provider.label)
                continue
            groups.append((provider, results))
    offers = []  # nothing found: what the providers offer to create from the query
    if groups and not any(results for _provider, results in groups):
        offers = [offer for provider, _results in groups if provider.offer is not None
                  if (offer := provider.offer(query, current_user)) is not None]
    return render_template("erp/search.html", query=query, groups=groups, failed=failed,
                           min_length=SEARCH_MIN_LENGTH, offers=offers)


def favicon():
    """The icon a browser asks for at /favicon.ico on its own, whatever the page's <link rel=icon>
    says (without it every page logged a 404; issue 17). Public: the login page asks too."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def handle_http_error(error: HTTPException):
    if _wants_json():
        return error_response(error)
    own_page = error.code in (400, 403, 404, 429)
    template = f"errors/{error.code}.html" if own_page else "errors/error.html"
    return render_template(template, error=error), error.code


def handle_csrf_error(error: CSRFError):
    error.description = _("The form expired or was not sent from this site. "
                          "Reload the page and try again.")
    return handle_http_error(error)


def handle_server_error(error: Exception):
    log.exception("unhandled error")
    if _wants_json():
        return jsonify(error={"code": "internal_error",
                              "message": "An unexpected error occurred."}), 500
    try:
        return render_template("errors/500.html"), 500
    except Exception:  # the layout itself is broken: still answer something readable
        log.exception("the error page failed too")
        return "Internal server error", 500, {"Content-Type": "text/plain; charset=utf-8"}


BUSY_RETRY_AFTER = 5  # seconds


def handle_database_error(error: OperationalError):
    """A database too busy to answer in time is a 503 to retry, not a crash."""
    if not database_busy(error):
        return handle_server_error(error)
    db.session.rollback()
    log.warning("database busy: %s", error.orig)
    busy = ServiceUnavailable(_("The database is busy. Try again in a few seconds."))
    response = current_app.make_response(handle_http_error(busy))
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


def search_hints(user) -> str:
    """What may be searched, for the search box: the hints of the providers ``user`` may use
    ("name, CNPJ/CPF, phone, e-mail"), joined; empty if none gives one."""
    return ", ".join(str(p.hint) for p in registry().items(SearchProvider, user) if p.hint)


def layout_context():
    """What the base layout needs on every page: the menu the user may see, and what the
    search box searches. Worked out once a request (for its user): every template a
    request renders gets it, the dashboard's widgets and an account page's tabs too."""
    if not current_user.is_authenticated:
        return {"erp_menu": [], "erp_search_hints": ""}
    user = current_user._get_current_object()
    known = g.get("_erp_layout")
    if known is None or known[0] is not user:
        known = (user, {"erp_menu": registry().items(MenuItem, user),
                        "erp_search_hints": search_hints(user)})
        g._erp_layout = known
    return dict(known[1])


def init_app(app) -> None:
    app.add_url_rule("/", "home", home)
    app.add_url_rule("/search", "search", search)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    # The web app manifest's type, whatever the system's mime.types says (issue 17).
    mimetypes.add_type("application/manifest+json", ".webmanifest")
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(500, handle_server_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.context_processor(layout_context)
    # A global too, not only the context Flask-Login gives a page: macros imported without
    # context (macros.html's subnav, a module's _macros.html) check permissions with it.
    app.jinja_env.globals["current_user"] = current_user
