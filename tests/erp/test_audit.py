"""The audit trail's mechanism (erp/audit): one opt-in line, entries written in the
transaction of the change, who/when/what field by field, kept after a deletion, one INSERT
per flush, the History section and Administration → Audit trail.

The Notes example module (examples/notes/mosaic_notes) is the model here: it opts in with
one line, as any module's model would."""

from __future__ import annotations

import importlib
import zoneinfo
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, func, select, update

from erp.audit import Audited, AuditEntry, acting_as, current_actor
from erp.audit.recorder import HIDDEN, SECRET, Spec, _mask, as_text
from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from modules.crm.services.accounts import create_account
from tests.conftest import csrf_token, login_as


def notes(app, name: str = "models"):
    package = app.extensions["erp_available_modules"]["notes"].package
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.fixture
def account(app, users):
    with app.app_context():
        owner = db.session.get(User, users["rep_a"])
        account_id = create_account({"legal_name": "Auditada Ltda."}, user=owner,
                                    confirm_duplicates=True).id
        db.session.remove()
    return account_id


def entries(table: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if table:
        query = query.where(AuditEntry.table_name == table)
    return db.session.scalars(query).all()


@contextmanager
def statements(app):
    """The SQL statements run meanwhile, as (text, number of parameter sets)."""
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        seen.append((statement, len(parameters) if executemany else 1))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def audit_inserts(seen) -> int:
    return sum(1 for sql, _rows in seen if sql.lstrip().upper().startswith("INSERT")
               and "erp_audit_entry" in sql)


def selects(seen) -> int:
    return sum(1 for sql, _rows in seen if sql.lstrip().upper().startswith("SELECT"))


# --- the model of one module opts in with one line -----------------------------------------


def test_a_notes_life_is_recorded_and_outlives_the_note(app, client, users, account):
    Note = notes(app).Note
    assert issubclass(Note, Audited)
    # Created on the web: the logged-in user, the values set.
    login_as(client, users["rep_a"])
    url = f"/notes/new?account_id={account}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "body": "Prefers calls after 2 pm."})
    assert response.status_code == 303
    with app.app_context():
        note = db.session.scalar(select(Note))
        note_id = note.id
        (created,) = entries("notes_note")
        assert (created.action, created.user_id, created.user_name) == (
            "create", users["rep_a"], "Rep_A")
        assert created.record_id == str(note_id)
        assert created.record_label == "Prefers calls after 2 pm."
        assert created.changes["body"] == [None, "Prefers calls after 2 pm."]
        assert created.changes["account_id"] == [None, str(account)]
        assert "created_at" not in created.changes  # the entry has its own time
        assert "id" not in created.changes  # and names the record
        assert abs(created.at.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)
        # Changed by someone else, in a command: old → new, nothing else.
        manager = db.session.get(User, users["manager"])
        with acting_as(manager):
            note.body = "Prefers e-mail."
            db.session.commit()
        # Deleted: the last values are kept.
        with acting_as(manager):
            db.session.delete(db.session.get(Note, note_id))
            db.session.commit()
        assert db.session.get(Note, note_id) is None
        created, changed, deleted = entries("notes_note")
        assert (changed.action, changed.user_name) == ("update", "Manager")
        assert changed.changes == {"body": ["Prefers calls after 2 pm.", "Prefers e-mail."]}
        assert (deleted.action, deleted.user_id, deleted.record_id) == (
            "delete", users["manager"], str(note_id))
        assert deleted.changes["body"] == ["Prefers e-mail.", None]
        assert deleted.record_label == "Prefers e-mail."


def test_a_rolled_back_change_leaves_no_entry(app, users, account):
    Note = notes(app).Note
    with app.app_context():
        note = Note(account_id=account, author_id=users["rep_a"], body="Draft")
        db.session.add(note)
        db.session.flush()  # written, entry included...
        assert len(entries("notes_note")) == 1
        db.session.rollback()  # ...and taken back with it
        assert entries("notes_note") == []
        assert db.session.scalar(select(func.count()).select_from(Note)) == 0


def test_a_flush_without_a_real_change_writes_nothing(app, users, account):
    with app.app_context():
        row = db.session.get(Account, account)
        before = len(entries())
        row.legal_name = row.legal_name  # the same value
        db.session.commit()
        assert len(entries()) == before


# --- who ----------------------------------------------------------------------------------


def test_the_actor_is_the_request_user_unless_set_and_else_the_system(app, users):
    with app.app_context():
        assert current_actor() == (None, None)
        rep = db.session.get(User, users["rep_b"])
        with acting_as(rep):
            assert current_actor() == (users["rep_b"], "Rep_B")
            with acting_as(None):
                assert current_actor() == (None, None)
        assert current_actor() == (None, None)
    client = app.test_client()
    login_as(client, users["rep_a"])
    with client:
        client.get("/")
        assert current_actor() == (users["rep_a"], "Rep_A")


def test_an_entry_without_a_user_is_shown_as_the_system(app, client, users, account):
    with app.app_context():
        db.session.get(Account, account).city = "Recife"  # no request, no acting_as
        db.session.commit()
        entry = entries("crm_account")[-1]
        assert (entry.user_id, entry.user_name) == (None, None)
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{account}/tabs/history").get_data(as_text=True)
    assert "System" in html and "Recife" in html


def test_the_user_may_be_deleted_and_the_entry_keeps_the_name(app, users, account):
    with app.app_context():
        someone = User(username="temp", name="Temporária", email="temp@example.com",
                       password_hash="x")
        db.session.add(someone)
        db.session.commit()
        with acting_as(someone):
            db.session.get(Account, account).city = "Natal"
            db.session.commit()
        db.session.delete(someone)
        db.session.commit()
        db.session.expire_all()
        entry = entries("crm_account")[-1]
        assert (entry.user_id, entry.user_name) == (None, "Temporária")


# --- what ----------------------------------------------------------------------------------


def test_values_are_kept_as_text():
    assert as_text(None) is None
    assert as_text(True) == "true" and as_text(False) == "false"
    assert as_text(Decimal("1234.50")) == "1234.50"
    assert as_text(date(2026, 12, 31)) == "2026-12-31"
    # SQLite gives UTC datetimes back naive; both come out in UTC with the offset.
    assert as_text(datetime(2026, 12, 31, 22, 30)) == "2026-12-31T22:30:00+00:00"
    assert as_text(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == "2026-12-31T22:30:00+00:00"
    assert as_text({"b": 1, "a": "ç"}) == '{"a": "ç", "b": 1}'
    assert len(as_text("x" * 5000)) == 2000


def test_secrets_are_recorded_as_changed_never_with_their_value(app):
    for name in ("password_hash", "api_token", "client_secret", "API_KEY", "passwd"):
        assert SECRET.search(name), name
    assert not SECRET.search("legal_name")
    spec = Spec(table="t", columns=("password_hash", "name"), collections=(),
                hidden=frozenset({"password_hash"}), parent=None)
    changes = _mask(spec, {"password_hash": ["pbkdf2:old", "pbkdf2:new"], "name": ["a", "b"]})
    assert changes == {"password_hash": [HIDDEN, HIDDEN], "name": ["a", "b"]}
    # Users (and their password hashes) are not audited at all.
    assert not issubclass(User, Audited)


def test_tags_and_many_to_many_collections_are_recorded_by_name(app, users, account):
    from modules.crm.models import Tag

    with app.app_context():
        hot, big = Tag(name="Quente", color="#f00"), Tag(name="Grande", color="#00f")
        db.session.add_all([hot, big])
        row = db.session.get(Account, account)
        row.tags = [hot]
        db.session.commit()
        row.tags = [hot, big]
        db.session.commit()
        first, second = [e for e in entries("crm_account") if "tags" in e.changes]
        assert first.changes["tags"] == [None, "Quente"]
        assert second.changes["tags"] == ["Quente", "Grande, Quente"]


def test_old_values_never_loaded_are_read_once_per_flush(app, users, account):
    """A value set on an object expired by a commit: its old value is read before the
    flush writes the new one — one SELECT for all of them, not one per record."""
    Note = notes(app).Note
    with app.app_context():
        rows = [Note(account_id=account, author_id=users["rep_a"], body=f"N {n}")
                for n in range(4)]
        db.session.add_all(rows)
        db.session.commit()  # expires them all
        for row in rows:
            row.body = "Revisada"  # set without loading anything
        with statements(app) as seen:
            db.session.commit()
        # SQLAlchemy itself reloads each expired object to update it; the old values
        # come from one more SELECT, for all of them.
        ours = [sql for sql, _rows in seen if sql.startswith("SELECT") and " IN (" in sql]
        assert len(ours) == 1, seen
        changed = [e for e in entries("notes_note") if e.action == "update"]
        assert sorted(e.changes["body"][0] for e in changed) == ["N 0", "N 1", "N 2", "N 3"]
        assert all(e.changes == {"body": [e.changes["body"][0], "Revisada"]} for e in changed)


def test_a_500_row_batch_writes_its_entries_in_one_insert(app, users, account):
    Note = notes(app).Note
    with app.app_context(), statements(app) as seen:
        db.session.add_all([Note(account_id=account, author_id=users["rep_a"], body=f"N {n}")
                            for n in range(500)])
        db.session.flush()
        assert audit_inserts(seen) == 1
        assert len(entries("notes_note")) == 500
        loaded = db.session.scalars(select(Note)).all()
        db.session.commit()
        seen.clear()
        for note in db.session.scalars(select(Note)).all():
            note.body += " (revisada)"
        db.session.commit()
        assert audit_inserts(seen) == 1
        assert selects(seen) == 1  # the load above; the old values came with it
        assert len([e for e in entries("notes_note") if e.action == "update"]) == 500
        assert len(loaded) == 500


def test_bulk_orm_statements_are_recorded_too(app, users, account):
    Note = notes(app).Note
    with app.app_context():
        db.session.add_all([Note(account_id=account, author_id=users["rep_a"], body=f"N {n}")
                            for n in range(3)])
        db.session.commit()
        with acting_as(db.session.get(User, users["manager"])):
            db.session.execute(update(Note).where(Note.body != "N 0").values(body="Mesma"))
            db.session.execute(delete(Note).where(Note.body == "N 0"))
            db.session.commit()
        updated = [e for e in entries("notes_note") if e.action == "update"]
        assert sorted(e.changes["body"][0] for e in updated) == ["N 1", "N 2"]
        assert {e.changes["body"][1] for e in updated} == {"Mesma"}
        (deleted,) = [e for e in entries("notes_note") if e.action == "delete"]
        assert deleted.changes["body"] == ["N 0", None] and deleted.user_name == "Manager"
        # "Bulk UPDATE by primary key": only the rows named are read and recorded.
        first, _second = db.session.scalars(select(Note.id).order_by(Note.id)).all()
        db.session.execute(update(Note), [{"id": first, "body": "Por chave"}])
        db.session.commit()
        latest = entries("notes_note")[-1]
        assert (latest.record_id, latest.changes) == (str(first), {"body": ["Mesma",
                                                                            "Por chave"]})
        assert len(entries("notes_note")) == 7  # 3 created, 2 updated, 1 deleted, 1 updated


# --- the History section -------------------------------------------------------------------


def test_history_is_paged_newest_first_and_survives_hostile_page_numbers(app, client, users,
                                                                         account):
    with app.app_context():
        row = db.session.get(Account, account)
        for n in range(24):
            row.city = f"Cidade {n:02d}"
            db.session.commit()
    login_as(client, users["rep_a"])
    base = f"/crm/accounts/{account}?tab=history"
    first = client.get(base).get_data(as_text=True)
    assert first.count('data-audit-action="update"') == 20
    assert first.index('audit-new">Cidade 23') < first.index('audit-new">Cidade 22')
    assert "Page 1 of 2" in first and "history_page=2" in first
    second = client.get(base + "&history_page=2").get_data(as_text=True)
    assert "Cidade 03" in second and "Cidade 04" not in second
    assert 'data-audit-action="create"' in second  # the oldest: the account's creation
    for hostile in ("0", "-1", "abc", "99999999999999999999", "9" * 400, "1e9"):
        response = client.get(f"{base}&history_page={hostile}")
        assert response.status_code == 200, hostile
    past_the_end = client.get(base + "&history_page=50").get_data(as_text=True)
    assert "data-audit-action" not in past_the_end and "Page 50 of 2" in past_the_end


def test_history_is_shown_in_the_users_language_and_time_zone(app, client, users, account):
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        user.locale, user.timezone = "pt_BR", "America/Sao_Paulo"
        row = db.session.get(Account, account)
        with acting_as(user):
            row.priority, row.opened_on = True, date(2020, 3, 1)
            db.session.commit()
        entry = entries("crm_account")[-1]
        moment = entry.at.replace(tzinfo=UTC).astimezone(
            zoneinfo.ZoneInfo("America/Sao_Paulo"))
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{account}/tabs/history").get_data(as_text=True)
    assert "Histórico" in html and "Alteração" in html and "Criação" in html
    assert "Prioritária" in html and "Data de abertura" in html and "Rep_A" in html
    assert "01/03/2020" in html and "Sim" in html and "Não" in html  # priority: no → yes
    assert moment.strftime("%d/%m/%Y %H:%M") in html


# --- Administration → Audit trail ---------------------------------------------------------


def test_the_admin_lists_every_entry_and_filters_them(app, client, users, account):
    Note = notes(app).Note
    with app.app_context():
        manager = db.session.get(User, users["manager"])
        with acting_as(manager):
            db.session.add(Note(account_id=account, author_id=users["manager"], body="Ligar"))
            db.session.get(Account, account).city = "Salvador"
            db.session.commit()
        old = entries("crm_account")[0]
        old.at, old_id = datetime(2020, 1, 1, tzinfo=UTC), old.id
        db.session.commit()
    login_as(client, users["rep_a"])
    assert client.get("/admin/audit/").status_code == 403
    login_as(client, users["admin"])
    html = client.get("/admin/audit/").get_data(as_text=True)
    # Three entries: the account's creation (the system, backdated), the note's and the
    # account's change (the manager). "Prospect" is in the first one only.
    assert "Prospect" in html and "Ligar" in html and "Salvador" in html

    def listed(**filters) -> str:
        page = client.get("/admin/audit/", query_string=filters)
        assert page.status_code == 200
        return page.get_data(as_text=True)

    # Flask-Admin's arguments: flt<position>_<filter index> (user, model, action, from, until).
    by_user = listed(flt0_0=str(users["manager"]))
    assert "Ligar" in by_user and "Salvador" in by_user and "Prospect" not in by_user
    by_model = listed(flt0_1="notes_note")
    assert "Ligar" in by_model and "Salvador" not in by_model and "Prospect" not in by_model
    by_action = listed(flt0_2="update")
    assert "Salvador" in by_action and "Ligar" not in by_action and "Prospect" not in by_action
    since = listed(flt0_3="2025-01-01 00:00:00")
    assert "Salvador" in since and "Ligar" in since and "Prospect" not in since
    until = listed(flt0_4="2021-01-01 00:00:00")
    assert "Prospect" in until and "Ligar" not in until and "Salvador" not in until
    # Read-only.
    assert client.get("/admin/audit/new/").status_code in (302, 403, 404)
    assert client.post("/admin/audit/delete/", data={"id": "1"}).status_code in (302, 400,
                                                                                403, 404)
    with app.app_context():
        assert db.session.get(AuditEntry, old_id) is not None


def test_the_admin_view_is_in_pt_br(app, client, users):
    with app.app_context():
        db.session.get(User, users["admin"]).locale = "pt_BR"
        db.session.commit()
    login_as(client, users["admin"])
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert "Trilha de auditoria" in html and "Quando" in html and "Alterações" in html
