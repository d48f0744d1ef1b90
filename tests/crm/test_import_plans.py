"""What the accounts importer looks up per batch reads indexes, whatever the table's size
(issue 15): an import of 100,000 rows runs each look-up 400 times (check and write pass)
on a table that grows to 100,000 accounts."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db
from modules.crm.importers.accounts import similar_phones_select
from tests.crm.plans import full_scans, query_plan, small_statistics, sql  # noqa: F401


@pytest.mark.usefixtures("small_statistics")
def test_similar_phones_of_a_batch_are_read_from_the_phone_indexes(app, users):
    phones = {f"+55113333{n:04d}" for n in range(500)} | {"+5511987654321"}
    with app.app_context():
        for who in ("admin", "rep_a"):
            user = db.session.get(User, users[who])
            statement = similar_phones_select(phones, user)
            if db.engine.dialect.name == "sqlite":
                plan = query_plan(statement)
                assert not full_scans(plan), plan
                assert "ix_crm_account_phone" in plan and "ix_crm_account_mobile" in plan, plan
            else:  # the accounts joined to a UNION of the two lookups, no OR (a table of
                # a few rows gets whatever join is cheapest for them: see plans.sql)
                text = sql(statement)
                assert "UNION" in text and " OR " not in text, text[:300]
        db.session.remove()


def _lookups(app, users, rows: list[dict]) -> list[str]:
    from sqlalchemy import event

    from modules.crm.importers.accounts import prepare_accounts

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            prepare_accounts(rows, user)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        db.session.remove()
    return statements


def test_a_batch_looks_up_its_values_as_one_array_on_postgresql(app, users, make_account):
    """PostgreSQL gets a batch's CNPJs, roots, e-mails and phones as one array parameter
    each (erp.db.one_of): the same statements for 5 rows as for 60, which neither the
    driver nor the server parse and plan anew per batch (500 values: 5.8 -> 2.4 ms)."""
    from stdnum.br import cnpj

    make_account(legal_name="Já Existe Ltda.", tax_id="11222333000181", phone="+551133330001")

    def rows(count):
        return [{"legal_name": f"Nova {n} Ltda.", "email": f"n{n}@nova.com.br",
                 "phone": f"(11) 3333-{n:04d}",
                 "tax_id": cnpj.format(f"{n + 1:08d}0001" + cnpj.calc_check_digits(
                     f"{n + 1:08d}0001"))} for n in range(count)]

    few, many = _lookups(app, users, rows(5)), _lookups(app, users, rows(60))
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    assert len(few) == len(many) >= 4
    if postgresql:
        assert few == many, [s[:200] for s in many]
        assert all(" IN (" not in s for s in many), [s[:200] for s in many]
    else:  # SQLite: one parameter per value (its statements are not parsed by a driver)
        assert few != many
