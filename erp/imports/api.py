"""Imports over the JSON API: upload a file (it starts at once), follow it, fetch its rejects.

The same services as the web pages and the command: the same importers, rules, size
limit, all-or-nothing default and rejects file. Mounted by the host at /api/v1/imports.
"""

from __future__ import annotations

import json
from functools import wraps
from pathlib import Path

import marshmallow as ma
from flask import send_file, url_for
from flask_login import current_user

from ..api import Blueprint, abort, large_body
from ..api.limits import json_too_deep
from . import services
from .models import ImportJob
from .reading import DELIMITERS, ENCODINGS

blp = Blueprint("imports_api", __name__, description="Spreadsheet imports (CSV, XLSX)")


def may_import(view):
    """403 before any parsing for a user who may use no importer at all."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not services.importers_for(current_user):
            abort(403, "You may not import records.")
        return view(*args, **kwargs)

    return wrapper


class UploadForm(ma.Schema):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                                  "description": "The CSV or XLSX file"})
    kind = ma.fields.String(required=True, metadata={
        "description": "What the file holds: an importer's key, e.g. accounts, contacts, "
                       "opportunities"})
    skip_invalid = ma.fields.Boolean(load_default=False, metadata={
        "description": "Import the valid rows and reject the others; by default one bad row "
                       "rejects the whole file and nothing is written"})
    encoding = ma.fields.String(validate=ma.validate.OneOf(sorted(ENCODINGS)), metadata={
        "description": "CSV only; detected when omitted"})
    delimiter = ma.fields.String(validate=ma.validate.OneOf(sorted(DELIMITERS)), metadata={
        "description": "CSV only; detected when omitted"})
    mapping = ma.fields.String(metadata={
        "description": 'JSON object: field name -> column header or 0-based column index, '
                       'e.g. {"tax_id": "CNPJ", "legal_name": 0}; guessed from the headers '
                       'when omitted'})
    header_row = ma.fields.Integer(validate=ma.validate.Range(1, services.MAX_HEADER_ROW),
                                   metadata={
        "description": "The row (1-based, as the spreadsheet numbers it) that holds the "
                       "column names; the rows above it are skipped. Found among the first "
                       "rows when omitted (the one that best matches the known names)"})
    values = ma.fields.String(metadata={
        "description": 'JSON object: field -> {value in the file: choice}, for enumerated '
                       'fields (lifecycle, person_type, state, stage, owner...), e.g. '
                       '{"lifecycle": {"Ativo": "customer", "Inativo": "archived"}}; an '
                       'empty choice leaves the value out. Guessed when omitted'})


class ImportJobSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    file_name = ma.fields.String()
    status = ma.fields.String(metadata={
        "description": "ready, queued, running, done, rejected (nothing written), failed "
                       "(what was written removed again) or undone"})
    phase = ma.fields.String(allow_none=True, metadata={
        "description": "While running: checking (every row, nothing written) or writing"})
    skip_invalid = ma.fields.Boolean()
    mapping = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    header_row = ma.fields.Integer(allow_none=True, metadata={
        "description": "The row that holds the column names"})
    total_rows = ma.fields.Integer(allow_none=True)
    processed_rows = ma.fields.Integer()
    written_rows = ma.fields.Integer()
    created_rows = ma.fields.Integer()
    updated_rows = ma.fields.Integer()
    rejected_rows = ma.fields.Integer()
    percent = ma.fields.Integer()
    finished = ma.fields.Boolean()
    message = ma.fields.String(allow_none=True)
    rejected_url = ma.fields.String(allow_none=True, metadata={
        "description": "The rejected rows as CSV (original columns + reason), when there are"})


def _job_body(job: ImportJob) -> dict:
    body = {name: getattr(job, name) for name in ("id", "kind", "file_name", "skip_invalid",
                                                  "mapping")}
    body["header_row"] = (job.options or {}).get("header_row")
    body.update(services.job_progress(job))
    body["rejected_url"] = (url_for("imports_api.rejected", job_id=job.id)
                            if body["rejected_rows"] else None)
    return body


def _mapping(job: ImportJob, text: str) -> dict[str, int]:
    """The client's mapping (headers or indexes) as field -> column index."""
    try:  # a form field, not the body: its nesting is checked here (RecursionError)
        given = None if json_too_deep(text) else json.loads(text)
    except ValueError:
        given = None
    if not isinstance(given, dict):
        abort(422, "The mapping is not a JSON object.",
              fields={"mapping": ["Send a JSON object: field -> header or column index."]})
    header = [str(cell or "").strip() for cell in services.read_header(job)]
    mapping, errors = {}, []
    for field_name, column in given.items():
        if isinstance(column, int) and not isinstance(column, bool) and 0 <= column < len(header):
            mapping[str(field_name)] = column
        elif isinstance(column, str) and column.strip() in header:
            mapping[str(field_name)] = header.index(column.strip())
        else:
            errors.append(f"{field_name}: no column {column!r} in the file.")
    if errors:
        abort(422, "The mapping names columns the file does not have.",
              fields={"mapping": errors})
    return mapping


def _values(text: str) -> dict:
    try:
        given = None if json_too_deep(text) else json.loads(text)
    except ValueError:
        given = None
    if not isinstance(given, dict) or not all(isinstance(t, dict) for t in given.values()):
        abort(422, "The value mapping is not a JSON object of objects.",
              fields={"values": ["Send a JSON object: field -> {value: choice}."]})
    return given


def _visible_job(job_id: int) -> ImportJob:
    job = services.visible_job(job_id, current_user)
    if job is None or services.get_importer(job.kind, current_user) is None:
        abort(404, "No such import, or not yours.")
    return job


@blp.post("/imports")
@may_import
@large_body("IMPORT_MAX_BYTES")
@blp.arguments(UploadForm, location="multipart")
@blp.response(202, ImportJobSchema)
@blp.alt_response(403, description="The user may not import this kind of record")
@blp.alt_response(422, description="The file or the mapping cannot be used")
def upload(form):
    """Upload a CSV or XLSX file and start importing it.

    Answers at once (202); follow the import at its URL until ``finished``.
    """
    if services.get_importer(form["kind"], current_user) is None:
        abort(403, "You may not import this kind of record.", code="forbidden")
    upload = form["file"]
    if not hasattr(upload, "stream"):  # a text field named "file", not a file
        abort(422, "Send the file as a file part.", fields={"file": ["Not a file."]})
    try:
        job = services.store_upload(upload.stream, upload.filename or "upload",
                                    user=current_user, kind=form["kind"],
                                    encoding=form.get("encoding"),
                                    delimiter=form.get("delimiter"),
                                    header_row=form.get("header_row"))
        mapping = _mapping(job, form["mapping"]) if "mapping" in form else dict(job.mapping)
        values = _values(form["values"]) if "values" in form else None
        services.save_mapping(job, mapping, values=values)
    except services.ImportRefused as error:
        abort(422, str(error.message), code="import_refused")
    services.start(job, skip_invalid=form["skip_invalid"])
    return _job_body(job), 202, {"Location": url_for("imports_api.job", job_id=job.id)}


@blp.get("/imports/<int:job_id>")
@may_import
@blp.response(200, ImportJobSchema)
@blp.alt_response(403, description="The user may not import records")
@blp.alt_response(404, description="No such import, or not yours")
def job(job_id):
    """An import's status and counts."""
    return _job_body(_visible_job(job_id))


@blp.get("/imports/<int:job_id>/rejected")
@may_import
@blp.response(200, content_type="text/csv", description="CSV")
@blp.alt_response(403, description="The user may not import records")
@blp.alt_response(404, description="No such import, or it has no rejected rows")
def rejected(job_id):
    """The rejected rows: the file's own columns plus a ``reason`` column."""
    job = _visible_job(job_id)
    path = services.rejects_path(job)
    if not job.rejected_rows or not path.exists():
        abort(404, "This import has no rejected rows.")
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"{Path(job.file_name).stem or 'import'}-rejected.csv",
                     max_age=0)


@blp.post("/imports/<int:job_id>/undo")
@may_import
@blp.response(200, ImportJobSchema)
@blp.alt_response(403, description="The user may not import records")
@blp.alt_response(404, description="No such import, or not yours")
@blp.alt_response(409, description="Not finished, or records now depend on what it created")
def undo(job_id):
    """Undo a finished import: the records it created are deleted, the values it changed
    are put back. Refused (409, nothing changed) while other records refer to what it
    created or someone changed a value it wrote; the message lists them."""
    job = _visible_job(job_id)
    try:
        services.undo_import(job)
    except services.ImportRefused as error:
        abort(409, str(error.message), code="undo_refused")
    return _job_body(_visible_job(job_id))


__all__ = ["blp"]
