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


def _sorted_apart(statements: list[str]) -> bool:
    """PostgreSQL: the page's ids found by testing each account, in an order no index
    gives ("name || ''", ..., "id + 0"), not the matches gathered into an array first."""
    return any(s.startswith("SELECT crm_account.id \nFROM") and "ARRAY" not in s.upper()
               and "crm_account.search_text LIKE" in s and "ORDER BY (crm_account." in s
               and "(crm_account.id + 0)" in s for s in statements)


def test_the_list_walks_a_frequent_term_by_time_and_its_words_by_name(
        app, client, users, searched):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's readings; PostgreSQL's: the test below")
    login_as(client, users["admin"])
    html, statements = _page_statements(app, client, "/crm/accounts?q=frequente&sort=-updated")
    assert _walks(statements), statements  # the time index, walked for the page
    assert "Frequente Comércio 29 Ltda." in html and "Raríssima" not in html
    # Names cluster ("Silva …" under S): by name the accounts having a word that contains
    # the term are walked instead, in name order (test_name_walk.py).
    html, statements = _page_statements(app, client, "/crm/accounts?q=frequente&sort=name")
    assert not any("search_text LIKE" in s and "ORDER BY crm_account.legal_name" in s
                   for s in statements), statements  # not the name index
    assert any("FROM crm_account_word" in s for s in statements), statements
    assert "Frequente Comércio 0 Ltda." in html
    # A rare term is gathered whatever the sort.
    html, statements = _page_statements(app, client, "/crm/accounts?q=rarissima&sort=-updated")
    assert not _walks(statements) and not _counts_row_by_row(statements), statements
    assert "Raríssima 1 S.A." in html and "Frequente" not in html


def test_postgresql_tests_each_row_and_sorts_apart_whatever_the_term(
        app, client, users, searched):
    """PostgreSQL answers the row test with a bitmap scan of the trigram (and tax id)
    index; sort keys no index serves leave it no walk of the name or time index testing
    each row; the page's ids are sorted before its rows are read (search_reading). (A
    scope of a few accounts is gathered by owner first, as unsearched: small_scope.)"""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("PostgreSQL's reading")
    login_as(client, users["admin"])
    # (By name, a term of letters only walks the words instead: test_name_walk.py.)
    pages = {"comercio 1&sort=name": "Frequente Comércio 1 Ltda.",
             "frequente&sort=-updated": "Frequente Comércio 29 Ltda.",
             "rarissima&sort=-updated": "Raríssima 0 S.A."}
    for query, shown in pages.items():
        html, statements = _page_statements(app, client, f"/crm/accounts?q={query}")
        assert _sorted_apart(statements) and _counts_row_by_row(statements), statements
        assert shown in html and ("Raríssima" in html) == query.startswith("rarissima")


@pytest.mark.usefixtures("default_statistics")
@pytest.mark.parametrize("sort", ["name", "-updated"])
def test_postgresql_sorts_a_searched_page_it_cannot_walk(app, users, searched, sort):
    from erp.paging import gathered
    from modules.crm.views.accounts import SORTS

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("PostgreSQL's plan")
        keys = gathered(SORTS[sort], anywhere=True)
        statement = (_list_statement(users, f"q=frequente&sort={sort}", "admin", walk=True)
                     .order_by(None).order_by(*(k.ordered() for k in keys)).limit(26))
        plan = query_plan(statement)
        # The page is the top of the matches sorted on keys no index serves, so no index
        # is walked in the list's order testing each row. (Which path finds the matches
        # depends on the statistics autovacuum took of a few rows: with seq scans
        # forbidden, it may be any index read whole, the category's say.)
        top = plan.splitlines()[:3]
        assert top[0].startswith("Limit") and top[1].strip().startswith("->  Sort "), plan
        assert top[2].strip().startswith("Sort Key: ((") and "crm_account." in top[2], plan
