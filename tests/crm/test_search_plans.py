"""The global search's account provider and a whole CNPJ (issue 15): only an account's tax
id holds one, and its digit trigrams ("000", "001") are in nearly every row, so the
trigram index is not asked (it read most of the table: 1.5 -> 11 ms on PostgreSQL, 14-21
ms on SQLite at 200,000 accounts); the account with that tax id is the one answer, as in
the accounts list and the API (matching_account_ids)."""

from __future__ import annotations

from sqlalchemy import event

from erp.auth.models import User
from erp.db import db
from modules.crm.services.search import search_accounts

CNPJ = "11.222.333/0001-81"


def statements_of(function) -> list[str]:
    seen: list[str] = []

    def listen(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        result = function()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return result, seen


def test_a_whole_cnpj_is_looked_up_by_tax_id_only(app, users, make_account):
    owner = make_account(legal_name="Dona do CNPJ", tax_id=CNPJ)
    make_account(legal_name="Cliente 11222333000181 ref")
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        rep.record_scope  # noqa: B018 (the user's roles: not the search's)
        for query in (CNPJ, "11222333000181"):
            found, sent = statements_of(lambda q=query: search_accounts(q, rep))
            assert [a.id for a in found] == [owner]
            assert not [s for s in sent if " LIKE " in s.upper() or " MATCH " in s.upper()], sent
        # A fragment of digits still goes through the trigram index.
        found, sent = statements_of(lambda: search_accounts("11222333", rep))
        assert owner in [a.id for a in found]
        assert [s for s in sent if " LIKE " in s.upper() or " MATCH " in s.upper()]
