"""``flask --app erp backup FILE`` and ``flask --app erp restore FILE``.

SQLite: SQLite's online backup API copies the database page by page into FILE, a
consistent snapshot even while the app is writing; restoring copies FILE back the same
way. PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists
--no-owner``, connected with the app's own URL (the password goes through the
``PGPASSWORD`` environment variable, never the command line).

A restore replaces the records: it asks first (or takes ``--yes``) and refuses a file
that is not a backup of this app (a database without an ``alembic_version`` table).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from .db import db

# How long a SQLite backup or restore waits for a writer to finish (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Where Debian's and Ubuntu's postgresql packages put the binaries of each version.
POSTGRESQL_LIB = Path("/usr/lib/postgresql")
# The table Alembic keeps in every database this app has set up.
MARKER_TABLE = "alembic_version"


class BackupError(click.ClickException):
    """A backup or restore that cannot go on; the message says why."""


def database_url() -> URL:
    """The URL the app really uses (Flask-SQLAlchemy makes relative SQLite paths absolute)."""
    return db.engine.url


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"Cannot back up the SQLite database {url.database or ':memory:'!r}: "
                          "only a database file can be backed up.")
    return Path(url.database)


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode={'ro' if read_only else 'rwc'}"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
    return connection


def sqlite_revisions(path: Path) -> list[str]:
    """The Alembic revisions recorded in the SQLite file; an error if it is not this app's."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        with closing(_connect(path, read_only=True)) as connection:
            tables = {name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if MARKER_TABLE not in tables:
                raise BackupError(f"{path} is a SQLite database, but not one of this app "
                                  f"(it has no {MARKER_TABLE} table).")
            return sorted(rev for (rev,) in connection.execute(
                f"SELECT version_num FROM {MARKER_TABLE}"))  # noqa: S608 (a constant)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database ({error}).") from None


def _sqlite_copy(source: Path, target: Path, read_only_source: bool) -> None:
    with closing(_connect(source, read_only=read_only_source)) as src, \
            closing(_connect(target)) as dst:
        src.backup(dst)


def sqlite_backup(url: URL, file: Path) -> None:
    database = _sqlite_path(url)
    if not database.is_file():
        raise BackupError(f"The database {database} does not exist yet: nothing to back up.")
    if file.resolve() == database.resolve():
        raise BackupError("The backup file cannot be the database itself.")
    partial = file.with_name(f".{file.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _sqlite_copy(database, partial, read_only_source=False)
        with closing(_connect(partial)) as copy:
            # A single self-contained file: no -wal/-shm beside it (the app's is in WAL mode).
            copy.execute("PRAGMA journal_mode=DELETE")
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The copy failed SQLite's check: {check}")
        partial.replace(file)  # FILE appears only once it is complete
    finally:
        partial.unlink(missing_ok=True)


def sqlite_restore(url: URL, file: Path) -> None:
    database = _sqlite_path(url)
    if file.resolve() == database.resolve():
        raise BackupError("The backup file is the database itself.")
    database.parent.mkdir(parents=True, exist_ok=True)
    db.engine.dispose()  # this process's own connections
    # The backup API writes under the database's lock: running processes see the restored
    # records at their next transaction.
    _sqlite_copy(file, database, read_only_source=True)


# --- PostgreSQL ----------------------------------------------------------------------------


def find_pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: from PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.parent.name.split(".") if part.isdigit())

    candidates = sorted(POSTGRESQL_LIB.glob(f"*/bin/{name}"), key=version)
    if candidates:
        return str(candidates[-1])
    raise BackupError(
        f"{name} was not found on PATH nor in {POSTGRESQL_LIB}/*/bin. Install PostgreSQL's "
        "client programs, in the same major version as the server or newer (Debian, Ubuntu: "
        "apt-get install postgresql-client), or put the folder that has them on PATH.")


def _conninfo_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def libpq_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``--dbname`` (no password) and the environment to add
    (``PGPASSWORD``), from a SQLAlchemy URL such as ``postgresql+psycopg://u:pw@host/db``."""
    if url.get_backend_name() != "postgresql":
        raise BackupError(f"Not a PostgreSQL URL: {url.render_as_string()}")
    params: dict[str, str] = {}
    for key, value in (("host", url.host), ("port", url.port), ("user", url.username),
                       ("dbname", url.database)):
        if value not in (None, ""):
            params[key] = str(value)
    for key, value in url.query.items():  # e.g. ?sslmode=require, ?host=/run/postgresql
        params[key] = value if isinstance(value, str) else ",".join(value)
    conninfo = " ".join(f"{key}={_conninfo_value(value)}" for key, value in params.items())
    env = {"PGPASSWORD": url.password} if url.password else {}
    return conninfo, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env={**os.environ, **env},  # noqa: S603 (no shell)
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tool = Path(command[0]).name
        details = (result.stderr or result.stdout).strip()
        raise BackupError(f"{tool} failed (exit {result.returncode}):\n{details}")


def postgresql_backup(url: URL, file: Path) -> None:
    conninfo, env = libpq_connection(url)
    partial = file.with_name(f".{file.name}.partial")
    try:
        _run([find_pg_tool("pg_dump"), "--format=custom", f"--file={partial}",
              f"--dbname={conninfo}"], env)
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)


def postgresql_check(file: Path) -> None:
    """Refuse a file that is not a pg_dump archive of this app's database."""
    if not file.is_file():
        raise BackupError(f"{file} does not exist.")
    result = subprocess.run([find_pg_tool("pg_restore"), "--list", str(file)],  # noqa: S603
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{file} is not a pg_dump archive (pg_restore --list: "
                          f"{result.stderr.strip()}).")
    if not any(f" TABLE public {MARKER_TABLE} " in f"{line} " for line in
               result.stdout.splitlines()):
        raise BackupError(f"{file} is a pg_dump archive, but not of this app's database "
                          f"(it has no {MARKER_TABLE} table).")


def postgresql_restore(url: URL, file: Path) -> None:
    conninfo, env = libpq_connection(url)
    db.engine.dispose()
    _run([find_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
          "--single-transaction", f"--dbname={conninfo}", str(file)], env)


# --- the commands --------------------------------------------------------------------------


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups cover SQLite and PostgreSQL; for {backend}, use its own "
                          "tools.")
    return backend


def backup(file: Path) -> None:
    """Back up the app's database into ``file`` (replaced if it exists)."""
    url = database_url()
    if _kind(url) == "sqlite":
        sqlite_backup(url, file)
    else:
        postgresql_backup(url, file)


def check(file: Path) -> None:
    """Refuse ``file`` unless it is a backup of this app for the app's kind of database."""
    if _kind(database_url()) == "sqlite":
        sqlite_revisions(file)
    else:
        postgresql_check(file)


def restore(file: Path) -> None:
    """Replace the app's database with the backup in ``file`` (checked first)."""
    check(file)
    url = database_url()
    if _kind(url) == "sqlite":
        sqlite_restore(url, file)
    else:
        postgresql_restore(url, file)


def _describe(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database}"
    return f"the PostgreSQL database {url.database!r} on {url.host or 'localhost'}"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
def backup_command(file: Path, force: bool):
    """Back up the database into FILE; safe while the app runs.

    SQLite: a copy of the database file. PostgreSQL: a pg_dump archive (custom format).
    """
    if file.exists() and not force:
        raise BackupError(f"{file} exists; choose another name or add --force to replace it.")
    file.parent.mkdir(parents=True, exist_ok=True)
    url = database_url()
    backup(file)
    click.echo(f"Backed up {_describe(url)} into {file} ({file.stat().st_size:,} bytes).")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file: Path, yes: bool):
    """Replace every record in the database with the backup in FILE.

    The backup must come from `flask --app erp backup` (of this app). Afterwards run
    `flask --app erp upgrade` if the backup is older than the code.
    """
    url = database_url()
    check(file)  # before asking: a wrong file is refused at once
    if not yes:
        click.confirm(f"Replace every record in {_describe(url)} with {file}?", abort=True)
    restore(file)
    click.echo(f"Restored {file} into {_describe(url)}. If the backup is older than this "
               "version of the app, run `flask --app erp upgrade` next.")
