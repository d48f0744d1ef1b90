"""CRM migration 0025 (issue 15) on a database with accounts: each account's words are
filled from its search text in batches, the words' table and vocabulary through the
triggers (a batch of accounts without a word of three letters has nothing to write), kept
from then on;
the way back removes the column, the tables, the triggers and the function."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from erp.testing.contract_checks import trigger_names
from tests.conftest import make_user
from tests.crm.test_stage_history_migration import insert_account

BEFORE = "0024_crm_loss_month"


def _word_rows(conn) -> set[tuple]:
    return {tuple(row) for row in conn.execute(text(
        "SELECT word, legal_name, account_id, owner_id FROM crm_account_word"))}


def test_the_words_are_filled_kept_and_the_way_back_works(
        make_app, empty_database_url, monkeypatch):
    import importlib

    migration = importlib.import_module("modules.crm.migrations.0025_crm_account_words")
    monkeypatch.setattr(migration, "BATCH", 2)  # the two wordless accounts: a batch alone
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", BEFORE):
            flask_migrate.upgrade(revision=revision)
        user = make_user("migrator25", [])
        db.session.commit()
        owner = user.id
        db.session.remove()
        with db.engine.begin() as conn:
            wordless = [insert_account(conn, owner, name).id for name in ("AB 12", "X-9")]
            silva = insert_account(conn, owner, "Silva Peças Ltda.").id
            souza = insert_account(conn, owner, "Souza & Silva").id
            conn.execute(text("UPDATE crm_account SET search_text = lower(legal_name) "
                              "|| ' | contato@silvana.com.br' WHERE id = :id"), {"id": souza})

        flask_migrate.upgrade(revision="0025_crm_account_words")
        with db.engine.begin() as conn:
            assert _word_rows(conn) == {
                (word, "Silva Peças Ltda.", silva, owner) for word in ("silva", "ltda")
            } | {(word, "Souza & Silva", souza, owner)
                 for word in ("souza", "silva", "contato", "silvana", "com")}
            # ("peças" folds to "pecas" in a save; the hand-written search text kept "ç")
            assert conn.execute(text(
                "SELECT count(*) FROM crm_account WHERE search_words = '' AND id IN "
                f"({', '.join(map(str, wordless))})")).scalar() == 2
            vocabulary = set(conn.execute(text(
                "SELECT word FROM crm_account_vocabulary")).scalars())
            assert {"silva", "silvana", "souza"} <= vocabulary
            # Kept from now on, whatever writes the account.
            conn.execute(text("UPDATE crm_account SET legal_name = 'Silva S.A.' WHERE id = :id"),
                         {"id": silva})
            conn.execute(text("DELETE FROM crm_account WHERE id = :id"), {"id": souza})
            assert _word_rows(conn) == {
                (word, "Silva S.A.", silva, owner) for word in ("silva", "ltda")}
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        inspector = inspect(db.engine)
        assert not {"crm_account_word", "crm_account_vocabulary"} & set(
            inspector.get_table_names())
        assert "search_words" not in {c["name"] for c in inspector.get_columns("crm_account")}
        with db.engine.begin() as conn:
            assert trigger_names(conn, "crm_account_words%") == set()
            if conn.dialect.name == "postgresql":
                assert conn.execute(text(
                    "SELECT count(*) FROM pg_proc WHERE proname = 'crm_account_words'")
                ).scalar() == 0
            # The accounts are written as before.
            conn.execute(text("UPDATE crm_account SET legal_name = 'Outra' WHERE id = :id"),
                         {"id": silva})
        db.session.remove()
        db.engine.dispose()
