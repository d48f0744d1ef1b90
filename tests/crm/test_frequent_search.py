"""A frequent search term walks the accounts list's index in the sort's order, testing
each row, instead of gathering every match and sorting them (issue 15): its page then
costs the same at 20,000 and 200,000 accounts. The rows are the same either way."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from erp.db import db
from modules.crm.models import Account
from modules.crm.services import search
from tests.conftest import login_as
from tests.crm.plans import default_statistics, query_plan  # noqa: F401

TERMS = ("frequente", "rarissima", "comercio 1", "zzqx")


@pytest.fixture
def searched(app, make_account, monkeypatch):
    """30 accounts share a word, 2 another; the page is sized so that the threshold is 10
    matches whatever the largest id (PostgreSQL's sequences go on across tests)."""
    for n in range(30):
        make_account(legal_name=f"Frequente Comércio {n} Ltda.",
                     owner="rep_a" if n % 3 else "rep_b")
    for n in range(2):
        make_account(legal_name=f"Raríssima {n} S.A.")
    with app.app_context():
        rows = db.session.scalar(select(func.max(Account.id)))
    monkeypatch.setattr(search, "WALK_PAGE", 100.5 / rows)  # sqrt(page x rows) = 10.02


def _list_statement(users, query_string: str, who: str, walk: bool):
    from flask import current_app
    from flask_login import login_user

    from erp.auth.models import User
    from modules.crm.views.accounts import _filtered_accounts

    with current_app.test_request_context(f"/crm/accounts?{query_string}"):
        login_user(db.session.get(User, users[who]))
        return _filtered_accounts(walk=walk)


def test_a_term_is_frequent_past_the_square_root_of_page_times_rows(app, searched):
    with app.app_context():
        assert search.frequent_term("frequente")
        assert not search.frequent_term("rarissima")
        assert not search.frequent_term("zzqx")
        assert not search.frequent_term("11.222.333/0001-81")  # a CNPJ: by tax id only


@pytest.mark.parametrize("who", ["admin", "rep_a"])
@pytest.mark.parametrize("sort", ["-updated", "-created", "name"])
def test_walking_finds_what_gathering_finds_in_the_same_order(app, users, searched, who, sort):
    with app.app_context():
        for term in TERMS:
            walked = db.session.scalars(
                _list_statement(users, f"q={term}&sort={sort}", who, walk=True)).all()
            gathered = db.session.scalars(
                _list_statement(users, f"q={term}&sort={sort}", who, walk=False)).all()
            assert [a.id for a in walked] == [a.id for a in gathered], term
        assert walked == [] and gathered == []  # "zzqx": nothing either way


@pytest.mark.usefixtures("default_statistics")
@pytest.mark.parametrize("who", ["admin", "rep_a"])
@pytest.mark.parametrize("sort", ["-updated", "-created"])
def test_the_walk_reads_the_sort_index_in_order_and_not_the_trigram_index(
        app, users, searched, who, sort):
    with app.app_context():
        plan = query_plan(_list_statement(users, f"q=frequente&sort={sort}", who, walk=True)
                          .limit(26), forbid_sort=True)
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert "crm_account_fts" not in plan and "search_trgm" not in plan, plan
        if db.engine.dialect.name != "sqlite":
            assert "Sort" not in plan.replace("Incremental Sort", ""), plan


def _page_statements(app, client, url: str) -> tuple[str, list[str]]:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
        assert response.status_code == 200
        return response.get_data(as_text=True), statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _walks(statements: list[str]) -> bool:
    """A page's rows read testing each account's search text (not counted, and not the
    matches gathered first: PostgreSQL's trigram search is a LIKE inside ARRAY(…))."""
    return any("crm_account.search_text LIKE" in s and "count(" not in s
               and "ARRAY" not in s.upper() for s in statements)


def _counts_row_by_row(statements: list[str]) -> bool:
    """The list's capped count tests each account (PostgreSQL: its trigram index then up to
    the cap), not the matches gathered into an array first."""
    return any("count(" in s and "crm_account.search_text LIKE" in s
               and "crm_account.archived" in s and "ARRAY" not in s.upper()
               for s in statements)


def test_the_list_walks_a_frequent_term_by_time_and_gathers_it_by_name(
        app, client, users, searched):
    login_as(client, users["admin"])
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    html, statements = _page_statements(app, client, "/crm/accounts?q=frequente&sort=-updated")
    # SQLite walks the time index for the page; PostgreSQL counts row by row.
    assert (_walks(statements) if sqlite else _counts_row_by_row(statements)), statements
    assert "Frequente Comércio 29 Ltda." in html and "Raríssima" not in html
    # Names cluster ("Silva …" under S): by name a frequent term's matches are gathered
    # and sorted (PostgreSQL counts them row by row: see frequent_term_reading).
    html, statements = _page_statements(app, client, "/crm/accounts?q=frequente&sort=name")
    assert not _walks(statements), statements
    assert "Frequente Comércio 0 Ltda." in html
    # A rare term is gathered whatever the sort.
    html, statements = _page_statements(app, client, "/crm/accounts?q=rarissima&sort=-updated")
    assert not _walks(statements) and not _counts_row_by_row(statements), statements
    assert "Raríssima 1 S.A." in html and "Frequente" not in html
