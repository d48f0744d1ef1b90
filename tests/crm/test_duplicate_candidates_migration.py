"""CRM migration 0021 (issue 18, point 1): the similar-name pairs' table on a database
with accounts; the rebuild (what ``flask crm duplicates-rebuild`` runs after migrating)
fills it from the accounts already there; the way back removes it."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from modules.crm.services import duplicates as service
from tests.conftest import make_user

ACCOUNT = (
    "INSERT INTO crm_account (id, person_type, legal_name, name_key, owner_id, lifecycle, "
    "priority, archived, search_text, version, created_at, updated_at) VALUES (:id, 'PJ', "
    ":name, :key, :owner, 'prospect', false, false, :search, 1, :at, :at)")
T0 = datetime(2026, 3, 2, 12)


def test_the_pairs_table_rebuilt_from_the_accounts_and_the_way_back(make_app,
                                                                   empty_database_url):
    from modules.crm.models.duplicates import name_key
    from modules.crm.models.search_text import build

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0020_crm_service_types"):
            flask_migrate.upgrade(revision=revision)
        owner = make_user("migrator", [])
        db.session.commit()
        owner_id = owner.id
        db.session.remove()
        with db.engine.begin() as conn:
            for id_, name in ((1, "Teste Alfanumérico Ltda"),
                              (2, "Teste Alfanumerico Comercio Ltda"),
                              (3, "Padaria Pão Quente")):
                conn.execute(text(ACCOUNT), {"id": id_, "name": name, "key": name_key(name),
                                             "owner": owner_id, "search": build([name]),
                                             "at": T0})
        flask_migrate.upgrade(revision="0021_crm_duplicate_candidates")
        inspector = inspect(db.engine)
        assert "crm_duplicate_candidate" in inspector.get_table_names()
        indexes = {i["name"] for i in inspector.get_indexes("crm_duplicate_candidate")}
        assert {"ix_crm_duplicate_candidate_rank",
                "ix_crm_duplicate_candidate_high"} <= indexes
        assert service.rebuild_candidates("account") == 1
        with db.engine.begin() as conn:
            rows = conn.execute(text(
                "SELECT kind, low_id, high_id, reason FROM crm_duplicate_candidate")).all()
        assert [tuple(r) for r in rows] == [("account", 1, 2, "similar_name")]
        db.session.remove()

        flask_migrate.downgrade(revision="0020_crm_service_types")
        assert "crm_duplicate_candidate" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM crm_account")).scalar() == 3
        db.session.remove()
        db.engine.dispose()
