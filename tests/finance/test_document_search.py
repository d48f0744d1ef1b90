"""The global search's receivables by document (issue 15): a rare fragment is looked up in
the trigram index (finance 0007) instead of testing every document; a frequent one walks
the due date index, newest first; the results are what "document contains" (case aside)
gives, in the same order, for every scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from erp.testing.queries import captured
from modules.finance import search
from modules.finance.models import Receivable
from tests.crm.plans import default_statistics, full_scans  # noqa: F401 (a fixture)
from tests.finance.test_aging_plans import explain, seed

QUERIES = ("nf 1", "NF", "-3", "zzqx", "Nf 2", "%", "_")


def _expected(app, user_id: int, query: str, limit: int) -> list[int]:
    """Newest first by due date, then id: the documents that contain ``query``, case aside,
    of the accounts ``user`` sees (the search as written before the index)."""
    from modules.crm.models import Account
    from modules.crm.services.scope import account_scope

    with app.app_context():
        user = db.session.get(User, user_id)
        rows = db.session.execute(
            select(Receivable.id, Receivable.document, Receivable.due_date)
            .join(Account, Account.id == Receivable.account_id).where(account_scope(user))).all()
        db.session.remove()
    found = [r for r in rows if query.lower() in r.document.lower()]
    found.sort(key=lambda r: (r.due_date, r.id), reverse=True)
    return [r.id for r in found[:limit]]


@pytest.mark.parametrize("who", ["admin", "manager", "finance"])
def test_the_search_finds_what_contains_finds(app, users, make_account, who, monkeypatch):
    seed(app, users, make_account)
    with app.test_request_context():
        user = db.session.get(User, users[who])
        for query in QUERIES:
            for walked in (False, True):  # the trigram index's way, and the walk
                monkeypatch.setattr(search, "frequent_after",
                                    (lambda *_: -1) if walked else (lambda *_: 10**9))
                found = search.search_receivables(query, user, 10)
                ids = [int(r.url.rsplit("/", 1)[1]) for r in found]
                assert ids == _expected(app, users[who], query, 10), (query, walked)


def test_a_rare_fragment_is_read_from_the_trigram_index(app, users, make_account):
    """SQLite: the matches from the FTS5 table, then their rows by id — no scan of the
    receivables (it tested every document: 7 ms at 200K). PostgreSQL: the trigram GIN
    index answers the ILIKE (its planner weighs it against walking the due dates)."""
    seed(app, users, make_account)
    with app.test_request_context():
        user = db.session.get(User, users["admin"])
        with captured(app) as seen:
            search.search_receivables("NF 3-1", user, 10)
        db.session.remove()
    [(statement, parameters)] = [(s, p) for s, p in seen if "FROM finance_receivable" in s
                                 and "document" in s]
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            plan = explain(app, statement, parameters)
            assert "finance_receivable_fts" in plan, plan
            assert not full_scans(plan, "finance_receivable"), plan
            return
        # A few test rows are cheapest walked in due-date order: with no scan and no walk
        # left to choose, the plan shows the index that answers the ILIKE itself.
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_indexscan = off")
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(
                f"EXPLAIN {statement}", parameters))
        assert "Bitmap Index Scan on ix_finance_receivable_document_trgm" in plan, plan
