"""Find duplicates (issue 18, point 1): the scan of existing accounts and contacts for
likely pairs, ranked by confidence (e-mail, phone, name, CNPJ root), paged, within the
viewer's scope (rep_c is in another team: the manager never sees their records), "not a
duplicate" dismissing a pair for good; and structurally: the scan reads the shared keys
and the records' indexes (no full scan of the accounts), a page costs the same number of
queries whatever the page's size or the table's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from erp.auth.models import User
from erp.db import db
from erp.testing.queries import count_queries
from modules.crm.models import DuplicateDismissal
from modules.crm.services import duplicates as service
from tests.conftest import csrf_token, login_as
from tests.crm.plans import full_scans, query_plan, sql

CNPJ_A, CNPJ_A_BRANCH = "11.222.333/0001-81", "11.222.333/0002-62"


@pytest.fixture
def pairs(make_account):
    """Four pairs, one per kind; the phone pair's second account is rep_c's."""
    ids = {
        "email1": make_account("rep_a", legal_name="Alfa Um", email="compras@alfa.com.br"),
        "email2": make_account("rep_b", legal_name="Beta Dois", email="compras@alfa.com.br"),
        "phone1": make_account("rep_a", legal_name="Gama Três", phone="(11) 3333-4444"),
        "phone2": make_account("rep_c", legal_name="Delta Quatro", mobile="(11) 3333-4444"),
        "name1": make_account("rep_a", legal_name="Teste Alfanumérico Ltda"),
        "name2": make_account("rep_b", legal_name="TESTE ALFANUMERICO LTDA ME"),
        "root1": make_account("rep_a", legal_name="Matriz Sa", tax_id=CNPJ_A),
        "root2": make_account("rep_b", legal_name="Filial Sb", tax_id=CNPJ_A_BRANCH),
        "alone": make_account("rep_a", legal_name="Sozinha Ltda", email="so@x.com"),
    }
    return ids


def _scan(app, users, who: str, record_kind: str = "account", per_page: int = 20):
    """Every page's pairs, as (reason, first id, second id, confidence)."""
    found, cursor, pages = [], None, 0
    with app.app_context():
        user = db.session.get(User, users[who])
        while True:
            page = service.scan(record_kind, user, cursor, per_page=per_page)
            found += [(p.kind.reason, p.first.id, p.second.id, p.confidence)
                      for p in page.pairs]
            pages += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
            assert pages < 50
        db.session.remove()
    return found, pages


def test_admin_sees_every_pair_ranked_by_confidence(app, users, pairs):
    found, _pages = _scan(app, users, "admin")
    assert [(reason, a, b) for reason, a, b, _c in found] == [
        ("email", pairs["email1"], pairs["email2"]),
        ("phone", pairs["phone1"], pairs["phone2"]),
        ("name", pairs["name1"], pairs["name2"]),
        ("tax_id_root", pairs["root1"], pairs["root2"]),
    ]
    confidences = [c for *_rest, c in found]
    assert confidences == sorted(confidences, reverse=True)


def test_the_manager_sees_only_pairs_within_their_scope(app, users, pairs):
    found, _pages = _scan(app, users, "manager")
    assert [reason for reason, *_rest in found] == ["email", "name", "tax_id_root"]
    rep, _pages = _scan(app, users, "rep_a")  # the service scopes; the page needs crm.manage
    assert rep == []


@pytest.mark.parametrize("per_page", [1, 2, 3])
def test_pages_continue_without_repeating_or_losing_a_pair(app, users, pairs, per_page):
    everything, _pages = _scan(app, users, "admin")
    paged, pages = _scan(app, users, "admin", per_page=per_page)
    assert paged == everything
    assert pages >= -(-len(everything) // per_page)


def test_a_bad_cursor_starts_over(app, users, pairs):
    with app.app_context():
        user = db.session.get(User, users["admin"])
        assert len(service.scan("account", user, "%%%not-base64").pairs) == 4
        db.session.remove()


def test_a_group_pairs_each_record_with_the_oldest(app, users, make_account):
    first = make_account("rep_a", legal_name="Um", email="grupo@x.com")
    others = [make_account("rep_a", legal_name=f"Outro {n}", email="grupo@x.com")
              for n in range(3)]
    found, _pages = _scan(app, users, "admin")
    assert [(a, b) for _r, a, b, _c in found] == [(first, other) for other in others]


def test_archived_records_are_left_out(app, users, pairs):
    from modules.crm.models import Account

    with app.app_context():
        db.session.get(Account, pairs["email2"]).archived = True
        db.session.commit()
        db.session.remove()
    found, _pages = _scan(app, users, "admin")
    assert "email" not in [reason for reason, *_rest in found]


def test_keys_follow_edits(app, users, pairs):
    from modules.crm.models import Account

    with app.app_context():
        db.session.get(Account, pairs["email2"]).email = "outro@beta.com.br"
        db.session.get(Account, pairs["alone"]).legal_name = "Teste Alfanumerico EIRELI"
        db.session.commit()
        db.session.remove()
    found, _pages = _scan(app, users, "admin")
    assert [(r, a, b) for r, a, b, _c in found if r in ("email", "name")] == [
        ("name", pairs["name1"], pairs["name2"]), ("name", pairs["name1"], pairs["alone"])]


def test_contacts_by_email_and_phone(app, users, make_contact):
    ana = make_contact("rep_a", name="Ana", email="ana@x.com")
    ana2 = make_contact("rep_b", name="Ana Souza", email="ana@x.com", phone="(11) 3333-5555")
    bia = make_contact("rep_a", name="Bia", mobile="(11) 3333-5555")
    make_contact("rep_a", name="Carla", email="carla@x.com")
    found, _pages = _scan(app, users, "admin", "contact")
    assert [(r, a, b) for r, a, b, _c in found] == [("email", ana, ana2),
                                                    ("phone", ana2, bia)]


# --- the page and "not a duplicate" ----------------------------------------------------------


def test_page_for_managers_and_admins_only(client, users, pairs):
    for who, status in (("admin", 200), ("manager", 200), ("rep_a", 403), ("finance", 403)):
        login_as(client, users[who])
        assert client.get("/crm/duplicates/account").status_code == status, who
    login_as(client, users["admin"])
    assert client.get("/crm/duplicates/other").status_code == 404


def test_page_lists_pairs_with_merge_links_but_not_for_branches(app, client, users, pairs):
    login_as(client, users["admin"])
    html = client.get("/crm/duplicates/account").get_data(as_text=True)
    rows = re.findall(r'<tr data-pair="(\d+)-(\d+)">(.*?)</tr>', html, re.S)
    assert [(int(a), int(b)) for a, b, _row in rows] == [
        (pairs["email1"], pairs["email2"]), (pairs["phone1"], pairs["phone2"]),
        (pairs["name1"], pairs["name2"]), (pairs["root1"], pairs["root2"])]
    merge_available = "crm.merge_accounts" in app.view_functions
    for a, b, row in rows[:3]:
        assert (f"/crm/accounts/merge?a={a}&amp;b={b}" in row) is merge_available
    assert "/merge?" not in rows[3][2]  # branches: shown, not proposed for merging
    assert "(11) 3333-4444" in rows[1][2] and "11.222.333" in rows[3][2]


def test_dismiss_asks_then_hides_the_pair_for_good(app, client, users, pairs):
    login_as(client, users["manager"])
    a, b = pairs["email2"], pairs["email1"]  # either order
    url = "/crm/duplicates/account/dismiss"
    confirm = client.get(f"{url}?a={a}&b={b}")
    assert confirm.status_code == 200 and 'id="confirm-dismiss"' in confirm.get_data(
        as_text=True)
    assert client.post(url, data={"a": a, "b": b}).status_code == 400  # no CSRF token
    token = csrf_token(client, "/crm/duplicates/account")
    done = client.post(url, data={"csrf_token": token, "a": a, "b": b})
    assert done.status_code == 303
    again = client.post(url, data={"csrf_token": token, "a": b, "b": a})
    assert again.status_code == 303
    with app.app_context():
        rows = db.session.execute(select(DuplicateDismissal.low_id, DuplicateDismissal.high_id,
                                         DuplicateDismissal.user_id)).all()
        db.session.remove()
    assert [tuple(r) for r in rows] == [(min(a, b), max(a, b), users["manager"])]
    html = client.get("/crm/duplicates/account").get_data(as_text=True)
    assert f'data-pair="{pairs["email1"]}-{pairs["email2"]}"' not in html
    found, _pages = _scan(app, users, "admin")  # for everyone
    assert "email" not in [reason for reason, *_rest in found]


def test_dismissing_out_of_scope_is_a_404(client, users, pairs):
    login_as(client, users["manager"])
    url = "/crm/duplicates/account/dismiss"
    a, b = pairs["phone1"], pairs["phone2"]  # phone2 is rep_c's
    assert client.get(f"{url}?a={a}&b={b}").status_code == 404
    token = csrf_token(client, "/crm/duplicates/account")
    assert client.post(url, data={"csrf_token": token, "a": a, "b": b}).status_code == 404
    assert client.post(url, data={"csrf_token": token, "a": a, "b": a}).status_code == 400
    assert client.get(url).status_code == 302  # no pair: back to the list


# --- structure: indexes, and a constant number of queries ------------------------------------


def _records_read_by_key(plan: str, table: str) -> list[str]:
    """SQLite: the plan's reads of ``table`` itself that are not by its primary key (each
    record is found through its key's index, under an alias, then read by id)."""
    if db.engine.dialect.name != "sqlite":
        return []
    return [line for line in plan.splitlines()
            if line.strip().startswith((f"SEARCH {table} ", f"SCAN {table} "))
            and "rowid=?" not in line and "id=?" not in line]


@pytest.mark.parametrize("record_kind", ["account", "contact"])
def test_the_scan_reads_indexes_not_the_tables(app, users, pairs, make_contact, record_kind):
    make_contact("rep_a", name="Ana", email="ana@x.com")
    make_contact("rep_b", name="Ana", email="ana@x.com")
    model = service._model(record_kind)
    table = model.__table__.name
    with app.app_context():
        for who in ("admin", "manager"):
            user = db.session.get(User, users[who])
            for kind in service._kinds(record_kind):
                if kind.candidates:  # similar names: test_find_duplicates_similar.py
                    continue
                for statement in (
                        service._groups_select(model, kind, None, user, 21),
                        service._groups_select(model, kind, "a", user, 21),
                        service._members_select(model, kind, ["a", "b"], user, 40)):
                    if db.engine.dialect.name != "sqlite":
                        # PostgreSQL plans a table of a few rows as it likes (see
                        # plans.sql): the shape that makes the keyed plan the only good
                        # one: records found through their key's alias, then by id.
                        text_ = sql(statement)
                        assert f"FROM {table} AS dup_" in text_, text_
                        assert f"JOIN {table} ON {table}.id = dup_" in text_, text_
                        continue
                    plan = query_plan(statement)
                    assert not full_scans(plan, table), (who, kind, plan)
                    assert not full_scans(plan, "crm_duplicate_key"), (who, kind, plan)
                    assert not _records_read_by_key(plan, table), (who, kind, plan)
        db.session.remove()


def test_a_page_costs_the_same_queries_whatever_its_size_or_the_tables(app, users,
                                                                        make_account):
    def queries(per_page: int) -> int:
        with app.app_context():
            user = db.session.get(User, users["manager"])
            with count_queries(app) as statements:
                service.scan("account", user, None, per_page=per_page)
            db.session.remove()
        return len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            make_account("rep_a", legal_name=f"Empresa {i}", email=f"e{i}@x.com")
            make_account("rep_b", legal_name=f"Outra {i}", email=f"e{i}@x.com",
                         phone=f"(11) 3000-{i:04d}")
            make_account("rep_a", legal_name=f"Mais {i}", mobile=f"(11) 3000-{i:04d}")

    add(3, 0)
    small = {size: queries(size) for size in (2, 5)}
    add(12, 100)
    large = {size: queries(size) for size in (2, 5, 20)}
    assert len(set(small.values()) | set(large.values())) == 1, (small, large)
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM crm_account")).scalar() == 45
        db.session.remove()
