"""Import pages: upload -> column mapping -> preview -> import (progress) -> result.

Every page needs a login and the importer's permission; a job is seen only by its owner
or an admin (404 for anyone else).
"""

from __future__ import annotations

import csv
import itertools
from functools import wraps
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from ..db import db
from ..forms import PostForm
from . import services
from .contract import Importer, cell_text
from .forms import RunForm, UploadForm, chosen_mapping, mapping_form
from .models import ACTIVE, FAILED, NEW, READY, REJECTED, STARTABLE, ImportJob
from .reading import FORMAT_CSV, UnreadableFile, job_rows
from .rows import HEADER_SCAN_ROWS, enumerated_fields
from .runner import rejects_delimiter, stored_path

bp = Blueprint("imports", __name__, url_prefix="/imports", static_folder="static",
               static_url_path="/static")

LIST_LIMIT = 50
REJECTS_SHOWN = 20


def importer_user(view):
    """Logged in, and allowed to use at least one importer (403 otherwise)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not services.importers_for(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _job_or_404(job_id: int) -> ImportJob:
    job = services.visible_job(job_id, current_user)
    if job is None:
        abort(404)
    if services.get_importer(job.kind, current_user) is None:
        abort(403)
    return job


@bp.route("/")
@importer_user
def index():
    statement = select(ImportJob).order_by(ImportJob.id.desc()).limit(LIST_LIMIT)
    if not current_user.is_admin:
        statement = statement.where(ImportJob.user_id == current_user.id)
    jobs = db.session.scalars(statement).all()
    labels = {i.key: i.label for i in services.importers_for(current_user)}
    return render_template("erp/imports/index.html", jobs=jobs, labels=labels)


@bp.route("/new", methods=["GET", "POST"])
@importer_user
def new():
    importers = services.importers_for(current_user)
    kind = request.values.get("kind")
    if kind and kind not in {i.key for i in importers}:
        abort(403 if current_app.extensions["erp"].get(Importer, kind) else 404)
    form = UploadForm(kind=kind or importers[0].key)
    form.kind.choices = [(i.key, i.label) for i in importers]
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = services.store_upload(upload.stream, upload.filename or "",
                                        user=current_user, kind=form.kind.data)
        except services.ImportRefused as error:
            form.file.errors.append(error.message)
            status = 400
        else:
            return redirect(url_for("imports.mapping", job_id=job.id))
    elif request.method == "POST":
        status = 400
    selected = next((i for i in importers if i.key == form.kind.data), importers[0])
    return render_template("erp/imports/new.html", form=form, importers=importers,
                           selected=selected,
                           max_mb=current_app.config.get("IMPORT_MAX_BYTES", 0) // 2**20), status


def _first_rows(job: ImportJob) -> tuple[list, list]:
    rows = job_rows(stored_path(job), job.file_format, job.options)
    try:
        first = [cells for _n, cells in itertools.islice(rows, 2)]
    finally:
        rows.close()
    return (first[0] if first else []), (first[1] if len(first) > 1 else [])


@bp.route("/<int:job_id>/mapping", methods=["GET", "POST"])
@importer_user
def mapping(job_id: int):
    job = _job_or_404(job_id)
    if job.status not in (NEW, *STARTABLE):
        return redirect(url_for("imports.job", job_id=job.id))
    importer = services.get_importer(job.kind)
    unreadable = None
    try:
        header, example = _first_rows(job)
        first_rows = services.first_rows(stored_path(job), job.file_format, job.options or {},
                                         HEADER_SCAN_ROWS)
    except UnreadableFile as error:  # e.g. an encoding that does not fit the file
        unreadable = error.message
        header, example, first_rows = [], [], []
    is_csv = job.file_format == FORMAT_CSV
    form = mapping_form(importer, header, example, job.mapping or {}, job.options or {}, is_csv,
                        first_rows)
    status = 200
    if form.validate_on_submit():
        options = job.options or {}
        if is_csv and (form.encoding.data != options.get("encoding")
                       or form.delimiter.data != options.get("delimiter")):
            # The file must be read again: other columns, so another guess.
            job.options = {**options, "encoding": form.encoding.data,
                           "delimiter": form.delimiter.data}
            _read_again(job, importer, header_row=None)
            flash(_("The file was read again with the chosen encoding and delimiter: check "
                    "the columns."), "info")
            return redirect(url_for("imports.mapping", job_id=job.id))
        header_row = form.header_row.data
        if header_row and header_row != str(options.get("header_row") or ""):
            try:
                header_row = services.check_header_row(header_row)
            except services.ImportRefused as error:
                form.header_row.errors = [error.message]
                status = 400
            else:
                _read_again(job, importer, header_row=header_row)
                flash(_("The file was read again from the chosen header row: check the "
                        "columns."), "info")
                return redirect(url_for("imports.mapping", job_id=job.id))
        if status == 200:
            mapping = chosen_mapping(form)
            try:
                services.save_mapping(job, mapping,
                                      values=_posted_values(job.mapping or {}, mapping))
            except services.ImportRefused as error:
                form.form_errors.append(error.message)
                status = 400
            else:
                return redirect(url_for("imports.preview", job_id=job.id))
    elif request.method == "POST":
        status = 400
    if unreadable is not None:
        form.form_errors.append(unreadable)
    values = []
    if unreadable is None and enumerated_fields(importer, job.mapping or {}):
        try:
            values = services.value_choices(job, importer, job.mapping or {})
        except services.ImportRefused as error:
            form.form_errors.append(error.message)
    return render_template("erp/imports/mapping.html", job=job, importer=importer, form=form,
                           header=header, values=values,
                           unreadable=unreadable), 400 if unreadable and (
                               request.method == "POST") else status


def _read_again(job: ImportJob, importer: Importer, *, header_row: int | None) -> None:
    """After a change of encoding, delimiter or header row: the header found again (or
    the one chosen), the mapping guessed again, the value mapping forgotten."""
    options = {k: v for k, v in (job.options or {}).items() if k != "values"}
    try:
        options["header_row"] = header_row or services.find_header_row(
            stored_path(job), job.file_format, options, importer)
        job.options = options
        job.mapping = services.guessed(job, importer)
    except (services.ImportRefused, UnreadableFile, OSError):
        job.options = options
        job.mapping = {}
    db.session.commit()


def _posted_values(before: dict[str, int], mapping: dict[str, int]) -> dict[str, dict]:
    """The value mapping posted (``values-<field>-<n>-key`` / ``-code``), for the fields
    whose column is still the one whose values the page showed."""
    values: dict[str, dict[str, str]] = {}
    for name, key in request.form.items():
        if not (name.startswith("values-") and name.endswith("-key")):
            continue
        field, _sep, _n = name[len("values-"):-len("-key")].rpartition("-")
        if field and field in mapping and before.get(field) == mapping[field]:
            code = request.form.get(name[:-len("-key")] + "-code", "")
            values.setdefault(field, {})[key] = code
    return values


@bp.route("/<int:job_id>/preview", methods=["GET", "POST"])
@importer_user
def preview(job_id: int):
    job = _job_or_404(job_id)
    if job.status == NEW:
        return redirect(url_for("imports.mapping", job_id=job.id))
    if job.status not in STARTABLE:
        return redirect(url_for("imports.job", job_id=job.id))
    form = RunForm(skip_invalid=job.skip_invalid)
    if form.validate_on_submit():
        if not services.start(job, skip_invalid=form.skip_invalid.data):
            flash(_("This import is already running or finished."), "warning")
        return redirect(url_for("imports.job", job_id=job.id))
    try:
        result = services.preview(job, current_user)
    except services.ImportRefused as error:
        flash(error.message, "error")
        return redirect(url_for("imports.mapping", job_id=job.id))
    importer = services.get_importer(job.kind)
    return render_template("erp/imports/preview.html", job=job, importer=importer,
                           preview=result, form=form, cell_text=cell_text), (
                               400 if request.method == "POST" else 200)


def _rejects_sample(job: ImportJob) -> tuple[list, list]:
    path = services.rejects_path(job)
    if not job.rejected_rows or not path.exists():
        return [], []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(itertools.islice(csv.reader(handle, delimiter=rejects_delimiter(job)),
                                     REJECTS_SHOWN + 1))
    return (rows[0], rows[1:]) if rows else ([], [])


@bp.route("/<int:job_id>")
@importer_user
def job(job_id: int):
    job = _job_or_404(job_id)
    if job.status == NEW:
        return redirect(url_for("imports.mapping", job_id=job.id))
    if job.status == READY:
        return redirect(url_for("imports.preview", job_id=job.id))
    header, rejects = _rejects_sample(job)
    return render_template("erp/imports/job.html", job=job, progress=services.job_progress(job),
                           importer=services.get_importer(job.kind), running=job.status in ACTIVE,
                           rejects_header=header, rejects=rejects, run_form=RunForm(),
                           can_retry=job.status == REJECTED
                           and job.processed_rows > job.rejected_rows,
                           can_run_again=job.status == FAILED
                           and services.stored_path(job).exists())


@bp.route("/<int:job_id>/undo", methods=["GET", "POST"])
@importer_user
def undo(job_id: int):
    """Undo a finished import, after a confirmation that says what it will do, or what
    stands in the way."""
    job = _job_or_404(job_id)
    form = PostForm()
    if form.validate_on_submit():
        try:
            changed = services.undo_import(job)
        except services.ImportRefused as error:
            flash(error.message, "error")
        else:
            flash(ngettext("The import was undone: %(num)d record deleted or put back.",
                           "The import was undone: %(num)d records deleted or put back.",
                           changed), "success")
        return redirect(url_for("imports.job", job_id=job_id), 303)
    blockers = services.undo_blockers(job)
    return render_template("erp/imports/undo.html", job=job, form=form, blockers=blockers,
                           importer=services.get_importer(job.kind)), (
                               400 if request.method == "POST" else 200)


@bp.route("/<int:job_id>/progress")
@importer_user
def progress(job_id: int):
    return jsonify(services.job_progress(_job_or_404(job_id)))


@bp.route("/<int:job_id>/rejected.csv")
@importer_user
def rejected(job_id: int):
    job = _job_or_404(job_id)
    path = services.rejects_path(job)
    if not job.rejected_rows or not path.exists():
        abort(404)
    name = f"{Path(job.file_name).stem or 'import'}-rejected.csv"
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=name,
                     max_age=0)
