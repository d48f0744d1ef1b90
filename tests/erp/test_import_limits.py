"""Hostile import files: too many rows or columns, XLSX zip bombs; old files removed.

The limits are lowered through the app's config so the files stay small and the tests fast.
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from datetime import datetime, timedelta

import openpyxl
import pytest
from flask_babel import force_locale

from erp.api.tokens import create_token
from erp.auth.models import User
from erp.db import db
from erp.imports import services
from erp.imports.models import NEW, RUNNING, ImportJob
from erp.imports.reading import Limits, UnreadableFile, numbered_rows
from erp.imports.retention import remove_old_files
from erp.tasks import _TASKS, queue
from modules.crm.models import Account
from tests.conftest import csrf_token, login_as
from tests.erp.importing import (
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)

pytestmark = pytest.mark.usefixtures("import_dir")

HEADER = ["Razão Social", "CNPJ"]
WIDE = csv_bytes([[f"Coluna {i}" for i in range(10_000)], ["x"] * 10_000])


@pytest.fixture
def small_limits(app, monkeypatch):
    """At most 1,000 data rows and 50 columns; XLSX: 200 KB unpacked."""
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 1000)
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 50)
    monkeypatch.setitem(app.config, "IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES", 200 * 1024)


def rows_of(n: int) -> list[list]:
    return [HEADER] + [[f"Conta {i}", make_cnpj(i)] for i in range(1, n + 1)]


def streamed_xlsx(rows: list[list]) -> bytes:
    """openpyxl's write-only files declare no <dimension>: only streaming finds the size."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_sheet(content: bytes, edit) -> bytes:
    """The XLSX ``content`` with its sheet's XML replaced by ``edit(xml)``."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            target.writestr(item.filename, data)
    return buffer.getvalue()


def declaring(ref: str):
    """An edit that gives the sheet the dimension ``ref``, as Excel writes it."""
    return lambda xml: xml.replace("<sheetViews>", f'<dimension ref="{ref}" /><sheetViews>', 1)


@pytest.fixture
def no_openpyxl(monkeypatch):
    """Fail the test if openpyxl is asked to open a workbook."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("openpyxl.load_workbook was called")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def store(app, user_id: int, content: bytes, name: str) -> int:
    """store_upload as the pages call it: the job's id, or ImportRefused."""
    with app.app_context():
        try:
            return services.store_upload(io.BytesIO(content), name,
                                         user=db.session.get(User, user_id), kind="accounts").id
        finally:
            db.session.remove()


def kept_files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- rows -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rows_beyond_the_limit_are_refused_while_streaming(app, tmp_path, small_limits, fmt):
    path = tmp_path / f"many.{fmt}"
    make = streamed_xlsx if fmt == "xlsx" else csv_bytes
    path.write_bytes(make(rows_of(1000)))
    with app.app_context():
        assert len(list(numbered_rows(path, fmt))) == 1001  # the header and 1,000 rows: fine
        path.write_bytes(make(rows_of(1001)))
        read = []
        with pytest.raises(UnreadableFile) as refused:
            for row in numbered_rows(path, fmt):
                read.append(row)
    assert len(read) == 1001  # refused at the first row too many, not before, not after
    assert str(refused.value.message) == ("The file has more than 1,000 rows: split it into "
                                          "smaller files.")


def test_limits_can_be_given_outside_an_app_context(tmp_path):
    path = tmp_path / "many.csv"
    path.write_bytes(csv_bytes(rows_of(20)))
    assert len(list(numbered_rows(path, "csv"))) == 21  # the defaults
    with pytest.raises(UnreadableFile, match="more than 10 rows"):
        list(numbered_rows(path, "csv", limits=Limits(max_rows=10)))


def test_a_run_over_the_row_limit_fails_with_the_reason_and_writes_nothing(
        app, users, small_limits):
    result = run_import(app, users["rep_a"], "accounts", streamed_xlsx(rows_of(1001)),
                        "contas.xlsx")
    assert result.status == "failed"
    assert "more than 1,000 rows" in result.message
    assert count(app, Account) == 0


def test_the_row_limit_reaches_the_api_client(app, client, users, small_limits):
    headers = _token(app, users["rep_a"])
    response = _api_upload(client, headers, csv_bytes(rows_of(1001)))
    assert response.status_code == 202, response.json
    body = client.get(f"/api/v1/imports/{response.json['id']}", headers=headers).json
    deadline = time.monotonic() + 30
    while not body["finished"] and time.monotonic() < deadline:
        time.sleep(0.05)
        body = client.get(f"/api/v1/imports/{response.json['id']}", headers=headers).json
    assert body["status"] == "failed" and "more than 1,000 rows" in body["message"]


def test_the_row_limit_reaches_the_command(app, users, tmp_path, small_limits):
    path = tmp_path / "contas.csv"
    path.write_bytes(csv_bytes(rows_of(1001)))
    result = app.test_cli_runner().invoke(args=["import", "accounts", str(path), "--user",
                                                "rep_a"])
    assert result.exit_code == 1
    assert "failed" in result.output and "more than 1,000 rows" in result.output
    assert count(app, Account) == 0


def test_a_sheet_declaring_two_million_rows_is_refused_before_streaming(
        app, users, small_limits, monkeypatch, import_dir):
    content = with_sheet(streamed_xlsx(rows_of(3)), declaring("A1:B2000001"))
    iterated = []
    original = openpyxl.worksheet._read_only.ReadOnlyWorksheet._cells_by_row
    monkeypatch.setattr(openpyxl.worksheet._read_only.ReadOnlyWorksheet, "_cells_by_row",
                        lambda *a, **k: iterated.append(1) or original(*a, **k))
    with pytest.raises(services.ImportRefused) as refused:
        store(app, users["rep_a"], content, "dois-milhoes.xlsx")
    assert str(refused.value.message) == (
        "The spreadsheet has 2,000,001 rows; at most 1,000 can be imported at once: split it "
        "into smaller files.")
    assert not iterated  # no row was read
    assert kept_files(import_dir) == []


def test_a_sheet_that_jumps_to_row_two_million_is_refused_quickly(app, tmp_path, small_limits):
    """No dimension, two real rows: openpyxl would yield the 1,999,999 empty rows between."""
    content = with_sheet(streamed_xlsx(rows_of(1)), lambda xml: xml.replace(
        '<row r="2">', '<row r="2000000">').replace('r="A2"', 'r="A2000000"').replace(
        'r="B2"', 'r="B2000000"'))
    path = tmp_path / "sparse.xlsx"
    path.write_bytes(content)
    started = time.perf_counter()
    with app.app_context(), pytest.raises(UnreadableFile, match="more than 1,000 blank rows"):
        list(numbered_rows(path, "xlsx"))
    assert time.perf_counter() - started < 5


def test_a_dimension_that_understates_the_sheet_does_not_cut_rows_off(app, tmp_path):
    content = with_sheet(streamed_xlsx(rows_of(5)), declaring("A1:B2"))
    path = tmp_path / "understated.xlsx"
    path.write_bytes(content)
    with app.app_context():
        assert len(list(numbered_rows(path, "xlsx"))) == 6


# --- columns ----------------------------------------------------------------------------


def test_a_row_wider_than_the_limit_is_refused(app, tmp_path, small_limits):
    path = tmp_path / "wide.csv"
    path.write_bytes(csv_bytes([[f"C{i}" for i in range(50)], ["x"] * 50, ["y"] * 51]))
    with app.app_context():
        rows = numbered_rows(path, "csv")
        assert len(next(rows)[1]) == 50 and len(next(rows)[1]) == 50
        with pytest.raises(UnreadableFile) as refused:
            next(rows)
    assert str(refused.value.message) == ("Row 3 has 51 columns; at most 50 can be imported: "
                                          "delete the columns you do not need.")


def test_a_10000_column_csv_is_refused_at_upload_on_the_web(app, client, users, import_dir):
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/imports/new?kind=accounts")
    started = time.perf_counter()
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": "accounts", "file": (io.BytesIO(WIDE), "largo.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert time.perf_counter() - started < 5
    page = response.get_data(as_text=True)
    assert "Row 1 has 10,000 columns; at most 200 can be imported" in page
    assert len(page) < 100_000  # the form again, not a mapping page
    assert kept_files(import_dir) == []
    with app.app_context():
        assert db.session.query(ImportJob).count() == 0


def test_a_10000_column_csv_is_refused_by_the_api(app, client, users, import_dir):
    response = _api_upload(client, _token(app, users["rep_a"]), WIDE)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "import_refused" and "Row 1 has 10,000 columns" in error["message"]
    assert kept_files(import_dir) == []


def test_a_10000_column_csv_is_refused_by_the_command(app, users, tmp_path, import_dir):
    path = tmp_path / "largo.csv"
    path.write_bytes(WIDE)
    result = app.test_cli_runner().invoke(args=["import", "accounts", str(path), "--user",
                                                "rep_a"])
    assert result.exit_code == 1
    assert "Row 1 has 10,000 columns; at most 200 can be imported" in result.output
    assert kept_files(import_dir) == []


def test_an_xlsx_declaring_too_many_columns_is_refused_before_streaming(
        app, users, small_limits):
    content = with_sheet(streamed_xlsx(rows_of(2)), declaring("A1:NTP3"))  # 10,000 columns
    with pytest.raises(services.ImportRefused, match="has 10,000 columns; at most 50"):
        store(app, users["rep_a"], content, "largo.xlsx")


def test_the_messages_are_translated(app, users):
    with app.app_context(), force_locale("pt_BR"):
        user = db.session.get(User, users["rep_a"])
        with pytest.raises(services.ImportRefused) as refused:
            services.store_upload(io.BytesIO(WIDE), "largo.csv", user=user, kind="accounts")
        assert str(refused.value.message) == (
            "A linha 1 tem 10.000 colunas; é possível importar no máximo 200: exclua as "
            "colunas de que não precisa.")
        db.session.remove()


# --- pages over a file that no longer fits ----------------------------------------------


def test_the_mapping_and_preview_pages_report_a_file_over_the_limits(
        app, client, users, monkeypatch):
    content = csv_bytes([HEADER + [f"Extra {i}" for i in range(58)],
                         ["Conta 1", make_cnpj(1)] + ["x"] * 58])
    job_id = store(app, users["rep_a"], content, "contas.csv")
    with app.app_context():
        services.save_mapping(db.session.get(ImportJob, job_id), {"legal_name": 0, "tax_id": 1})
        db.session.remove()
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 50)  # lowered since the upload
    login_as(client, users["rep_a"])
    response = client.get(f"/imports/{job_id}/preview", follow_redirects=True)
    assert response.status_code == 200
    assert "Row 1 has 60 columns; at most 50" in response.get_data(as_text=True)


def test_a_removed_upload_is_reported_not_a_server_error(app, client, users, import_dir):
    job_id = store(app, users["rep_a"], csv_bytes(rows_of(2)), "contas.csv")
    for path in import_dir.iterdir():
        path.unlink()
    login_as(client, users["rep_a"])
    response = client.get(f"/imports/{job_id}/mapping")
    assert response.status_code == 200
    assert "no longer kept" in response.get_data(as_text=True)


# --- XLSX unpacked size -----------------------------------------------------------------


def test_an_xlsx_unpacking_beyond_the_limit_is_refused_before_it_is_opened(
        app, users, small_limits, no_openpyxl, import_dir):
    content = streamed_xlsx(rows_of(3000))  # about 300 KB of sheet XML, 200 KB allowed
    assert len(content) < 200 * 1024
    started = time.perf_counter()
    with pytest.raises(services.ImportRefused) as refused:
        store(app, users["rep_a"], content, "grande.xlsx")
    assert time.perf_counter() - started < 1
    assert re.fullmatch(r"The spreadsheet unpacks to \d+ KB, more than the 200 KB that can be "
                        r"imported: split it into smaller files\.", str(refused.value.message))
    assert kept_files(import_dir) == []


def test_a_zip_bomb_is_refused_by_its_ratio_before_it_is_opened(app, users, no_openpyxl):
    rows = "<row><c><v>1</v></c></row>" * 500_000
    content = with_sheet(streamed_xlsx([["a"]]), lambda xml: re.sub(
        r"<sheetData>.*</sheetData>", f"<sheetData>{rows}</sheetData>", xml))
    assert len(content) < 100 * 1024  # 13 MB unpacked
    with pytest.raises(services.ImportRefused, match="far more than a real spreadsheet"):
        store(app, users["rep_a"], content, "bomba.xlsx")


@pytest.mark.parametrize("content", [
    b"PK\x03\x04 not really a zip",
    b"",  # replaced below by a valid zip that holds no workbook
])
def test_a_zip_that_is_no_spreadsheet_is_refused(app, users, content):
    if not content:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("notes.txt", "hello")
        content = buffer.getvalue()
    with pytest.raises(services.ImportRefused, match=r"not a valid \.xlsx"):
        store(app, users["rep_a"], content, "planilha.xlsx")


def test_a_workbook_without_a_worksheet_is_refused(app, users):
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(streamed_xlsx([["a"]])))
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets />", data)
            target.writestr(item.filename, data)
    with pytest.raises(services.ImportRefused, match="has no worksheet"):
        store(app, users["rep_a"], buffer.getvalue(), "vazia.xlsx")


def test_a_workbook_openpyxl_trips_over_is_refused_not_a_crash(app, users):
    """openpyxl 3.1 fails with AttributeError on a chart sheet without relationships."""
    workbook = openpyxl.Workbook()
    workbook.create_chartsheet()
    workbook.remove(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(services.ImportRefused, match=r"not a valid \.xlsx|has no worksheet"):
        store(app, users["rep_a"], buffer.getvalue(), "grafico.xlsx")


# --- retention --------------------------------------------------------------------------


def test_old_files_are_removed_but_fresh_ones_and_running_imports_kept(
        app, users, import_dir):
    import_dir.mkdir(parents=True, exist_ok=True)
    month_ago = time.time() - 31 * 24 * 3600
    files = {name: import_dir / name for name in (
        "old.upload", "old.upload.rejected.csv", "fresh.upload", "running.upload",
        "running.upload.rejected.csv", "idle.upload")}
    for path in files.values():
        path.write_text("x")
    for name in ("old.upload", "old.upload.rejected.csv", "running.upload",
                 "running.upload.rejected.csv", "idle.upload"):
        os.utime(files[name], (month_ago, month_ago))
    (import_dir / "sub").mkdir()
    os.utime(import_dir / "sub", (month_ago, month_ago))
    with app.app_context():
        for stored, status in (("running.upload", RUNNING), ("idle.upload", NEW)):
            db.session.add(ImportJob(user_id=users["rep_a"], kind="accounts", file_name="a.csv",
                                     stored_name=stored, file_format="csv", status=status))
        db.session.commit()
        assert remove_old_files() == 3
        db.session.remove()
    assert kept_files(import_dir) == ["fresh.upload", "running.upload",
                                      "running.upload.rejected.csv", "sub"]


def test_retention_follows_the_config_and_the_given_time(app, import_dir, monkeypatch):
    import_dir.mkdir(parents=True, exist_ok=True)
    (import_dir / "today.upload").write_text("x")
    with app.app_context():
        assert remove_old_files() == 0
        assert remove_old_files(now=datetime.now() + timedelta(days=29)) == 0
        monkeypatch.setitem(app.config, "IMPORT_RETENTION_DAYS", 0)  # keep everything
        assert remove_old_files(now=datetime.now() + timedelta(days=400)) == 0
        monkeypatch.setitem(app.config, "IMPORT_RETENTION_DAYS", 30)
        assert remove_old_files(now=time.time() + 31 * 24 * 3600) == 1
        db.session.remove()
    assert kept_files(import_dir) == []


def test_retention_is_a_daily_task_of_the_worker(app, import_dir):
    declared = _TASKS["erp.imports.remove_old_files"]
    assert declared.at == (3, 15)
    assert declared.name in queue(app).wrappers
    import_dir.mkdir(parents=True, exist_ok=True)
    old = import_dir / "old.upload"
    old.write_text("x")
    os.utime(old, (0, 0))
    with app.app_context():
        declared()  # what the worker runs, in an app context
        db.session.remove()
    assert not old.exists()


def test_no_import_folder_yet_is_nothing_to_remove(app, import_dir):
    assert not import_dir.exists()
    with app.app_context():
        assert remove_old_files() == 0


# --- helpers ----------------------------------------------------------------------------


def _token(app, user_id: int) -> dict:
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "imports")
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def _api_upload(client, headers, content: bytes, name="contas.csv"):
    return client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                       data={"kind": "accounts", "file": (io.BytesIO(content), name)})
