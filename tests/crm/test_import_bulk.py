"""Accounts imported in bulk (issue 15): a few INSERTs per batch, whatever its size, and
the same records, search index rows, audit entries and import record as the service's
create_account writes one by one."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import delete, event, select

from erp.audit import AuditEntry, acting_as
from erp.auth.models import User
from erp.db import db
from erp.imports.models import DONE, ImportChange
from modules.crm.models import Account, Category, Tag
from modules.crm.services.accounts import create_account
from modules.crm.services.search import search_accounts
from tests.erp.importing import (
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)

pytestmark = pytest.mark.usefixtures("import_dir")


@pytest.fixture
def lists(app):
    with app.app_context():
        db.session.add_all([Category(name="Indústria"), Tag(name="VIP"), Tag(name="Norte")])
        db.session.commit()
        found = {"category": db.session.scalar(select(Category.id)),
                 "tags": dict(db.session.execute(select(Tag.name, Tag.id)).all())}
        db.session.remove()
    return found


def _inserts(app, content: bytes, user_id: int) -> Counter:
    """INSERT statements the import runs, per table (an executemany counts once)."""
    counted: Counter = Counter()

    def on_statement(_conn, _cursor, statement, *_args):
        words = statement.split()
        if words[:2] == ["INSERT", "INTO"]:
            counted[words[2].strip('"')] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        result = run_import(app, user_id, "accounts", content)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert result.status == DONE, result.message
    return counted


def _file(start: int, rows: int) -> bytes:
    """Rows with some cells blank (e-mail, phone, tags): still one INSERT per batch."""
    return csv_bytes([["Razão Social", "CNPJ", "Telefone", "E-mail", "Marcadores"]] + [
        [f"Empresa {i}", make_cnpj(start + i), f"(11) 3{start + i:07d}" if i % 3 else "",
         f"contato{i}@empresa{start}.com.br" if i % 2 else "", "VIP, Norte" if i % 4 else ""]
        for i in range(rows)])


def test_a_batch_inserts_its_rows_in_a_few_statements_whatever_its_size(app, users,
                                                                        lists, monkeypatch):
    """One write batch of 5 rows or of 60: the same INSERTs, one per table (accounts,
    their tags, audit entries, the import's record of them); before, one INSERT of an
    account per row on SQLite."""
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 100)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 100)
    small = _inserts(app, _file(1_000, 5), users["admin"])
    large = _inserts(app, _file(2_000, 60), users["admin"])
    assert small == large
    for table in ("crm_account", "crm_account_tag", "erp_audit_entry", "erp_import_change"):
        assert large[table] == 1, (table, large)
    # 120 rows in write batches of 50: three of each, not 120.
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 50)
    batched = _inserts(app, _file(3_000, 120), users["admin"])
    assert batched["crm_account"] == batched["erp_audit_entry"] == 3
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Account)) == 185
        db.session.remove()


ROWS = [  # (the spreadsheet's cells, the form's data for create_account)
    ({"Razão Social": "Metalúrgica São João Ltda", "Nome Fantasia": "Metal SJ",
      "CNPJ": "", "Telefone": "(11) 3222-1000", "Celular": "(11) 98765-4321",
      "E-mail": "Compras@MetalSJ.com.br", "Site": "metalsj.com.br", "CEP": "01310-100",
      "Cidade": "São Paulo", "UF": "sp", "Categoria": "Indústria", "Marcadores": "VIP, Norte",
      "Prioridade": "sim", "Data de abertura": "31/12/2001", "Observações": "Linha 1",
      "Ciclo de vida": "", "IE": ""},
     {"legal_name": "Metalúrgica São João Ltda", "trade_name": "Metal SJ",
      "phone": "(11) 3222-1000", "mobile": "(11) 98765-4321",
      "email": "Compras@MetalSJ.com.br", "website": "metalsj.com.br", "cep": "01310-100",
      "city": "São Paulo", "state": "sp", "category_id": "category", "tag_ids": "tags",
      "priority": True, "opened_on": date(2001, 12, 31), "notes": "Linha 1"}),
    ({"Razão Social": "Maria da Silva", "CNPJ": "529.982.247-25", "Ciclo de vida": "cliente",
      "E-mail": "maria@example.com", "UF": "PE", "Cidade": "Recife"},
     {"legal_name": "Maria da Silva", "tax_id": "529.982.247-25", "lifecycle": "customer",
      "email": "maria@example.com", "state": "PE", "city": "Recife"}),
    ({"Razão Social": "Comércio Ação Ltda", "CNPJ": "11.222.333/0001-81",
      "Telefone": "+1 650 253 0000"},
     {"legal_name": "Comércio Ação Ltda", "tax_id": "11.222.333/0001-81",
      "phone": "+1 650 253 0000"}),
]
HEADER = sorted({name for cells, _data in ROWS for name in cells})
SKIPPED = {"id", "created_at", "updated_at"}


def _snapshot(names: list[str], user) -> list[dict]:
    """Each account's stored columns, tags, search hits and its creation's audit entry."""
    found = []
    for name in names:
        account = db.session.scalar(select(Account).where(Account.legal_name == name))
        columns = {c.key: getattr(account, c.key) for c in Account.__table__.columns
                   if c.key not in SKIPPED}
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.table_name == "crm_account", AuditEntry.action == "create",
            AuditEntry.record_id == str(account.id)))
        searches = {term: account.id in {a.id for a in search_accounts(term, user)}
                    for term in (name[:6], account.trade_name or name, account.email or "",
                                 (account.phone or "")[-8:], account.tax_id or "") if term}
        found.append({"columns": columns, "tags": sorted(t.name for t in account.tags),
                      "searches": searches,
                      "audit": (entry.changes, entry.record_label, entry.user_id,
                                entry.user_name, entry.parent_table, entry.parent_id)})
    return found


def test_imported_accounts_are_what_the_service_creates_one_by_one(app, users, lists):
    content = csv_bytes([HEADER] + [[cells.get(h, "") for h in HEADER] for cells, _d in ROWS])
    result = run_import(app, users["rep_a"], "accounts", content)
    assert (result.status, result.created) == (DONE, len(ROWS)), result.message
    names = [data["legal_name"] for _cells, data in ROWS]
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        imported = _snapshot(names, rep)
        ids = list(db.session.scalars(select(Account.id).where(Account.legal_name.in_(names))))
        recorded = set(db.session.scalars(select(ImportChange.record_key).where(
            ImportChange.job_id == result.id, ImportChange.table_name == "crm_account")))
        assert recorded == {str(i) for i in ids}  # what undo takes back
        db.session.execute(delete(Account).where(Account.id.in_(ids)))
        db.session.commit()
        with acting_as(rep):  # as the import's worker records its user
            for _cells, data in ROWS:
                data = dict(data)
                if "category_id" in data:
                    data["category_id"] = lists["category"]
                if "tag_ids" in data:
                    data["tag_ids"] = sorted(lists["tags"].values())
                create_account(data, user=rep, confirm_duplicates=True)
        created = _snapshot(names, rep)
        db.session.remove()
    assert imported == created
    assert all(all(s["searches"].values()) for s in imported)  # found by search
    assert imported[0]["tags"] == ["Norte", "VIP"]
    assert imported[0]["audit"][0]["tags"] == [None, "Norte, VIP"]


def test_each_cell_is_parsed_once_per_import_though_checked_twice(app, users, monkeypatch):
    """The check pass and the write pass run every row through the same service; the
    e-mail, phone and CNPJ parsers (pure: erp.validation.pure) work each distinct cell
    out once per import. Before, twice."""
    from modules.crm.services import validation

    calls = Counter()

    def counting(name, function):
        def counted(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return counted

    monkeypatch.setattr(validation, "validate_email",
                        counting("email", validation.validate_email))
    monkeypatch.setattr(validation.phonenumbers, "is_valid_number",
                        counting("phone", validation.phonenumbers.is_valid_number))
    monkeypatch.setattr(validation, "_validate_cnpj",
                        counting("cnpj", validation._validate_cnpj))
    result = run_import(app, users["admin"], "accounts", csv_bytes(
        [["Razão Social", "CNPJ", "Telefone", "E-mail"]] + [
            [f"Empresa {i}", make_cnpj(5_000 + i), f"(11) 3{5_000 + i:07d}",
             f"contato{i}@example.com.br"] for i in range(12)]))
    assert (result.status, result.created) == (DONE, 12), result.message
    assert calls == {"email": 12, "phone": 12, "cnpj": 12}
    # Outside an import nothing is remembered: the form parses what it is given.
    with app.app_context():
        validation.normalize_email("contato1@example.com.br")
        db.session.remove()
    assert calls["email"] == 13


def test_remembering_keeps_results_not_refusals():
    from erp.validation import Invalid, pure, remembering

    seen = []

    @pure
    def parse(value, *, strict=False):
        seen.append((value, strict))
        if value == "bad":
            raise Invalid("no")
        return value.upper()

    with remembering():
        assert [parse("a"), parse("a"), parse("a", strict=True)] == ["A", "A", "A"]
        for _ in range(2):
            with pytest.raises(Invalid):
                parse("bad")
    assert parse("a") == "A"
    assert seen == [("a", False), ("a", True), ("bad", False), ("bad", False), ("a", False)]


def test_statistics_are_refreshed_as_the_bulk_inserts_grow_the_table(app, users, lists,
                                                                    monkeypatch):
    """Rows inserted in bulk count for the planner's statistics: ANALYZE each time the
    table has doubled during the import (here from 4 rows: 4, 8, 16), and at its end."""
    from erp.imports import runner

    monkeypatch.setattr(runner, "ANALYZE_AFTER_ROWS", 4)
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 4)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 4)
    analysed = []

    def on_statement(_conn, _cursor, statement, *_args):
        if statement.upper().startswith("ANALYZE") and "crm_account" in statement:
            analysed.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        result = run_import(app, users["admin"], "accounts", _file(7_000, 20))
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert (result.status, result.created) == (DONE, 20), result.message
    assert len(analysed) == 4  # after 4, 8 and 16 rows, and at the end


def test_a_row_with_nothing_to_point_out_is_checked_without_translating(app, users, lists,
                                                                        monkeypatch):
    """Each row is checked twice (100,000 rows: 200,000 checks); one like no existing
    account has no note, and its check asks the catalogue for no message. Before, every
    row translated "an account in another portfolio" in case a similar account was one."""
    from modules.crm.importers import accounts as importer

    translated = Counter()
    real = importer._

    def counting(message, **values):
        translated[message] += 1
        return real(message, **values)

    monkeypatch.setattr(importer, "_", counting)
    result = run_import(app, users["admin"], "accounts", _file(6_000, 8))
    assert (result.status, result.created) == (DONE, 8), result.message
    assert translated == {}


def test_the_garbage_collector_does_not_walk_what_the_import_keeps_or_found(app, users,
                                                                           monkeypatch):
    """An import allocates enough for a full collection every few thousand rows; each
    walked every object of the application (alive before the import, alive after it) and
    every remembered parser result: a sixth of the CPU time of 20,000 rows. While it
    runs the older objects are set aside (gc.freeze), and they are back afterwards; the
    remembered results are texts in dictionaries the collector does not track."""
    import gc

    from erp.validation import _remembered
    from modules.crm.importers import accounts as importer

    real_insert = importer.insert_records
    seen = {}

    def insert(model, records):
        seen["frozen"] = gc.get_freeze_count()
        gc.collect()  # untracks tuples of texts, as any collection would
        memo = _remembered.get()
        seen["tracked"] = [kind[1] for kind, results in memo.by_parser.items()
                           if gc.is_tracked(results) and not all(
                               not gc.is_tracked(key) for key in results)]
        seen["results"] = memo.size
        return real_insert(model, records)

    monkeypatch.setattr(importer, "insert_records", insert)
    before = gc.get_freeze_count()
    result = run_import(app, users["admin"], "accounts", csv_bytes(
        [["Razão Social", "CNPJ", "Telefone", "E-mail"]] + [
            [f"Empresa {i}", make_cnpj(8_000 + i), f"(11) 3{8_000 + i:07d}",
             f"contato{i}@example.com.br"] for i in range(6)]))
    assert (result.status, result.created) == (DONE, 6), result.message
    assert seen["frozen"] > before + 10_000  # the application's objects
    assert gc.get_freeze_count() == before
    assert seen["results"] == 18  # e-mail, phone, CNPJ of 6 rows
    assert seen["tracked"] == []


def test_rows_owned_by_the_importing_user_cost_no_user_look_up_each(app, users,
                                                                    monkeypatch):
    """Each row is checked twice; one owned by the user who imports (no owner column)
    needs neither a look-up of that user nor their record scope worked out again (one's
    own records are in any scope): what the check asks of the user is the same for 3 rows
    as for 12. Before, both were done for every row."""
    from erp.auth.models import User as UserModel

    asked = Counter()
    real_scope = UserModel.record_scope
    real_get = db.session.get

    def scope(user):
        asked["scope"] += 1
        return real_scope.fget(user)

    def get(model, *args, **kwargs):
        if model is UserModel:
            asked["user"] += 1
        return real_get(model, *args, **kwargs)

    monkeypatch.setattr(UserModel, "record_scope", property(scope))
    monkeypatch.setattr(db.session, "get", get)
    counts = []
    for start, rows in ((9_000, 3), (9_100, 12)):
        asked.clear()
        result = run_import(app, users["rep_a"], "accounts", csv_bytes(
            [["Razão Social", "CNPJ"]] + [[f"Empresa {start + i}", make_cnpj(start + i)]
                                          for i in range(rows)]))
        assert (result.status, result.created) == (DONE, rows), result.message
        counts.append(dict(asked))
    assert counts[0] == counts[1], counts


def test_new_records_are_built_as_their_constructor_builds_them(app, lists, monkeypatch):
    """insert_records builds each new record without ``Model(**values)``'s event per
    attribute (issue 15: a third of its time): the same values, defaults, derived columns
    (search text, name key), tags and audit entry as the constructor's object; an unknown
    attribute refused the same way; an attribute someone listens to being set (a user's
    password ends their sessions) still set through its event."""
    from sqlalchemy import inspect

    from erp.audit.recorder import created_entries
    from erp.auth import sessions
    from erp.imports.bulk import _Fill, _prepared

    with app.app_context():
        mapper = inspect(Account)
        tags = list(db.session.scalars(select(Tag).order_by(Tag.name)))
        values = {"legal_name": "Comércio  São João Ltda", "trade_name": "São João",
                  "tax_id": "11222333000181", "tax_id_root": "11222333", "person_type": "PJ",
                  "lifecycle": "prospect", "phone": "+551132221000",
                  "mobile": "+5511987654321", "email": "compras@sj.com.br",
                  "owner_id": 1, "category_id": lists["category"], "tags": tags,
                  "opened_on": date(2001, 12, 31), "priority": True}
        connection = db.session.connection()
        fast, slow = _Fill(mapper), _Fill(mapper)
        assert fast.plain
        slow.plain = False  # Model(**values), as before
        built = _prepared(mapper, connection, values, 7, fast)
        reference = _prepared(mapper, connection, values, 7, slow)

        def state(obj):
            return {key: value for key, value in inspect(obj).dict.items()
                    if key not in ("_sa_instance_state", "created_at", "updated_at", "tags")}

        assert state(built) == state(reference)
        assert built.search_text == reference.search_text != ""
        assert built.name_key == "comercio sao joao"
        assert built.created_at is not None and built.updated_at is not None
        assert list(inspect(built).attrs.tags.history.added) == tags
        assert created_entries([built]) == created_entries([reference])
        with pytest.raises(TypeError, match="nickname"):
            _prepared(mapper, connection, {"legal_name": "X", "nickname": "x"}, 8, fast)

        monkeypatch.setattr(sessions, "new_session_token", lambda: "sessions ended")
        users_fill = _Fill(inspect(User))
        assert {"password_hash", "active"}.isdisjoint(users_fill.direct)
        user = _prepared(inspect(User), connection, {
            "username": "x", "email": "x@example.com", "name": "X", "password_hash": "!"},
            9, users_fill)
        assert user.session_token == "sessions ended"
        db.session.rollback()
        db.session.remove()
