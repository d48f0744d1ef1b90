"""Finance 0004 (issue 18): receivables get a ``version`` (the API's ETag), 1 for the
existing rows, grown by every save; the way back drops it, rows kept."""

from __future__ import annotations

from datetime import date

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

BEFORE, AFTER = "0003_finance_receivable_due_id", "0004_finance_version"


def columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("finance_receivable")}


def test_existing_receivables_start_at_version_1_and_the_way_back_drops_it(
        make_app, empty_database_url):
    from modules.crm.models import Account
    from modules.finance.models import Receivable

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "crm@head", BEFORE):
            flask_migrate.upgrade(revision=revision)
        user = make_user("migrator", [])
        db.session.flush()
        account = Account(legal_name="Migrada Ltda.", owner_id=user.id)
        db.session.add(account)
        db.session.commit()
        ids = {"a": account.id, "d": date(2026, 11, 1)}
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO finance_receivable (account_id, document, origin, issue_date,"
                " due_date, amount, installment, installments, cancelled, created_at)"
                " VALUES (:a, 'Contrato', 'manual', :d, :d, 100, 1, 1, false, :d)"), ids)
        assert "version" not in columns()

        flask_migrate.upgrade(revision=AFTER)
        receivable = db.session.query(Receivable).one()
        assert receivable.version == 1
        receivable.cancelled = True
        db.session.commit()
        assert receivable.version == 2
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        assert "version" not in columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM finance_receivable")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
