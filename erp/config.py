"""Configuration: defaults suitable for a laptop, overridden from the environment.

Every setting can be given as an environment variable of the same name
(``ERP_DATABASE_URL`` excepted, which maps to ``SQLALCHEMY_DATABASE_URI``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def secret_key(instance_path: Path) -> str:
    """A secret key from the environment, or one generated once and kept in instance/.

    Keeping it in the instance folder means sessions survive a restart without the
    operator having to invent a key, and no key is ever committed.
    """
    if os.environ.get("ERP_SECRET_KEY"):
        return os.environ["ERP_SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def default_config(instance_path: Path) -> dict:
    """The configuration of a new app, before the caller's overrides."""
    database_url = os.environ.get("ERP_DATABASE_URL") or (
        f"sqlite:///{instance_path / 'erp.sqlite3'}"
    )
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Modules: None means "every discovered module".
        "ERP_MODULES": _env_list("ERP_MODULES"),
        # Extra folders scanned for modules, besides the project's modules/ folder.
        "ERP_MODULE_DIRS": _env_list("ERP_MODULE_DIRS") or [],
        "ERP_DISCOVER_ENTRY_POINTS": _env_bool("ERP_DISCOVER_ENTRY_POINTS", True),
        # Modules switched off with `flask --app erp module disable NAME`, one a line (read
        # only when ERP_MODULES is not set).
        "ERP_DISABLED_MODULES_FILE": os.environ.get("ERP_DISABLED_MODULES_FILE")
        or str(instance_path / "disabled_modules"),
        # Languages and formats.
        "BABEL_DEFAULT_LOCALE": os.environ.get("ERP_DEFAULT_LOCALE", "pt_BR"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("ERP_DEFAULT_TIMEZONE", "America/Sao_Paulo"),
        "ERP_LANGUAGES": {"en": "English", "pt_BR": "Português (Brasil)"},
        "ERP_CURRENCY": os.environ.get("ERP_CURRENCY", "BRL"),
        # Security.
        "WTF_CSRF_ENABLED": True,
        # A form's token expires after this many seconds (8 h: a working day), and with the
        # session (its token lives there): a form left open overnight is sent again.
        "WTF_CSRF_TIME_LIMIT": _env_int("ERP_CSRF_TIME_LIMIT", 8 * 3600),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("ERP_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool("ERP_SECURE_COOKIES", False),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        "PROXY_HOPS": _env_int("ERP_PROXY_HOPS", 0),
        # Login throttling (erp/auth/throttle.py): failures per (account, address) and per
        # address that shut that address for the minutes given; failures of one account
        # from many addresses slow its attempts down, up to the delay given, never lock it.
        "ERP_LOGIN_MAX_FAILURES_PER_USER": _env_int("ERP_LOGIN_MAX_FAILURES_PER_USER", 5),
        "ERP_LOGIN_MAX_FAILURES_PER_IP": _env_int("ERP_LOGIN_MAX_FAILURES_PER_IP", 20),
        "ERP_LOGIN_THROTTLE_MINUTES": _env_int("ERP_LOGIN_THROTTLE_MINUTES", 15),
        "ERP_LOGIN_MAX_DELAY_SECONDS": _env_int("ERP_LOGIN_MAX_DELAY_SECONDS", 4),
        # Login attempts (Admin → Login attempts) older than this are removed daily.
        "ERP_LOGIN_RECORDS_DAYS": _env_int("ERP_LOGIN_RECORDS_DAYS", 90),
        # Front end.
        "BOOTSTRAP_SERVE_LOCAL": True,
        "FLASK_ADMIN_SWATCH": "default",
        "ERP_PAGE_SIZE": _env_int("ERP_PAGE_SIZE", 25),
        # Where users reach the app: links in e-mails written outside a request.
        "ERP_BASE_URL": os.environ.get("ERP_BASE_URL", "http://127.0.0.1:5000"),
        # Outgoing mail (erp/mail.py): the SMTP server the worker delivers the outbox to.
        # Unset (the default): no mail is sent; it waits in the outbox (Admin → Outbox).
        "ERP_MAIL_SERVER": os.environ.get("ERP_MAIL_SERVER") or None,
        "ERP_MAIL_PORT": _env_int("ERP_MAIL_PORT", 25),
        "ERP_MAIL_USE_TLS": _env_bool("ERP_MAIL_USE_TLS", False),  # STARTTLS
        "ERP_MAIL_USERNAME": os.environ.get("ERP_MAIL_USERNAME") or None,
        "ERP_MAIL_PASSWORD": os.environ.get("ERP_MAIL_PASSWORD") or None,
        "ERP_MAIL_TIMEOUT": _env_int("ERP_MAIL_TIMEOUT", 10),
        "ERP_MAIL_FROM": os.environ.get("ERP_MAIL_FROM") or "Mosaic ERP <noreply@localhost>",
        "ERP_MAIL_MAX_ATTEMPTS": _env_int("ERP_MAIL_MAX_ATTEMPTS", 8),
        # A commit that queued mail asks the worker for a delivery pass at once (else only
        # the pass every minute delivers).
        "ERP_MAIL_DELIVER_ON_QUEUE": _env_bool("ERP_MAIL_DELIVER_ON_QUEUE", True),
        # Webhooks (erp/webhooks): endpoints are HTTPS only unless local plain HTTP is
        # allowed (http://127.0.0.1 and localhost: tests, a receiver on this machine);
        # attempts before a delivery fails, seconds an attempt may take, and whether a
        # commit that wrote deliveries asks the worker for a pass at once.
        "ERP_WEBHOOKS_ALLOW_HTTP_LOCAL": _env_bool("ERP_WEBHOOKS_ALLOW_HTTP_LOCAL", False),
        "ERP_WEBHOOKS_MAX_ATTEMPTS": _env_int("ERP_WEBHOOKS_MAX_ATTEMPTS", 15),
        "ERP_WEBHOOKS_TIMEOUT": _env_int("ERP_WEBHOOKS_TIMEOUT", 10),
        "ERP_WEBHOOKS_DELIVER_ON_QUEUE": _env_bool("ERP_WEBHOOKS_DELIVER_ON_QUEUE", True),
        "ERP_WEBHOOKS_KEEP_DAYS": _env_int("ERP_WEBHOOKS_KEEP_DAYS", 30),  # delivered ones
        # JSON API (erp/api): requests per token, where the counters live (memory:// is per
        # process; use e.g. redis://host:6379 with several workers), largest body accepted.
        "API_RATE_LIMIT": os.environ.get("ERP_API_RATE_LIMIT") or "600 per minute",
        "API_RATE_LIMIT_STORAGE": os.environ.get("ERP_API_RATE_LIMIT_STORAGE") or "memory://",
        "API_MAX_BODY_BYTES": _env_int("ERP_API_MAX_BODY_BYTES", 1024 * 1024),
        # Spreadsheet imports (erp/imports): largest file accepted, rows per batch (flushed,
        # then forgotten: memory stays bounded), rows in the preview, where uploads are kept
        # (None: instance/imports).
        "IMPORT_MAX_BYTES": _env_int("ERP_IMPORT_MAX_BYTES", 20 * 1024 * 1024),
        "IMPORT_BATCH_SIZE": _env_int("ERP_IMPORT_BATCH_SIZE", 500),
        "IMPORT_PREVIEW_ROWS": _env_int("ERP_IMPORT_PREVIEW_ROWS", 20),
        "IMPORT_FOLDER": os.environ.get("ERP_IMPORT_FOLDER") or None,
        # What an import file may hold (erp/imports/reading.py; 0 lifts a limit), checked as
        # it is read so a hostile file is refused early: data rows; cells in any row (the
        # header too: no mapping page of 10,000 columns); an XLSX's unpacked size, checked
        # from its zip directory before it is opened. Real sheets compress 5-15 times, so
        # 10x IMPORT_MAX_BYTES lets any genuine file of the largest size through, and bounds
        # one pass of openpyxl (2-3 MB of XML a second) to a minute or so. Raise it with
        # IMPORT_MAX_BYTES. A file unpacking to more than IMPORT_MAX_XLSX_RATIO times its
        # size (checked above 10 MB) is a zip bomb, not a spreadsheet.
        "IMPORT_MAX_ROWS": _env_int("ERP_IMPORT_MAX_ROWS", 200_000),
        "IMPORT_MAX_COLUMNS": _env_int("ERP_IMPORT_MAX_COLUMNS", 200),
        "IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES": _env_int("ERP_IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES",
                                                       200 * 1024 * 1024),
        "IMPORT_MAX_XLSX_RATIO": _env_int("ERP_IMPORT_MAX_XLSX_RATIO", 100),
        # Uploads and rejects files older than this many days are removed by a daily task
        # (erp/imports/retention.py), except those of a running import; 0 keeps them.
        "IMPORT_RETENTION_DAYS": _env_int("ERP_IMPORT_RETENTION_DAYS", 30),
        # Rows written per transaction by the import's write pass: each holds SQLite's single
        # write lock, so other users' saves wait at most about one such batch. New records go
        # in with a few INSERTs per batch (erp/imports/bulk.py): 500 rows hold the lock for
        # about 0.2 s on a quiet 2-core machine, and 100,000 rows need 200 batches.
        "IMPORT_WRITE_BATCH_SIZE": _env_int("ERP_IMPORT_WRITE_BATCH_SIZE", 500),
        # SQLite: at least this long between two write batches' holds of the lock, so that
        # other writers, whose busy handler polls every 100 ms at most, get it in between (it
        # is not handed over fairly). Checking the next batch, done before the lock is
        # taken, counts: usually nothing is left to wait (erp/imports/runner.py).
        "IMPORT_WRITE_PAUSE_MS": _env_int("ERP_IMPORT_WRITE_PAUSE_MS", 100),
        # A running import whose worker has given no sign of life for this long is failed
        # (and what it wrote removed): the worker died.
        "IMPORT_STALE_AFTER_SECONDS": _env_int("ERP_IMPORT_STALE_AFTER_SECONDS", 120),
        # Background tasks (erp/tasks.py): Redis queue if set, else instance/tasks.sqlite3.
        "REDIS_URL": os.environ.get("ERP_REDIS_URL") or None,
        "TASKS_FILE": os.environ.get("ERP_TASKS_FILE") or None,
        "TASKS_IMMEDIATE": _env_bool("ERP_TASKS_IMMEDIATE", False),
        "WORKER_THREADS": _env_int("ERP_WORKER_THREADS", 2),
    }
