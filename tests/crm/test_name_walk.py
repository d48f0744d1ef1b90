"""The accounts list searched for a term and sorted by name walks the accounts having a
word that contains the term, in name order (models/search_words.py,
services/name_walk.py), instead of gathering every match and sorting them (issue 15): the
same rows, page after page, read a page's worth at a time."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select, text, update

from erp.db import db
from erp.imports.bulk import insert_records
from modules.crm.models import Account, account_vocabulary, account_word
from modules.crm.models.search_text import longest_letters, words
from modules.crm.services import name_walk, scope
from modules.crm.views import accounts as views
from tests.conftest import login_as
from tests.crm.plans import default_statistics, query_plan  # noqa: F401


def test_an_accounts_words_are_its_runs_of_three_letters_or_more():
    assert words("ana.silva@silva.com.br | 11 9876 | silva2x") == "ana com silva"
    assert words("") == "" and words(None) == ""
    assert longest_letters("silva 1999") == "silva"
    assert longest_letters("ana da silveira") == "silveira"
    assert longest_letters("(11) 98765") == ""


def _word_rows() -> set[tuple]:
    return {tuple(row) for row in db.session.execute(select(account_word))}


def _expected_rows() -> set[tuple]:
    """What the triggers must keep: a row per account and word of its search_words."""
    return {(word, account.legal_name, account.id, account.owner_id)
            for account in db.session.scalars(select(Account))
            for word in account.search_words.split()}


def _vocabulary() -> set[str]:
    return set(db.session.scalars(select(account_vocabulary.c.word)))


def test_the_words_follow_every_write_to_an_account(app, users, make_account):
    first = make_account(legal_name="Silva Peças Ltda.", email="vendas@silvana.com.br")
    second = make_account("rep_b", legal_name="Oliveira & Filhos", trade_name="Casa Oliveira")
    with app.app_context():
        assert _word_rows() == _expected_rows()
        assert ("silva", "Silva Peças Ltda.", first, users["rep_a"]) in _word_rows()
        assert {"silva", "silvana", "pecas", "vendas", "oliveira", "filhos"} <= _vocabulary()
        # Renamed, given to another owner, its e-mail gone (a save through the ORM).
        account = db.session.get(Account, first)
        account.legal_name, account.owner_id, account.email = "Souza Peças", users["rep_b"], None
        db.session.commit()
        assert _word_rows() == _expected_rows()
        assert {row[0] for row in _word_rows() if row[2] == first} == {"souza", "pecas"}
        assert all(row[3] == users["rep_b"] for row in _word_rows() if row[2] == first)
        # Written by SQL, whatever writes it; then deleted.
        db.session.execute(update(Account).where(Account.id == second)
                           .values(search_words="novo nome"))
        db.session.commit()
        assert {row[0] for row in _word_rows() if row[2] == second} == {"novo", "nome"}
        db.session.execute(delete(Account).where(Account.id == second))
        db.session.commit()
        assert _word_rows() == _expected_rows()
        assert not any(row[2] == second for row in _word_rows())
        assert "silva" in _vocabulary()  # a word no account has any more stays: harmless


def test_the_bulk_import_keeps_the_words_as_a_save_does(app, users):
    with app.app_context():
        ids = insert_records(Account, [
            {"legal_name": f"Silveira Transportes {n}", "person_type": "PJ",
             "owner_id": users["rep_c"], "email": f"frota{n}@silveira.com.br"}
            for n in range(3)])
        db.session.commit()
        assert _word_rows() == _expected_rows()
        assert {row[2] for row in _word_rows() if row[0] == "silveira"} == set(ids)
        assert {"silveira", "transportes", "frota"} <= _vocabulary()


# --- the same pages as the matches gathered and sorted --------------------------------------

OWNERS = ("rep_a", "rep_b", "rep_c", "manager", "admin")
NAMES = ("Silva Peças", "Ana Souza Silva", "Almeida Silvana Ltda.", "Dasilva Comércio",
         "Oliveira Silveira", "Bruno Santos", "Silva Peças", "Zeca da Silva 1",
         "Ilva Moda", "Casa Oliveira")


@pytest.fixture
def crowd(app, make_account, monkeypatch):
    """Equal names (sorted by id), names with two words containing "silv", a term found
    in the e-mail only, owners and archived accounts spread over the names; pages of 3;
    every scope large enough to walk (not gathered by owner)."""
    for n in range(40):
        name = NAMES[n % len(NAMES)]
        make_account(OWNERS[(n * 7) % len(OWNERS)], legal_name=f"{name} {n // 20}".strip(),
                     email=f"c{n}@{'silvana' if n % 9 == 0 else 'exemplo'}.com.br")
    with app.app_context():
        db.session.execute(update(Account).where(Account.id % 6 == 0).values(archived=True))
        db.session.execute(update(Account).where(Account.id % 3 != 0).values(
            lifecycle="customer"))
        db.session.commit()
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", 3)
    monkeypatch.setattr(scope, "SMALL_SCOPE", 0)


def _page(client, url: str) -> tuple[list[str], str | None, str | None]:
    html = client.get(url).get_data(as_text=True)
    ids = list(dict.fromkeys(re.findall(r'href="/crm/accounts/(\d+)"', html)))
    after = re.search(r"[?&;]after=([^\"&]+)", html)
    before = re.search(r"[?&;]before=([^\"&]+)", html)
    return ids, after and after.group(1), before and before.group(1)


def _every_page(client, url: str) -> tuple[list[list[str]], list[list[str]]]:
    """The pages forward by their Next cursors, then back by their Previous ones."""
    forward, back = [], []
    ids, after, before = _page(client, url)
    forward.append(ids)
    while after:
        ids, after, before = _page(client, f"{url}&after={after}")
        forward.append(ids)
    while before:
        ids, _after, before = _page(client, f"{url}&before={before}")
        back.append(ids)
    return forward, back


QUERIES = ("silva", "silv", "ilva", "oliveira", "zzqx", "silva 1", "Sílva")
FILTERS = ("", "&archived=1", "&archived=all", "&owner={rep_b}", "&lifecycle=customer")


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_walking_the_words_gives_the_pages_that_gathering_gives(
        app, client, users, crowd, who, monkeypatch, query_log):
    login_as(client, users[who])
    for query in QUERIES:
        for extra in FILTERS:
            url = f"/crm/accounts?q={query}{extra.format(**users)}"
            with query_log() as statements:
                walked = _every_page(client, url)
            # Not for "silva 1": its matches need not be found among the accounts having
            # a word with "silva" (a rare term; PostgreSQL: any such term).
            assert any("FROM crm_account_word" in s for s in statements) == (
                query != "silva 1"), (query, extra)
            with monkeypatch.context() as patched:
                patched.setattr(name_walk, "name_walk_words", lambda query: None)
                gathered = _every_page(client, url)
            assert walked == gathered, (query, extra)
            if query == "silva" and not extra and who == "admin":
                assert len(gathered[0]) >= 3 and len(gathered[1]) >= 2, gathered


@pytest.mark.usefixtures("default_statistics")
@pytest.mark.parametrize("who", ["admin", "rep_a"])
def test_the_walks_are_merged_in_name_order_and_never_sorted(app, users, crowd, who):
    from flask import current_app
    from flask_login import login_user

    from erp.auth import scope_owner_ids
    from erp.auth.models import User

    with app.app_context(), current_app.test_request_context("/crm/accounts?q=silv"):
        user = db.session.get(User, users[who])
        login_user(user)
        if db.engine.dialect.name != "sqlite":  # statistics of the test's rows
            db.session.execute(text("ANALYZE crm_account_word"))
            db.session.execute(text("ANALYZE crm_account"))
        found = name_walk.name_walk_words("silv")
        assert found == ["dasilva", "silva", "silvana", "silveira"]
        statement = views._filtered_accounts(searched=False)
        walks = name_walk._name_walks(statement, "silv", found, scope_owner_ids(user))
        page = walks.order_by(*name_walk._walk_order(walks.selected_columns, False)).limit(4)
        plan = query_plan(page, forbid_sort=True)
        index = "INDEX ix_crm_account_word_owner" if who == "rep_a" else "PRIMARY KEY"
        if db.engine.dialect.name == "sqlite":
            assert "MERGE (UNION ALL)" in plan and "TEMP B-TREE" not in plan, plan
            assert f"SEARCH crm_account_word USING {index}" in plan.replace(
                "COVERING INDEX", "INDEX"), plan
        else:  # either index gives a word's (or a word and owner's) accounts in order:
            # which one PostgreSQL takes depends on the statistics of a few test rows
            assert "Merge Append" in plan and "Sort  " not in plan, plan
            assert re.search(r"using (pk_crm_account_word|ix_crm_account_word_owner) on "
                             r"crm_account_word\b", plan), plan
            assert "Seq Scan" not in plan and "Hash" not in plan, plan
