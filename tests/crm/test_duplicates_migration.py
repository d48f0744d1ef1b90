"""CRM migration 0016 on a database with accounts and contacts (issues 17 and 18): the
name keys are computed, the duplicate keys counted from the rows already there (a mobile
equal to its phone counted once), each account gets its "created" event, the triggers
keep the counts afterwards; the way back removes all of it."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

ACCOUNT = (
    "INSERT INTO crm_account (id, person_type, legal_name, owner_id, lifecycle, priority, "
    "email, phone, mobile, tax_id, tax_id_root, archived, search_text, version, created_at, "
    "updated_at) VALUES (:id, 'PJ', :name, :owner, 'prospect', false, :email, :phone, "
    ":mobile, :tax_id, :root, false, '', 1, :at, :at)")
CONTACT = (
    "INSERT INTO crm_contact (id, name, owner_id, archived, email, phone, mobile, search_text, "
    "version, created_at, updated_at) VALUES (:id, :name, :owner, false, :email, :phone, "
    ":mobile, '', 1, :at, :at)")
T0 = datetime(2026, 3, 2, 12)


def _counts(conn) -> dict:
    return {(row.kind, row.key): row.n for row in conn.execute(text(
        "SELECT kind, key, n FROM crm_duplicate_key WHERE n > 0"))}


def test_keys_counted_names_keyed_events_written_and_the_way_back(make_app,
                                                                 empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0015_crm_contact_fields"):
            flask_migrate.upgrade(revision=revision)
        owner = make_user("migrator", [])
        db.session.commit()
        owner_id = owner.id
        db.session.remove()
        with db.engine.begin() as conn:
            for id_, name, email, phone, mobile, tax_id in (
                    (1, "Teste Alfanumérico Ltda", "a@x.com", "+551133334444",
                     "+551133334444", "11222333000181"),
                    (2, "TESTE ALFANUMERICO LTDA ME", "a@x.com", None, "+551133334444",
                     "11222333000262"),
                    (3, "Outra S.A.", None, None, None, None)):
                conn.execute(text(ACCOUNT), {
                    "id": id_, "name": name, "owner": owner_id, "email": email,
                    "phone": phone, "mobile": mobile, "tax_id": tax_id,
                    "root": tax_id[:8] if tax_id else None, "at": T0})
            conn.execute(text(CONTACT), {"id": 1, "name": "Ana", "owner": owner_id,
                                         "email": "ana@x.com", "phone": "+5511999990000",
                                         "mobile": None, "at": T0})
        flask_migrate.upgrade(revision="0016_crm_duplicates")
        with db.engine.begin() as conn:
            keys = dict(conn.execute(text("SELECT id, name_key FROM crm_account")).all())
            assert keys == {1: "teste alfanumerico", 2: "teste alfanumerico", 3: "outra"}
            assert _counts(conn) == {
                ("account.email", "a@x.com"): 2, ("account.phone", "+551133334444"): 2,
                ("account.name", "teste alfanumerico"): 2, ("account.name", "outra"): 1,
                ("account.root", "11222333"): 2, ("contact.email", "ana@x.com"): 1,
                ("contact.phone", "+5511999990000"): 1}
            events = conn.execute(text(
                "SELECT account_id, kind FROM crm_account_event ORDER BY account_id")).all()
            assert [tuple(e) for e in events] == [(1, "created"), (2, "created"),
                                                  (3, "created")]
            # The triggers keep the counts: a change, a delete, an insert.
            conn.execute(text("UPDATE crm_account SET email = 'b@x.com' WHERE id = 2"))
            conn.execute(text("DELETE FROM crm_account_event WHERE account_id = 1"))
            conn.execute(text("DELETE FROM crm_account WHERE id = 1"))
            conn.execute(text(CONTACT), {"id": 2, "name": "Bia", "owner": owner_id,
                                         "email": "ana@x.com", "phone": None,
                                         "mobile": "+5511999990000", "at": T0})
            counts = _counts(conn)
            assert ("account.email", "a@x.com") not in counts
            assert counts[("account.email", "b@x.com")] == 1
            assert counts[("account.phone", "+551133334444")] == 1
            assert counts[("account.root", "11222333")] == 1
            assert counts[("contact.email", "ana@x.com")] == 2
            assert counts[("contact.phone", "+5511999990000")] == 2

        flask_migrate.downgrade(revision="0015_crm_contact_fields")
        inspector = inspect(db.engine)
        tables = inspector.get_table_names()
        for table in ("crm_duplicate_key", "crm_duplicate_dismissal", "crm_account_event"):
            assert table not in tables
        assert "name_key" not in {c["name"] for c in inspector.get_columns("crm_account")}
        with db.engine.begin() as conn:  # the triggers went with the table
            conn.execute(text("UPDATE crm_account SET email = 'c@x.com' WHERE id = 2"))
            assert conn.execute(text("SELECT count(*) FROM crm_account")).scalar() == 2
        db.session.remove()
        db.engine.dispose()
