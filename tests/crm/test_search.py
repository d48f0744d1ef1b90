"""The atomic search: any fragment, with or without punctuation, through an index."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account, Contact
from modules.crm.models.search_index import matching_ids
from modules.crm.services.search import search_accounts, search_contacts
from tests.conftest import login_as


@pytest.fixture
def catalog(make_account, make_contact):
    ids = {
        "mosaico": make_account(legal_name="Mosaico Tecnologia Ltda.", trade_name="Mosaico",
                                tax_id="11.222.333/0001-81", phone="(11) 98765-4321",
                                email="contato@mosaico.com.br"),
        "sao_joao": make_account(legal_name="Padaria São João", tax_id="529.982.247-25",
                                 phone="(21) 3333-4444"),
        "alnum": make_account(legal_name="Alfa Numérica S.A.", tax_id="12.ABC.345/01DE-35"),
        "other": make_account(legal_name="Outra Empresa", owner="rep_b",
                              tax_id="11.222.333/0002-62"),
    }
    ids["contact"] = make_contact(name="Joana Prado", email="joana@mosaico.com.br",
                                  mobile="(11) 91234-5678", account_id=ids["mosaico"],
                                  role="Compras")
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("11.222.333/0001-81", ["mosaico"]),
        ("11222333000181", ["mosaico"]),
        ("11222333", ["mosaico"]),
        ("(11) 98765-4321", ["mosaico"]),
        ("11987654321", ["mosaico"]),
        ("+55 11 98765-4321", ["mosaico"]),
        ("98765", ["mosaico"]),
        ("mosaico", ["mosaico"]),
        ("TECNOLOGIA", ["mosaico"]),
        ("contato@mosaico", ["mosaico"]),
        ("sao joao", ["sao_joao"]),
        ("São Jo", ["sao_joao"]),
        ("529.982.247-25", ["sao_joao"]),
        ("982247", ["sao_joao"]),
        ("3333-4444", ["sao_joao"]),
        ("12.ABC.345/01DE-35", ["alnum"]),
        ("12abc345", ["alnum"]),
        ("numerica", ["alnum"]),
        ("zzz-nothing", []),
        ("ab", []),  # shorter than a trigram: nothing, rather than a full scan
    ],
)
def test_account_search_by_any_fragment(app, users, catalog, query, expected):
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        found = [a.id for a in search_accounts(query, rep)]
    assert found == [catalog[key] for key in expected]


def test_exact_tax_id_comes_first(app, users, make_account):
    make_account(legal_name="Cliente 11222333000181 ref", owner="rep_a")
    exact = make_account(legal_name="Dona do CNPJ", tax_id="11.222.333/0001-81")
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        assert search_accounts("11.222.333/0001-81", rep)[0].id == exact


def test_contacts_are_found_and_scoped(app, users, catalog):
    with app.app_context():
        rep_a = db.session.get(User, users["rep_a"])
        rep_c = db.session.get(User, users["rep_c"])
        for query in ("joana", "Prado", "91234-5678", "joana@mosaico.com.br"):
            assert [c.id for c in search_contacts(query, rep_a)] == [catalog["contact"]]
        assert search_contacts("joana", rep_c) == []


def test_search_respects_scope(app, users, catalog):
    with app.app_context():
        rep_a = db.session.get(User, users["rep_a"])
        manager = db.session.get(User, users["manager"])
        assert search_accounts("outra", rep_a) == []
        assert [a.id for a in search_accounts("outra", manager)] == [catalog["other"]]


def test_search_text_follows_edits_and_deletes(app, users, catalog):
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        account = db.session.get(Account, catalog["mosaico"])
        account.trade_name = "Quadriculado"
        db.session.commit()
        assert [a.id for a in search_accounts("quadricul", rep)] == [catalog["mosaico"]]
        db.session.delete(db.session.get(Account, catalog["sao_joao"]))
        db.session.commit()
        assert search_accounts("sao joao", rep) == []


def test_global_search_box_shows_accounts_and_contacts(client, users, catalog):
    login_as(client, users["rep_a"])
    html = client.get("/search?q=mosaico").get_data(as_text=True)
    assert f'/crm/accounts/{catalog["mosaico"]}"' in html
    assert f'/crm/contacts/{catalog["contact"]}"' in html


def _plan(statement) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            return "\n".join(str(row[-1]) for row in rows)
        # A tiny test table would be scanned whatever the indexes: forbid that, so
        # the plan shows whether the index can answer.
        conn.execute(text("SET enable_seqscan = off"))
        rows = conn.execute(text(f"EXPLAIN {compiled}")).all()
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("model", [Account, Contact])
def test_fragment_search_uses_the_trigram_index(app, catalog, model):
    with app.app_context():
        plan = _plan(matching_ids(model.__table__, ["98765", "mosaico"], db.engine.dialect.name))
        if db.engine.dialect.name == "sqlite":
            assert f"{model.__tablename__}_fts VIRTUAL TABLE INDEX" in plan, plan
        else:
            assert f"ix_{model.__tablename__}_search_trgm" in plan, plan
            assert "Seq Scan" not in plan, plan
