"""The host's import machinery: reading files, guessing columns, limits, batches, jobs."""

from __future__ import annotations

import csv
import inspect
import io
from datetime import date, datetime

import pytest
from sqlalchemy import event

from erp.auth.models import User
from erp.db import db
from erp.imports import services
from erp.imports.models import DONE, ImportJob
from erp.imports.reading import (
    UnreadableFile,
    detect_encoding,
    detect_format,
    normalize_header,
    numbered_rows,
    sniff_delimiter,
)
from erp.imports.rows import guess_mapping, mapping_errors
from tests.erp.importing import (
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
    xlsx_bytes,
)

ROWS = [["Razão Social", "Cidade", "Valor"], ["Ação & Cia Ltda", "São Paulo", "1.234,56"],
        ["Pão de Açúcar", "Maceió", "7,5"]]


def write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


# --- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_each_encoding_is_detected_and_read(tmp_path, encoding):
    path = write(tmp_path, "a.csv", csv_bytes(ROWS, ";", encoding))
    assert detect_encoding(path) == encoding
    rows = list(numbered_rows(path, "csv"))
    assert [cells for _n, cells in rows] == ROWS  # the BOM is not part of the first name


def test_utf8_is_decided_on_the_whole_file_not_a_sample(tmp_path):
    """A Latin-1 accent far down the file (after 200 KB of ASCII) still means Windows-1252."""
    ascii_part = csv_bytes([["Nome", "Cidade"]] + [[f"Conta {i}", "Recife"] for i in range(20000)])
    assert len(ascii_part) > 200_000
    path = write(tmp_path, "late.csv", ascii_part + "Ação;Maceió\r\n".encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    *_rest, (_n, last) = numbered_rows(path, "csv")
    assert last == ["Ação", "Maceió"]


def test_a_wrong_encoding_choice_is_a_clear_error_not_garbage(tmp_path):
    path = write(tmp_path, "a.csv", csv_bytes(ROWS, ";", "cp1252"))
    with pytest.raises(UnreadableFile) as caught:
        list(numbered_rows(path, "csv", encoding="utf-8", delimiter=";"))
    assert "utf-8" in str(caught.value.message)


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_each_delimiter_is_sniffed(tmp_path, delimiter):
    # Cells that contain the other candidates must not fool the sniffer (quoted as needed).
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    rows = [["Nome", "Valor", "Obs"], ["Silva, Souza & Cia", "1.234,56", "a|b; c"],
            ["Beta", "10,00", "tab\tinside"]]
    writer.writerows(rows)
    path = write(tmp_path, "d.csv", buffer.getvalue().encode())
    assert sniff_delimiter(path, "utf-8") == delimiter
    assert [cells for _n, cells in numbered_rows(path, "csv")] == [
        [c.strip() for c in row] for row in rows]


def test_xlsx_is_read_with_typed_cells(tmp_path):
    content = xlsx_bytes([["Título", "Valor", "Fechamento", None], [" Bimer ", 1234.56,
                          datetime(2026, 12, 31), None], [None, None, None, None],
                          ["ERP", 2, date(2027, 1, 5), "x"]])
    path = write(tmp_path, "o.xlsx", content)
    assert detect_format(path, "o.xlsx") == "xlsx"
    rows = list(numbered_rows(path, "xlsx"))
    assert [n for n, _cells in rows] == [1, 2, 4]  # the blank row 3 is skipped, numbers kept
    assert rows[1][1][:3] == ["Bimer", 1234.56, datetime(2026, 12, 31)]


def test_readers_are_generators(tmp_path):
    """Rows are streamed, never loaded into a list: memory does not grow with the file."""
    csv_path = write(tmp_path, "a.csv", csv_bytes(ROWS))
    xlsx_path = write(tmp_path, "a.xlsx", xlsx_bytes(ROWS))
    for path, kind in ((csv_path, "csv"), (xlsx_path, "xlsx")):
        rows = numbered_rows(path, kind)
        assert inspect.isgenerator(rows)
        assert next(rows) == (1, ROWS[0])
        rows.close()


@pytest.mark.parametrize(("name", "content"), [
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),
    ("fake.xlsx", b"Nome;Cidade\r\n"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
    ("notes.docx.pdf", b"%PDF-1.4"),
])
def test_unusable_files_are_refused_with_a_reason(tmp_path, name, content):
    path = write(tmp_path, name, content)
    with pytest.raises(UnreadableFile) as caught:
        detect_format(path, name)
    assert str(caught.value.message)


def test_a_broken_xlsx_is_an_unreadable_file(tmp_path):
    path = write(tmp_path, "broken.xlsx", b"PK\x03\x04" + b"not really a zip" * 10)
    with pytest.raises(UnreadableFile):
        list(numbered_rows(path, "xlsx"))


# --- mapping --------------------------------------------------------------------------------


def test_header_names_are_compared_without_case_accents_or_punctuation():
    assert normalize_header(" Razão  Social ") == "razao social"
    assert normalize_header("E-mail") == normalize_header("e mail")
    assert normalize_header("CNPJ/CPF") == "cnpj cpf"


@pytest.mark.parametrize("header", [
    ["Razão Social", "CNPJ/CPF", "E-mail", "Telefone", "UF", "Responsável", "Observações"],
    ["Legal name", "Tax ID", "Email", "Phone", "State", "Owner", "Notes"],
])
def test_columns_are_guessed_from_english_and_portuguese_headers(app, header):
    with app.app_context():
        importer = services.get_importer("accounts")
        mapping = guess_mapping(header + ["Coluna estranha"], importer)
    assert mapping == {"legal_name": 0, "tax_id": 1, "email": 2, "phone": 3, "state": 4,
                       "owner": 5, "notes": 6}


def test_a_mapping_needs_the_required_fields_and_one_field_per_column(app):
    with app.app_context():
        importer = services.get_importer("accounts")
        assert mapping_errors(importer, {"legal_name": 0}, 2) == []
        errors = mapping_errors(importer, {"tax_id": 0, "email": 0, "phone": 9}, 2)
    assert len(errors) == 3  # column used twice, column out of range, legal name missing


# --- limits, batches, jobs ------------------------------------------------------------------


def test_files_over_the_size_limit_are_refused_and_not_kept(app, users, import_dir,
        monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024)
    content = csv_bytes([["Razão Social"]] + [[f"Conta {i}"] for i in range(200)])
    assert len(content) > 1024
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        with pytest.raises(services.ImportRefused) as caught:
            services.store_upload(io.BytesIO(content), "big.csv", user=user, kind="accounts")
        db.session.remove()
    assert "larger than 1 KB" in str(caught.value.message)
    assert list(import_dir.iterdir()) == []
    assert count(app, ImportJob) == 0


def test_an_empty_file_is_refused(app, users, import_dir):
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        with pytest.raises(services.ImportRefused):
            services.store_upload(io.BytesIO(b""), "empty.csv", user=user, kind="accounts")
        with pytest.raises(services.ImportRefused):
            services.store_upload(io.BytesIO(b"\r\n ; \r\n"), "blank.csv", user=user,
                                  kind="accounts")
        db.session.remove()
    assert list(import_dir.iterdir()) == []


def _statements_and_flushes(app, users, rows: int, batch: int, monkeypatch):
    from modules.crm.models import Account

    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", batch)
    content = csv_bytes([["Razão Social", "CNPJ", "E-mail"]] + [
        [f"Conta {i}", make_cnpj(i + 1), f"c{i}@example.com"] for i in range(rows)])
    counts = {"queries": 0, "flushes": 0, "account_inserts": 0}

    def on_statement(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            counts["queries"] += 1
        if statement.lstrip().upper().startswith("INSERT INTO CRM_ACCOUNT "):
            counts["account_inserts"] += 1

    def on_flush(session, _context):
        if any(isinstance(obj, Account) for obj in session.new):
            counts["flushes"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(db.session, "after_flush", on_flush)
    try:
        result = run_import(app, users["admin"], "accounts", content)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(db.session, "after_flush", on_flush)
    assert result.status == DONE
    assert count(app, Account) == rows
    return counts


def test_batches_flush_every_n_rows(app, users, import_dir, monkeypatch):
    """Each batch's new records are written together: since issue 15 in one INSERT (an
    executemany, erp/imports/bulk.py) rather than a flush of ORM objects."""
    counts = _statements_and_flushes(app, users, rows=10, batch=4, monkeypatch=monkeypatch)
    assert counts["account_inserts"] == 3  # 4 + 4 + 2
    assert counts["flushes"] == 0  # no Account object goes through the session


def test_a_batch_costs_the_same_queries_whatever_its_size(app, users, import_dir,
        monkeypatch):
    """One batch of 5 rows or one of 60: the same SELECTs (no query per row), and one
    INSERT of accounts (an executemany, on SQLite as on PostgreSQL)."""
    small = _statements_and_flushes(app, users, rows=5, batch=5, monkeypatch=monkeypatch)
    with app.app_context():
        from modules.crm.models import Account

        db.session.execute(db.delete(Account))
        db.session.commit()
        db.session.remove()
    large = _statements_and_flushes(app, users, rows=60, batch=60, monkeypatch=monkeypatch)
    assert large["queries"] == small["queries"]
    assert large["account_inserts"] == small["account_inserts"] == 1


def test_progress_is_reported_after_each_batch(app, users, import_dir, monkeypatch):
    from modules.crm.models import Account

    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 3)
    content = csv_bytes([["Razão Social"]] + [[f"Conta {i}"] for i in range(7)])
    seen, held = [], []

    def progress(job):
        seen.append((job.status, job.processed_rows, job.total_rows))
        held.append(sum(1 for obj in db.session.identity_map.values()
                        if isinstance(obj, Account)))

    with app.app_context():
        user = db.session.get(User, users["admin"])
        job = services.store_upload(io.BytesIO(content), "p.csv", user=user, kind="accounts")
        services.save_mapping(job, job.mapping)
        services.start(job, background=False, on_progress=progress)
        stored = services.stored_path(job)
        db.session.remove()
    assert seen[0] == ("running", 0, 7)
    assert [p for _s, p, _t in seen[1:4]] == [3, 6, 7]
    assert seen[-1] == ("done", 7, 7)
    assert held == [0] * len(held)  # each batch is forgotten once flushed
    assert not stored.exists()  # imported: the upload is deleted


def test_a_job_runs_once(app, users, import_dir):
    content = csv_bytes([["Razão Social"], ["Conta"]])
    result = run_import(app, users["admin"], "accounts", content)
    with app.app_context():
        job = db.session.get(ImportJob, result.id)
        assert services.start(job, background=False) is False
        db.session.remove()


def test_jobs_are_seen_by_their_owner_and_admins_only(app, users, import_dir):
    result = run_import(app, users["rep_a"], "accounts", csv_bytes([["Razão Social"], ["A"]]))
    with app.app_context():
        for name, visible in (("rep_a", True), ("admin", True), ("rep_b", False),
                              ("manager", False)):
            user = db.session.get(User, users[name])
            assert (services.visible_job(result.id, user) is not None) is visible, name
        db.session.remove()
