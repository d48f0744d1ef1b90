"""Helpers for the import tests: files in each encoding/format, and a run through the services."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from stdnum.br import cnpj

from erp.auth.models import User
from erp.db import db
from erp.imports import services
from erp.imports.models import ImportJob


def make_cnpj(n: int) -> str:
    """A valid numeric CNPJ, unformatted, different for each n."""
    base = f"{n:08d}0001"
    return base + cnpj.calc_check_digits(base)


def csv_bytes(rows: list[list], delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(delimiter.join(str(c) for c in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture(name="import_dir")
def import_dir_fixture(app, tmp_path, monkeypatch):
    """Uploads go to a temporary folder, not the project's instance folder."""
    folder = tmp_path / "imports"
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(folder))
    return folder


@dataclass
class Result:
    id: int
    status: str
    message: str | None
    total: int | None
    processed: int
    rejected: int
    created: int
    updated: int
    rejects: str | None  # the rejects file's text


def run_import(app, user_id: int, kind: str, content: bytes, name: str = "file.csv", *,
               skip_invalid: bool = False, mapping: dict | None = None, **upload) -> Result:
    """Upload, confirm the guessed mapping (or ``mapping``) and run, as the CLI does."""
    with app.app_context():
        user = db.session.get(User, user_id)
        job = services.store_upload(io.BytesIO(content), name, user=user, kind=kind, **upload)
        services.save_mapping(job, mapping if mapping is not None else job.mapping)
        assert services.start(job, skip_invalid=skip_invalid, background=False)
        job = db.session.get(ImportJob, job.id)
        path = services.rejects_path(job)
        result = Result(job.id, job.status, job.message, job.total_rows, job.processed_rows,
                        job.rejected_rows, job.created_rows, job.updated_rows,
                        path.read_text("utf-8-sig") if path.exists() else None)
        db.session.remove()
    return result


def count(app, model) -> int:
    with app.app_context():
        total = db.session.scalar(db.select(db.func.count()).select_from(model))
        db.session.remove()
    return total
