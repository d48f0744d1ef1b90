"""``flask --app erp backup FILE`` / ``restore FILE``: round trips on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, select, text

from erp import backup as backup_module
from erp.auth.models import Team
from erp.db import db
from erp.setup import upgrade_database


def team_names(app) -> list[str]:
    with app.app_context():
        names = sorted(db.session.scalars(select(Team.name)))
        db.session.remove()
        return names


def set_teams(app, *names: str) -> None:
    """The auth_team table holds exactly ``names``."""
    with app.app_context():
        db.session.execute(Team.__table__.delete())
        db.session.add_all(Team(name=name) for name in names)
        db.session.commit()
        db.session.remove()


def cli(app, *args: str, input: str | None = None):  # noqa: A002 (click's name)
    return app.test_cli_runner().invoke(args=list(args), input=input)


def round_trip(app, file: Path) -> None:
    """Back up, change, restore: the records are the backed-up ones again."""
    set_teams(app, "Backed up")
    result = cli(app, "backup", str(file))
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and file.is_file()

    set_teams(app, "Changed", "Added after")
    result = cli(app, "restore", str(file), "--yes")
    assert result.exit_code == 0, result.output
    assert team_names(app) == ["Backed up"]
    # The restored database is a whole, migrated one: upgrading it changes nothing.
    assert upgrade_database(app) == []


# --- SQLite --------------------------------------------------------------------------------


@pytest.fixture
def sqlite_app(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'erp.sqlite3'}")
    upgrade_database(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_sqlite_round_trip(sqlite_app, tmp_path):
    file = tmp_path / "backups" / "erp-backup.sqlite3"
    round_trip(sqlite_app, file)
    # The backup is one self-contained file, not in WAL mode (nothing beside it).
    with sqlite3.connect(file) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert sorted(p.name for p in file.parent.iterdir()) == ["erp-backup.sqlite3"]


def test_sqlite_backup_while_a_write_is_in_progress(sqlite_app, tmp_path):
    set_teams(sqlite_app, "Committed")
    database = tmp_path / "erp.sqlite3"
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO auth_team (name) VALUES ('Not yet committed')")
        result = cli(sqlite_app, "backup", str(tmp_path / "during.sqlite3"))
        assert result.exit_code == 0, result.output
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with sqlite3.connect(tmp_path / "during.sqlite3") as copy:
        assert copy.execute("SELECT name FROM auth_team").fetchall() == [("Committed",)]


def test_backup_keeps_an_existing_file_unless_forced(sqlite_app, tmp_path):
    file = tmp_path / "erp-backup.sqlite3"
    file.write_text("precious")
    result = cli(sqlite_app, "backup", str(file))
    assert result.exit_code != 0 and "--force" in result.output
    assert file.read_text() == "precious"
    assert cli(sqlite_app, "backup", str(file), "--force").exit_code == 0
    assert backup_module.sqlite_revisions(file)


def test_restore_asks_first(sqlite_app, tmp_path):
    file = tmp_path / "erp-backup.sqlite3"
    set_teams(sqlite_app, "Backed up")
    assert cli(sqlite_app, "backup", str(file)).exit_code == 0
    set_teams(sqlite_app, "Current")
    result = cli(sqlite_app, "restore", str(file), input="n\n")
    assert result.exit_code != 0 and "Replace every record" in result.output
    assert team_names(sqlite_app) == ["Current"]
    result = cli(sqlite_app, "restore", str(file), input="y\n")
    assert result.exit_code == 0, result.output
    assert team_names(sqlite_app) == ["Backed up"]


def test_restore_refuses_what_is_not_a_backup_of_this_app(sqlite_app, tmp_path):
    set_teams(sqlite_app, "Current")
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database " * 100)
    other_app = tmp_path / "other.sqlite3"
    with sqlite3.connect(other_app) as conn:
        conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    for file, message in ((not_sqlite, "is not a SQLite database"),
                          (other_app, "not one of this app")):
        result = cli(sqlite_app, "restore", str(file), "--yes")
        assert result.exit_code != 0 and message in result.output, result.output
    assert team_names(sqlite_app) == ["Current"]


# --- PostgreSQL: the pieces that need no server ---------------------------------------------


def test_the_password_goes_through_the_environment_not_argv():
    url = make_url("postgresql+psycopg://erp:s3cr%27et%20pw@db.example:5433/erp"
                   "?sslmode=require")
    conninfo, env = backup_module.libpq_connection(url)
    assert env == {"PGPASSWORD": "s3cr'et pw"}
    assert "s3cr" not in conninfo
    assert conninfo == ("host='db.example' port='5433' user='erp' dbname='erp' "
                        "sslmode='require'")
    conninfo, env = backup_module.libpq_connection(make_url("postgresql:///erp"))
    assert (conninfo, env) == ("dbname='erp'", {})


def test_pg_dump_is_run_with_the_password_in_its_environment(monkeypatch, tmp_path):
    calls = []

    def fake_run(command, env, **_kwargs):
        calls.append((command, env))
        Path(command[2].removeprefix("--file=")).write_bytes(b"PGDMP")

        class Done:
            returncode, stdout, stderr = 0, "", ""
        return Done()

    monkeypatch.setattr(backup_module, "find_pg_tool", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(backup_module.subprocess, "run", fake_run)
    file = tmp_path / "erp.dump"
    backup_module.postgresql_backup(make_url("postgresql+psycopg://erp:pw@db/erp"), file)
    [(command, env)] = calls
    assert command[:2] == ["/usr/bin/pg_dump", "--format=custom"]
    assert not any("pw" in argument for argument in command)
    assert env["PGPASSWORD"] == "pw"
    assert file.read_bytes() == b"PGDMP"


def test_pg_tools_are_found_on_path_then_in_the_newest_postgresql(monkeypatch, tmp_path):
    for version in ("9.6", "13", "16"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "pg_dump").touch()
    monkeypatch.setattr(backup_module, "POSTGRESQL_LIB", tmp_path)
    monkeypatch.setattr(backup_module.shutil, "which", lambda name: None)
    assert backup_module.find_pg_tool("pg_dump") == str(tmp_path / "16" / "bin" / "pg_dump")
    with pytest.raises(backup_module.BackupError, match="pg_restore was not found"):
        backup_module.find_pg_tool("pg_restore")
    monkeypatch.setattr(backup_module.shutil, "which", lambda name: f"/opt/bin/{name}")
    assert backup_module.find_pg_tool("pg_dump") == "/opt/bin/pg_dump"


# --- PostgreSQL: a round trip on a scratch database of the suite's server --------------------


@pytest.fixture
def postgresql_app(make_app):
    url = os.environ.get("ERP_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL: set ERP_TEST_DATABASE_URL")
    # Restoring over the suite's database would disturb the other tests: a database of our own.
    server_url = make_url(url)
    name = f"erp_backup_{uuid.uuid4().hex[:8]}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")  # psycopg, autocommit
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        app = make_app(SQLALCHEMY_DATABASE_URI=server_url.set(database=name)
                       .render_as_string(hide_password=False))
        upgrade_database(app)
        yield app
        with app.app_context():
            db.engine.dispose()
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_postgresql_round_trip(postgresql_app, tmp_path):
    file = tmp_path / "erp.dump"
    round_trip(postgresql_app, file)
    assert file.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format


def test_postgresql_restore_refuses_other_files(postgresql_app, tmp_path):
    set_teams(postgresql_app, "Current")
    not_a_dump = tmp_path / "notes.dump"
    not_a_dump.write_text("not an archive")
    result = cli(postgresql_app, "restore", str(not_a_dump), "--yes")
    assert result.exit_code != 0 and "is not a pg_dump archive" in result.output
    assert team_names(postgresql_app) == ["Current"]
