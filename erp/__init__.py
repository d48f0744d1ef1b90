"""Mosaic ERP host: the app factory. The host knows no module by name."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import admin, api, cli, i18n, mail, migrate, security, tasks, views  # noqa: F401 (mail: the outbox model)
from .api import models as api_models  # noqa: F401 (the token table)
from .api.views import bp as api_tokens_bp
from .audit import init_app as init_audit_trail  # also: the session events
from .auth.sessions import load_user
from .auth.views import bp as auth_bp
from .calendar_feed import bp as calendar_bp
from .config import default_config, secret_key
from .db import MAX_ID, db
from .forms import init_app as init_text_rule
from .imports import api as imports_api
from .imports import models as import_models  # noqa: F401 (the import job table)
from .imports.contract import Importer
from .imports.views import bp as imports_bp
from .loader import load_modules
from .params import init_app as init_query_rule
from .registry import HOST_KINDS, Registry, WebBlueprint
from .reports import add_reports_entry
from .reports import bp as reports_bp
from .webhooks import models as webhook_models  # noqa: F401 (the webhook outbox)

__all__ = ["create_app"]

HOST_DIR = Path(__file__).resolve().parent
csrf = CSRFProtect()
bootstrap = Bootstrap5()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page says enough


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` in every route: ids beyond the database's integer range do not match (404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


@login_manager.user_loader
def _load_user(session_id: str):
    return load_user(session_id)  # None once the user's sessions were ended


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="templates",  # erp/templates: shipped inside the package
    )
    app.url_map.converters["int"] = RecordIdConverter  # before any route is added
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(default_config(Path(app.instance_path)))
    # Any other setting, the modules' included: ERP_<NAME>=<JSON or text>, e.g.
    # ERP_CRM_CNPJ_LOOKUP_ENABLED=true sets CRM_CNPJ_LOOKUP_ENABLED.
    app.config.from_prefixed_env("ERP")
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))

    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:  # behind reverse proxies: trust that many X-Forwarded-* hops, no more
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)
    security.init_app(app)  # headers on every response, error pages and static files too
    db.init_app(app)
    registry = Registry()
    registry.declare(*HOST_KINDS, Importer)  # modules declare their own in register()
    app.extensions["erp"] = registry
    modules = load_modules(app, registry)
    add_reports_entry(registry)  # the menu's Reports entry, for whoever sees a report
    registry.freeze()
    registry.install_template_helpers(app)  # the modules' filters and globals
    tasks.init_app(app)  # after the modules: it binds every task they declared

    i18n.init_app(app, modules)  # the host's catalog, and each module's own domain
    csrf.init_app(app)
    init_text_rule(app)  # no control characters in any form's text (erp.textrules)
    init_query_rule(app)  # nor NUL in the query string
    bootstrap.init_app(app)
    login_manager.init_app(app)
    migrate.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(calendar_bp)  # Preferences → Calendar feed, and the feed
    app.register_blueprint(reports_bp)
    views.init_app(app)
    init_audit_trail(app)
    for contribution in registry.items(WebBlueprint, check_permission=False):
        app.register_blueprint(contribution.blueprint, url_prefix=contribution.url_prefix)
    api.init_app(app, registry, csrf, host_blueprints=(imports_api.blp,))
    admin.init_app(app, registry)
    cli.init_app(app)
    return app
