"""Imports, as the web pages, the command line and the API use them.

upload (:func:`store_upload`) -> mapping (:func:`guessed`, :func:`save_mapping`) ->
:func:`preview` -> :func:`start` (queued for the background worker) -> the job's counts
and its rejected rows (:func:`rejects_path`) -> perhaps :func:`undo_import`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import shutil
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from ..db import db, write_transaction
from .changes import blockers
from .contract import Importer
from .models import DONE, FAILED, NEW, QUEUED, READY, STARTABLE, ImportJob
from .reading import (
    DELIMITERS,
    ENCODINGS,
    FORMAT_CSV,
    UnreadableFile,
    detect_encoding,
    detect_format,
    job_rows,
    numbered_rows,
    sniff_delimiter,
)
from .rows import (
    HEADER_SCAN_ROWS,
    RowOutcome,
    SeenKeys,
    ValueMap,
    check_batch,
    detect_header,
    distinct_values,
    enumerated_fields,
    guess_mapping,
    guessed_values,
    mapping_errors,
    value_key,
)
from .runner import import_folder, rejects_path, run_job, stored_path, undo
from .tasks import run_import

log = logging.getLogger(__name__)

__all__ = ["ImportRefused", "Preview", "check_header_row", "copy_rejects", "delete_files",
           "file_values", "find_header_row", "first_rows", "get_importer", "guessed",
           "importers_for", "job_progress", "preview", "read_header", "rejects_path",
           "run_job", "save_mapping", "start", "store_upload", "stored_path", "undo_blockers",
           "undo_import", "value_choices", "visible_job"]

COPY_CHUNK = 1024 * 1024
MAX_HEADER_ROW = 100  # the header may be chosen among the file's first rows


class ImportRefused(ValueError):
    """The upload or the request cannot go on; ``message`` says why, for the user."""

    def __init__(self, message: Any):
        super().__init__(message)
        self.message = message


def importers_for(user) -> list[Importer]:
    """The importers ``user`` may use, in the registry's order."""
    return current_app.extensions["erp"].items(Importer, user)


def get_importer(kind: str, user=None) -> Importer | None:
    """The importer for ``kind`` if it exists (and, given a user, if they may use it)."""
    importer = current_app.extensions["erp"].get(Importer, kind)
    if importer is None or user is None:
        return importer
    return importer if importer in importers_for(user) else None


def visible_job(job_id: int, user) -> ImportJob | None:
    """The job, to its owner or an admin; None to anyone else (the views answer 404)."""
    job = db.session.get(ImportJob, job_id)
    if job is None or not (job.user_id == user.id or user.is_admin):
        return None
    return job


def _max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def _size_label(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def check_header_row(header_row: Any) -> int | None:
    if header_row is None or header_row == "":
        return None
    if (isinstance(header_row, bool) or not isinstance(header_row, int | str)
            or not str(header_row).strip().isdigit()
            or not 1 <= int(header_row) <= MAX_HEADER_ROW):
        raise ImportRefused(_("The header row must be a row number from 1 to %(max)d.",
                              max=MAX_HEADER_ROW))
    return int(header_row)


def store_upload(stream: IO[bytes], file_name: str, *, user, kind: str,
                 encoding: str | None = None, delimiter: str | None = None,
                 header_row: int | None = None) -> ImportJob:
    """Keep an uploaded file, detect its format, encoding and delimiter, find its header
    row (among the first rows, the one that best matches the importer's column names,
    unless ``header_row`` says), guess the mapping; a new job. ImportRefused (and no file
    kept) for what cannot be used."""
    importer = get_importer(kind, user)
    if importer is None:
        raise ImportRefused(_("You may not import this kind of record."))
    header_row = check_header_row(header_row)
    if encoding is not None and encoding not in ENCODINGS:
        raise ImportRefused(_("Unknown encoding %(name)s.", name=encoding))
    if delimiter is not None and delimiter not in DELIMITERS:
        raise ImportRefused(_("Unknown delimiter %(name)r.", name=delimiter))
    folder = import_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}.upload"
    path = folder / stored_name
    limit = _max_bytes()
    size = 0
    try:
        with open(path, "wb") as target:
            while chunk := stream.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ImportRefused(_("The file is larger than %(limit)s: split it into "
                                          "smaller files.", limit=_size_label(limit)))
                target.write(chunk)
        if size == 0:
            raise ImportRefused(_("The file is empty."))
        try:
            file_format = detect_format(path, file_name)
            options: dict[str, Any] = {}
            if file_format == FORMAT_CSV:
                options["encoding"] = encoding or detect_encoding(path)
                options["delimiter"] = delimiter or sniff_delimiter(path, options["encoding"])
            options["header_row"] = header_row or find_header_row(path, file_format, options,
                                                                  importer)
            header = _first_row(path, file_format, options)
        except UnreadableFile as error:
            raise ImportRefused(error.message) from None
        if header is None:
            raise ImportRefused(_("The file has no rows."))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    user_id = user.id
    with write_transaction():
        job = ImportJob(user_id=user_id, kind=kind, file_name=_display_name(file_name),
                        stored_name=stored_name, file_format=file_format, file_size=size,
                        options=options, mapping=guess_mapping(header, importer), status=NEW)
        db.session.add(job)
        db.session.commit()
    return job


def _display_name(file_name: str) -> str:
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:255] or "upload"


def find_header_row(path, file_format: str, options: dict, importer: Importer) -> int:
    """The number of the row that best matches the importer's column names, among the
    first ones (1 for an empty file: it is refused later)."""
    rows = numbered_rows(path, file_format, options.get("encoding"), options.get("delimiter"))
    try:
        first = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    finally:
        rows.close()
    return detect_header(first, importer) or 1


def first_rows(path, file_format: str, options: dict, count: int) -> list[tuple[int, list]]:
    """The first ``count`` non-blank rows of the file, from row 1 (the header row aside)."""
    rows = numbered_rows(path, file_format, options.get("encoding"), options.get("delimiter"))
    try:
        return list(itertools.islice(rows, count))
    finally:
        rows.close()


def _first_row(path, file_format: str, options: dict) -> list | None:
    rows = job_rows(path, file_format, options)
    try:
        first = next(rows, None)
    finally:
        rows.close()
    return first[1] if first else None


def read_header(job: ImportJob) -> list:
    """The file's header row (ImportRefused if the file can no longer be read)."""
    try:
        header = _first_row(stored_path(job), job.file_format, job.options or {})
    except (UnreadableFile, OSError) as error:
        raise ImportRefused(getattr(error, "message", _("The file is gone."))) from None
    return header or []


def guessed(job: ImportJob, importer: Importer) -> dict[str, int]:
    return guess_mapping(read_header(job), importer)


def save_mapping(job: ImportJob, mapping: dict[str, int], *,
                 encoding: str | None = None, delimiter: str | None = None,
                 header_row: int | None = None,
                 values: dict[str, dict[str, str]] | None = None) -> ImportJob:
    """Confirm the mapping (and the CSV reading options, the header row); the job is then
    ready to start. ``values``, the user's value mapping (field -> {cell text: code, ""
    to leave it out}), goes over the guesses for the values the file holds."""
    with write_transaction():
        return _save_mapping(job, mapping, encoding, delimiter, header_row, values)


def _save_mapping(job: ImportJob, mapping: dict[str, int], encoding: str | None,
                  delimiter: str | None, header_row: int | None,
                  values: dict[str, dict[str, str]] | None) -> ImportJob:
    if job.status not in (NEW, *STARTABLE):
        raise ImportRefused(_("This import has already run."))
    importer = get_importer(job.kind)
    options = dict(job.options or {})
    if job.file_format == FORMAT_CSV:
        if encoding:
            options["encoding"] = encoding
        if delimiter:
            options["delimiter"] = delimiter
    header_row = check_header_row(header_row)
    if header_row:
        options["header_row"] = header_row
    job.options = options
    header = read_header(job)
    errors = mapping_errors(importer, mapping, len(header))
    errors += _value_errors(importer, values)
    if errors:
        db.session.rollback()
        raise ImportRefused(" ".join(errors))
    job.mapping = dict(mapping)
    found = file_values(job, importer, mapping)
    # A new dict: the one assigned above may have been flushed as it is (a JSON column's
    # change is seen by comparison with what was flushed).
    job.options = {**options, "values": guessed_values(importer, found, {
        name: table for name, table in (values or {}).items() if name in mapping})}
    job.status = READY
    db.session.commit()
    return job


def _value_errors(importer: Importer, values: dict | None) -> list[str]:
    """What is wrong with a value mapping: not a mapping, unknown fields or codes."""
    if not values:
        return []
    if not isinstance(values, dict):
        return [_("The value mapping must map each field to its values.")]
    errors = []
    for name, table in values.items():
        field = importer.field(name)
        if field is None or field.choices is None:
            errors.append(_("%(field)s takes no value mapping.", field=name))
            continue
        if not isinstance(table, dict) or not all(
                isinstance(k, str) and isinstance(c, str | type(None)) for k, c in table.items()):
            errors.append(_("The values of %(field)s must map a text to a choice.",
                            field=field.label))
            continue
        codes = {code for code, _label in field.choices()}
        wrong = sorted({c for c in table.values() if c and c not in codes})
        if wrong:
            errors.append(_("%(field)s: unknown choice %(codes)s (choices: %(choices)s).",
                            field=field.label, codes=", ".join(wrong),
                            choices=", ".join(sorted(codes))))
    return errors


def value_scan_rows() -> int:
    """Rows read for the distinct values of enumerated columns (the mapping step)."""
    return int(current_app.config.get("IMPORT_VALUE_SCAN_ROWS", 2000))


def file_values(job: ImportJob, importer: Importer,
                mapping: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
    """The distinct values of the mapped enumerated columns (the first rows), with counts."""
    if not enumerated_fields(importer, mapping):
        return {}
    try:
        rows = job_rows(stored_path(job), job.file_format, job.options)
        try:
            next(rows, None)  # the header
            return distinct_values(rows, importer, mapping, value_scan_rows())
        finally:
            rows.close()
    except (UnreadableFile, OSError) as error:
        raise ImportRefused(getattr(error, "message", _("The file is gone."))) from None


@dataclass
class ValueChoice:
    """One distinct value of an enumerated column, for the mapping step."""

    text: str
    count: int
    key: str  # value_key(text): how it is kept in the job's value mapping
    code: str | None  # the choice it is mapped to: saved, else guessed; None: not known
    guessed: bool


def value_choices(job: ImportJob, importer: Importer, mapping: dict[str, int]
                  ) -> list[tuple[Any, list[tuple[str, Any]], list[ValueChoice]]]:
    """For each mapped enumerated field: (field, its choices, the values found)."""
    saved = (job.options or {}).get("values") or {}
    result = []
    for name, entries in file_values(job, importer, mapping).items():
        field = importer.field(name)
        table = saved.get(name, {})
        values = []
        for text, count in entries:
            key = value_key(text)
            if key in table:
                values.append(ValueChoice(text, count, key, table[key], False))
            else:
                guess = field.guess(text) if field.guess else None
                values.append(ValueChoice(text, count, key, guess, guess is not None))
        if values:
            result.append((field, field.choices(), values))
    return result


@dataclass
class Preview:
    fields: list  # the mapped ImportFields, in the importer's order
    rows: list[RowOutcome] = field(default_factory=list)
    valid: int = 0
    invalid: int = 0
    more: bool = False  # the file has rows after these


def preview(job: ImportJob, user, limit: int | None = None) -> Preview:
    """The first rows checked as the import will check them; nothing is written."""
    importer = get_importer(job.kind)
    limit = limit or int(current_app.config.get("IMPORT_PREVIEW_ROWS", 20))
    rows = job_rows(stored_path(job), job.file_format, job.options)
    batch = []
    try:
        next(rows, None)  # the header
        for row in rows:
            if len(batch) == limit:
                result_more = True
                break
            batch.append(row)
        else:
            result_more = False
    except UnreadableFile as error:
        raise ImportRefused(error.message) from None
    finally:
        rows.close()
    outcomes = check_batch(importer, batch, job.mapping, user, SeenKeys(),
                           ValueMap((job.options or {}).get("values")))
    fields = [f for f in importer.fields if f.name in job.mapping]
    invalid = sum(1 for o in outcomes if o.error)
    return Preview(fields, outcomes, len(outcomes) - invalid, invalid, result_more)


# --- running ------------------------------------------------------------------------------


def start(job: ImportJob, *, skip_invalid: bool = False, background: bool = True,
          on_progress=None) -> bool:
    """Queue the job for the background worker (or, with ``background=False``, run it here).

    False if it was not startable (already running or finished): only one run at a time.
    """
    job_id = job.id
    with write_transaction():
        options = {**(job.options or {}), "skip_invalid": bool(skip_invalid)}
        claimed = db.session.execute(
            update(ImportJob).where(ImportJob.id == job_id, ImportJob.status.in_(STARTABLE))
            .values(status=QUEUED, options=options, message=None, total_rows=None,
                    processed_rows=0, rejected_rows=0, created_rows=0, updated_rows=0,
                    written_rows=0, phase=None, worker=None, heartbeat_at=None,
                    started_at=None, finished_at=None)
        ).rowcount
        db.session.commit()
    if not claimed:
        return False
    if not background:
        with current_app.app_context():  # a session of its own, as in the worker
            try:
                run_job(job_id, on_progress=on_progress)
            finally:
                db.session.remove()
    else:
        try:
            run_import.enqueue(job_id)
        except Exception:
            log.exception("import %s could not be queued", job_id)
            db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
                status=FAILED, message=_("The background queue cannot be reached. Nothing "
                                         "was imported; try again in a moment.")))
            db.session.commit()
    db.session.commit()  # end this session's read snapshot: the job's new state shows
    return True


def job_progress(job: ImportJob) -> dict:
    """What the progress page shows."""
    counts = {"status": job.status, "phase": job.phase, "total_rows": job.total_rows,
              "processed_rows": job.processed_rows, "rejected_rows": job.rejected_rows,
              "written_rows": job.written_rows or 0, "created_rows": job.created_rows,
              "updated_rows": job.updated_rows, "percent": job.percent,
              "finished": job.finished}
    counts["message"] = job.message if job.finished else None
    return counts


def undo_blockers(job: ImportJob) -> list[str]:
    """Why the import cannot be undone (empty: it can)."""
    if job.status != DONE:
        return [_("Only a finished import can be undone.")]
    return blockers(job.id)


def undo_import(job: ImportJob) -> int:
    """Undo a finished import: created records deleted, changed values put back.
    ImportRefused (nothing changed) listing what blocks it."""
    problems = undo_blockers(job)
    if problems:
        db.session.rollback()
        raise ImportRefused(" ".join(problems))
    return undo(job)


def delete_files(job: ImportJob) -> None:
    """Remove the stored upload and its rejects file."""
    for path in (stored_path(job), rejects_path(job)):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def copy_rejects(job: ImportJob, target) -> bool:
    """Copy the rejects file to ``target`` (a path or a binary file); False if none."""
    path = rejects_path(job)
    if not path.exists():
        return False
    if hasattr(target, "write"):
        with open(path, "rb") as source:
            shutil.copyfileobj(source, target)
    else:
        shutil.copyfile(path, target)
    return True
