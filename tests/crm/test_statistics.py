"""Planner statistics kept fresh without anyone thinking of it (issue 15): ANALYZE after
setup, an upgrade, the demo data and an import, and hourly in the worker, on SQLite and
PostgreSQL. Without statistics SQLite guesses, and on a large database guesses wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text

from erp import tasks
from erp.auth.models import Team, User
from erp.db import db, refresh_statistics
from erp.demo import load_demo
from erp.setup import upgrade_database
from modules.crm.models import Account
from tests.conftest import make_user
from tests.erp.importing import (
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)


def analysed_rows(table: str) -> int | None:
    """The table's row count as the planner's statistics have it; None: never analysed."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            if not conn.scalar(text("SELECT count(*) FROM sqlite_master "
                                    "WHERE name = 'sqlite_stat1'")):
                return None
            stats = conn.scalars(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"),
                                 {"t": table}).all()
            return max((int(stat.split()[0]) for stat in stats), default=None)
        reltuples = conn.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t "
                                     "AND relkind = 'r'"), {"t": table})
        return None if reltuples is None or reltuples < 0 else int(reltuples)


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_setup_and_demo_data_leave_the_database_analysed(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    upgrade_database(app)  # `flask upgrade`, and `flask setup`'s first step
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert analysed_rows("crm_account") is None or analysed_rows("crm_account") == 0
            assert db.session.scalar(text("SELECT count(*) FROM sqlite_master "
                                          "WHERE name = 'sqlite_stat1'")) == 1
        else:
            assert db.session.scalar(text(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname = 'crm_account'"))
        db.session.remove()
        load_demo()  # `flask setup` on an empty database, `flask demo`
        accounts, users = rows(Account), rows(User)
        assert accounts and users
        assert analysed_rows("crm_account") == accounts
        assert analysed_rows("auth_user") == users
        db.session.remove()
        db.engine.dispose()


def test_the_worker_refreshes_statistics_hourly(app, users):
    task = tasks._TASKS["erp.refresh_statistics"]
    assert task.every_minutes == 60
    assert "erp.refresh_statistics" in tasks.queue(app).wrappers
    with app.app_context():
        for n in range(23):
            make_user(f"statistics{n}", [])
        db.session.commit()
        expected = rows(User)
        db.session.remove()
        assert analysed_rows("auth_user") != expected
        task()
        assert analysed_rows("auth_user") == expected


@pytest.mark.usefixtures("import_dir")
def test_an_import_leaves_its_tables_analysed(app, users):
    header = ["Razão Social", "CNPJ", "Cidade", "UF"]
    content = csv_bytes([header] + [[f"Statistics {n} Ltda", make_cnpj(31_000 + n),
                                     "Campinas", "SP"] for n in range(37)])
    result = run_import(app, users["admin"], "accounts", content)
    assert result.created == 37, result.message
    with app.app_context():
        assert analysed_rows("crm_account") == rows(Account) == 37
        db.session.remove()


def test_statistics_are_not_sampled(app):
    """A full ANALYZE, not one within the connection's analysis_limit: sampled statistics
    misjudge a large table (on SQLite, a user's 75,000 actions counted as 1,001)."""
    with app.app_context():
        db.session.execute(insert(Team), [{"name": f"statistics {n}"} for n in range(5000)])
        db.session.commit()
        refresh_statistics(["auth_team"])
        assert analysed_rows("auth_team") == 5000
        db.session.remove()
