"""The test kit of Mosaic ERP: what the host's suite and any module's own tests run on.

Installing Mosaic ERP registers :mod:`erp.testing.plugin` with pytest (entry point
``pytest11``: ``erp``), so its fixtures need no import and no conftest.py: ``app``,
``client``, ``users``, ``client_as``, ``api_client``, ``make_account``, ``make_contact``,
``make_app``, ``ctx``, ``database_url``, ``empty_database_url``, ``query_log``, ``smtp``...
(``pytest --fixtures`` lists them with their documentation). What is here are the plain
helpers the fixtures are built on, for a test to import.
"""

from .api import PREFIX, Api, api_as, error_of, revoked_token_for, token_for
from .app import (
    CSRF_RE,
    PASSWORD,
    base_config,
    csrf_token,
    login_as,
    make_user,
    password_hash,
    seed_users,
)
from .queries import QueryCounter, captured, count_queries, queries_for
from .smtp import Collector, SmtpServer, free_port

__all__ = [
    "CSRF_RE", "PASSWORD", "PREFIX", "Api", "Collector", "QueryCounter", "SmtpServer", "api_as",
    "base_config", "captured", "count_queries", "csrf_token", "error_of", "free_port",
    "login_as", "make_user", "password_hash", "queries_for", "revoked_token_for",
    "seed_users", "token_for",
]
