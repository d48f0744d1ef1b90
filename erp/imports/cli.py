"""``flask --app erp import KIND FILE``: the web import's steps, on the command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, or_, select

from ..auth.models import Role, User
from ..db import db
from . import services
from .contract import Importer, cell_text
from .reading import ENCODINGS, normalize_header

DELIMITER_NAMES = {",": ",", ";": ";", "tab": "\t", "|": "|"}


def _user(login: str | None) -> User:
    if login:
        login = login.strip().lower()
        user = db.session.scalar(select(User).where(
            or_(func.lower(User.username) == login, func.lower(User.email) == login)))
        if user is None or not user.is_active:
            raise click.ClickException(f"No active user {login!r}.")
        return user
    user = db.session.scalar(
        select(User).join(User.roles).where(Role.is_admin.is_(True), User.active.is_(True))
        .order_by(User.id).limit(1))
    if user is None:
        raise click.ClickException("No admin user: name one with --user.")
    return user


def _column(header: list, wanted: str) -> int:
    """A column by its 1-based number or by its name (without case or accents)."""
    if wanted.isdigit() and 1 <= int(wanted) <= len(header):
        return int(wanted) - 1
    names = [normalize_header(cell_text(h)) for h in header]
    if normalize_header(wanted) in names:
        return names.index(normalize_header(wanted))
    raise click.BadParameter(f"no column {wanted!r} in the file", param_hint="--map")


class _Printer:
    """Progress on stderr, at most once a second (and at the end of each phase)."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, job) -> None:
        now = time.monotonic()
        finished = job.finished or job.processed_rows == job.total_rows
        if now - self.last < 1 and not finished:
            return
        self.last = now
        total = "?" if job.total_rows is None else job.total_rows
        click.echo(f"  {job.processed_rows}/{total} rows checked, "
                   f"{job.rejected_rows} rejected", err=True)


@click.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "login", metavar="LOGIN",
              help="User (login or e-mail) the rows are imported as; default: the first admin.")
@click.option("--delimiter", type=click.Choice(list(DELIMITER_NAMES)),
              help="CSV delimiter; default: detected.")
@click.option("--encoding", type=click.Choice(list(ENCODINGS)),
              help="CSV encoding; default: detected (UTF-8, else Windows-1252).")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and skip the rejected ones (default: all or nothing).")
@click.option("--header-row", type=click.IntRange(1, services.MAX_HEADER_ROW),
              help="The row (1-based) with the column names; the rows above it are skipped. "
                   "Default: found among the first rows.")
@click.option("--value", "value_overrides", multiple=True, metavar="FIELD:VALUE=CHOICE",
              help="What a value of an enumerated column means, e.g. "
                   "--value lifecycle:Inativo=archived; an empty CHOICE leaves it out.")
@click.option("--map", "overrides", multiple=True, metavar="FIELD=COLUMN",
              help="Map a field to a column (name or number), e.g. --map tax_id=Documento.")
@click.option("--rejected", "rejected_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rejected rows (with a reason column) to this file.")
@with_appcontext
def import_command(kind, file, login, delimiter, encoding, header_row, value_overrides,
                   skip_invalid, overrides, rejected_out):
    """Import KIND (accounts, contacts, opportunities...) from FILE (CSV or .xlsx).

    Exits with status 1 when rows were rejected or the import failed.
    """
    user = _user(login)
    registry = current_app.extensions["erp"]
    kinds = [i.key for i in registry.items(Importer, check_permission=False)]
    if kind not in kinds:
        raise click.BadParameter(f"choose one of: {', '.join(kinds) or '(none installed)'}",
                                 param_hint="KIND")
    importer = services.get_importer(kind, user)
    if importer is None:
        raise click.ClickException(f"{user.username} may not import {kind}.")
    with open(file, "rb") as stream:
        try:
            job = services.store_upload(stream, file.name, user=user, kind=kind,
                                        encoding=encoding,
                                        delimiter=DELIMITER_NAMES.get(delimiter),
                                        header_row=header_row)
        except services.ImportRefused as error:
            raise click.ClickException(str(error.message)) from None
    try:
        header = services.read_header(job)
    except services.ImportRefused as error:
        services.delete_files(job)
        raise click.ClickException(str(error.message)) from None
    values: dict[str, dict[str, str]] = {}
    for override in value_overrides:
        name, colon, rest = override.partition(":")
        text, equals, code = rest.rpartition("=")
        if not colon or not equals or importer.field(name.strip()) is None:
            raise click.BadParameter(f"{override!r}: use FIELD:VALUE=CHOICE",
                                     param_hint="--value")
        values.setdefault(name.strip(), {})[text.strip()] = code.strip()
    mapping = dict(job.mapping)
    for override in overrides:
        name, _sep, wanted = override.partition("=")
        if importer.field(name.strip()) is None:
            raise click.BadParameter(f"unknown field {name!r}; fields: "
                                     + ", ".join(f.name for f in importer.fields),
                                     param_hint="--map")
        mapping = {k: v for k, v in mapping.items() if k != name.strip()}
        if wanted.strip():
            mapping[name.strip()] = _column(header, wanted.strip())
    options = job.options or {}
    if "delimiter" in options:
        shown = {"\t": "tab"}.get(options["delimiter"], options["delimiter"])
        click.echo(f"{file.name}: {options['encoding']}, delimiter {shown!r}")
    if (options.get("header_row") or 1) > 1:
        click.echo(f"  header: row {options['header_row']}")
    for field in importer.fields:
        if field.name in mapping:
            click.echo(f"  {field.name:<22} <- {cell_text(header[mapping[field.name]])!r}")
    try:
        services.save_mapping(job, mapping, values=values or None)
    except services.ImportRefused as error:
        services.delete_files(job)
        raise click.ClickException(str(error.message)) from None
    for name, table in ((job.options or {}).get("values") or {}).items():
        for text, code in table.items():
            click.echo(f"  {name}: {text!r} -> {code or '(left out)'}")
    services.start(job, skip_invalid=skip_invalid, background=False, on_progress=_Printer())
    job = db.session.get(type(job), job.id)
    click.echo(f"{job.status}: {job.message or ''}")
    click.echo(f"rows: {job.total_rows or 0}, created: {job.created_rows}, "
               f"updated: {job.updated_rows}, rejected: {job.rejected_rows}")
    if job.rejected_rows:
        if rejected_out:
            services.copy_rejects(job, rejected_out)
            click.echo(f"Rejected rows written to {rejected_out}")
        else:
            click.echo(f"Rejected rows: {services.rejects_path(job)}")
    if job.status != "done" or job.rejected_rows:
        sys.exit(1)

