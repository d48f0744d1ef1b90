"""Find duplicates, similar names (issue 18, point 1): pairs whose names are similar
without being equal ("Teste Alfanumérico Ltda" and "Teste Alfanumerico Comercio Ltda", a
typo) are kept in crm_duplicate_candidate when an account is created or renamed (one
trigram look-up through the search index), found by the scan ranked by their score among
the other reasons, dismissable for good, within the viewer's scope; the contacts of one
account with similar names likewise. Structurally: the pairs are read by their score's
index (no full scan of the accounts or of the pairs, no sort), a page costs the same
number of queries whatever its size or the tables'."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from erp.auth.models import User
from erp.db import db
from erp.testing.queries import count_queries
from modules.crm.models import Account, Contact
from modules.crm.models.duplicates import DuplicateCandidate
from modules.crm.services import accounts as accounts_service
from modules.crm.services import contacts as contacts_service
from modules.crm.services import duplicates as service
from tests.crm.plans import default_statistics, full_scans, query_plan, sql  # noqa: F401


@pytest.fixture
def similar(make_account):
    return {
        "exact": make_account("rep_a", legal_name="Teste Alfanumérico Ltda"),
        "longer": make_account("rep_b", legal_name="Teste Alfanumerico Comercio Ltda"),
        "typo": make_account("rep_a", legal_name="Teste Alfanumerco Ltda"),
        "other": make_account("rep_c", legal_name="Teste Alfanumericos Ltda"),
        "unrelated": make_account("rep_a", legal_name="Padaria Pão Quente"),
        "number": make_account("rep_a", legal_name="Loja Central 2"),
        "number2": make_account("rep_b", legal_name="Loja Central 3"),
    }


def _scan(app, users, who: str, record_kind: str = "account", per_page: int = 20):
    found, cursor = [], None
    with app.app_context():
        user = db.session.get(User, users[who])
        for _page in range(50):
            page = service.scan(record_kind, user, cursor, per_page=per_page)
            found += [(p.kind.reason, p.first.id, p.second.id, p.confidence, p.score)
                      for p in page.pairs]
            cursor = page.next_cursor
            if cursor is None:
                break
        db.session.remove()
    return found


def _pairs(app, record_kind: str = "account") -> dict[tuple[int, int], int]:
    with app.app_context():
        rows = db.session.execute(select(DuplicateCandidate).where(
            DuplicateCandidate.kind == record_kind)).scalars().all()
        found = {(r.low_id, r.high_id): r.score for r in rows}
        db.session.remove()
    return found


def _pair(a: int, b: int) -> tuple[int, int]:
    return min(a, b), max(a, b)


def test_similar_names_are_paired_and_ranked_by_score(app, users, similar):
    pairs = _pairs(app)
    for a, b in (("exact", "longer"), ("exact", "typo"), ("exact", "other"),
                 ("typo", "other")):
        assert _pair(similar[a], similar[b]) in pairs, (a, b, pairs)
    assert not any(similar["unrelated"] in pair for pair in pairs)
    assert _pair(similar["number"], similar["number2"]) not in pairs  # told apart
    found = _scan(app, users, "admin")
    similar_found = [row for row in found if row[0] == "similar_name"]
    assert {(a, b) for _r, a, b, _c, _s in similar_found} == set(pairs)
    scores = [s for *_rest, s in similar_found]
    assert scores == sorted(scores, reverse=True) and all(600 <= s < 1000 for s in scores)
    confidences = [c for _r, _a, _b, c, _s in found]
    assert confidences == sorted(confidences, reverse=True)


def test_a_shared_one_word_trade_name_pairs_nobody(app, make_account):
    """A family name as trade name ("Barbosa") is shared by unrelated companies."""
    one = make_account("rep_a", legal_name="Barbosa Comércio de Peças EIRELI",
                       trade_name="Barbosa")
    two = make_account("rep_a", legal_name="Barbosa Metalúrgica S.A.", trade_name="Barbosa")
    three = make_account("rep_a", legal_name="Metalúrgica Central Paulista",
                         trade_name="Barbosa Peças Usadas")
    four = make_account("rep_a", legal_name="Comércio Jardim Azul",
                        trade_name="Barbosa Peças Usada")
    assert _pair(one, two) not in _pairs(app)
    assert _pair(three, four) in _pairs(app)  # two words or more: compared


def test_the_scan_ranks_similar_names_among_the_other_reasons(app, users, make_account):
    make_account("rep_a", legal_name="Alfa Um", email="compras@alfa.com.br")
    make_account("rep_b", legal_name="Beta Dois", email="compras@alfa.com.br")
    make_account("rep_a", legal_name="Matriz Sa", tax_id="11.222.333/0001-81")
    make_account("rep_b", legal_name="Filial Sb", tax_id="11.222.333/0002-62")
    make_account("rep_a", legal_name="Distribuidora Horizonte Ltda")
    make_account("rep_b", legal_name="Distribuidora Horizontes Ltda")
    for per_page in (1, 2, 20):
        assert [r for r, *_rest in _scan(app, users, "admin", per_page=per_page)] == [
            "email", "similar_name", "tax_id_root"]


def test_a_rename_updates_the_pairs(app, users, similar):
    pair = _pair(similar["exact"], similar["longer"])
    with app.app_context():
        user = db.session.get(User, users["admin"])
        account = db.session.get(Account, similar["longer"])
        accounts_service.update_account(account, {"legal_name": "Zebra Azul Transportes"},
                                        user=user, confirm_duplicates=True)
        db.session.remove()
    pairs = _pairs(app)
    assert not any(similar["longer"] in p for p in pairs)
    with app.app_context():
        user = db.session.get(User, users["admin"])
        account = db.session.get(Account, similar["longer"])
        accounts_service.update_account(account, {"legal_name": "Teste Alfanumericos Comercio"},
                                        user=user, confirm_duplicates=True)
        db.session.remove()
    assert pair in _pairs(app)


def test_a_rename_rolled_back_changes_no_pair(app, similar):
    before = _pairs(app)
    with app.app_context():
        db.session.get(Account, similar["longer"]).legal_name = "Zebra Azul Transportes"
        db.session.flush()
        db.session.rollback()
        db.session.get(Account, similar["unrelated"]).notes = "outra coisa"  # no rename
        db.session.commit()
        db.session.remove()
    assert _pairs(app) == before


def test_a_dismissed_similar_pair_is_never_proposed_again(app, users, similar):
    a, b = similar["longer"], similar["exact"]
    with app.app_context():
        assert service.dismiss("account", a, b, db.session.get(User, users["admin"]))
        db.session.remove()
    found = {(x, y) for _r, x, y, *_rest in _scan(app, users, "admin")}
    assert _pair(a, b) not in found and _pair(similar["exact"], similar["typo"]) in found
    with app.app_context():  # found again (a rename, the rebuild): still dismissed
        service.rebuild_candidates("account")
        db.session.remove()
    assert _pair(a, b) in _pairs(app)
    assert _pair(a, b) not in {(x, y) for _r, x, y, *_rest in _scan(app, users, "admin")}


def test_the_manager_sees_only_similar_pairs_within_their_scope(app, users, similar):
    admin = {(a, b) for r, a, b, *_rest in _scan(app, users, "admin") if r == "similar_name"}
    manager = {(a, b) for r, a, b, *_rest in _scan(app, users, "manager")
               if r == "similar_name"}
    assert any(similar["other"] in pair for pair in admin)  # rep_c's: another team
    assert manager == {pair for pair in admin if similar["other"] not in pair}
    assert manager


def test_the_rebuild_finds_the_pairs_again_in_batches(app, similar):
    before = _pairs(app)
    with app.app_context():
        db.session.execute(delete(DuplicateCandidate))
        db.session.commit()
        seen = []
        service.rebuild_candidates("account", batch=2, progress=lambda last, n: seen.append(
            last))
        db.session.remove()
    assert _pairs(app) == before
    assert seen == sorted(seen) and len(seen) >= 3


def test_similar_contacts_of_one_account(app, users, make_account, make_contact):
    account = make_account("rep_a", legal_name="Conta Contatos")
    elsewhere = make_account("rep_a", legal_name="Outra Conta Qualquer")
    joao = make_contact("rep_a", account_id=account, name="João da Silva")
    joao2 = make_contact("rep_a", account_id=account, name="Joao da Silvaa")
    make_contact("rep_a", account_id=account, name="Maria Souza")
    make_contact("rep_a", account_id=elsewhere, name="João da Silva")  # another account
    assert set(_pairs(app, "contact")) == {_pair(joao, joao2)}
    found = _scan(app, users, "manager", "contact")
    assert [(r, a, b) for r, a, b, *_rest in found] == [("similar_name", *_pair(joao, joao2))]
    with app.app_context():  # no longer at the same account: no longer a pair
        contacts_service.unlink_contact(db.session.get(Account, account),
                                        db.session.get(Contact, joao2))
        db.session.remove()
    assert _pairs(app, "contact") == {}
    with app.app_context():
        contacts_service.link_contact(db.session.get(Account, account),
                                      db.session.get(Contact, joao2), None)
        db.session.remove()
    assert set(_pairs(app, "contact")) == {_pair(joao, joao2)}
    with app.app_context():  # renamed: no longer similar
        contact = db.session.get(Contact, joao2)
        contacts_service.update_contact(contact, {"name": "Pedro Alves"})
        db.session.remove()
    assert _pairs(app, "contact") == {}


# --- structure ---------------------------------------------------------------------------


@pytest.mark.usefixtures("default_statistics")
@pytest.mark.parametrize("record_kind", ["account", "contact"])
def test_the_pairs_are_read_by_their_score_index(app, users, similar, record_kind):
    model = service._model(record_kind)
    table = model.__table__.name
    with app.app_context():
        for who in ("admin", "manager"):
            user = db.session.get(User, users[who])
            visible = service._visible(model, user)
            for after in (None, (800, 5, 9)):
                statement = service._candidates_select(model, record_kind, after, visible, 21)
                if db.engine.dialect.name != "sqlite":
                    text_ = sql(statement)
                    assert "ORDER BY crm_duplicate_candidate.score DESC" in text_, text_
                    plan = query_plan(statement, forbid_sort=True)
                    assert not full_scans(plan, "crm_duplicate_candidate"), plan
                    assert "Sort" not in plan, plan
                    continue
                plan = query_plan(statement)
                assert not full_scans(plan, table), (who, plan)
                assert not full_scans(plan, "crm_duplicate_candidate"), (who, plan)
                assert "TEMP B-TREE" not in plan, (who, plan)
        db.session.remove()


def test_a_page_of_similar_names_costs_the_same_queries_whatever_the_sizes(
        app, users, make_account):
    def queries(per_page: int, cursor=None) -> int:
        with app.app_context():
            user = db.session.get(User, users["manager"])
            with count_queries(app) as statements:
                service.scan("account", user, cursor, per_page=per_page)
            db.session.remove()
        return len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            make_account("rep_a", legal_name=f"Empresa Horizonte {i} Ltda", email=f"e{i}@x.com")
            make_account("rep_b", legal_name=f"Empresa Horizontes {i} Ltda", email=f"e{i}@x.com")

    add(3, 0)
    small = {size: queries(size) for size in (1, 2, 5)}
    add(12, 100)
    large = {size: queries(size) for size in (1, 2, 5, 20)}
    with app.app_context():
        user = db.session.get(User, users["manager"])
        second = service.scan("account", user, None, per_page=16).next_cursor  # in similar
        db.session.remove()
    large["second page"] = queries(5, second)
    assert _pairs(app), "no similar pairs were made"
    # The same for each page size whatever the table's; at most the role load and four
    # (a page of similar names only has no group to read the records of).
    assert all(small[size] == large[size] for size in small), (small, large)
    assert max(large.values()) <= 5 and large["second page"] <= large[5], (small, large)


def test_the_page_shows_a_similar_pair_with_its_similarity(app, client, users, similar):
    from tests.conftest import login_as

    login_as(client, users["manager"])
    html = client.get("/crm/duplicates/account").get_data(as_text=True)
    first, second = _pair(similar["exact"], similar["typo"])
    assert f'data-pair="{first}-{second}"' in html
    score = _pairs(app)[(first, second)]
    assert f"{round(score / 10)}%" in html and "a similar name" in html
    contacts = client.get("/crm/duplicates/contact").get_data(as_text=True)
    assert "a similar name at the same account" in contacts
