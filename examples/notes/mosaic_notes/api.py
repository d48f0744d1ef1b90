"""The Notes module's JSON API: a flask-smorest blueprint the host mounts at /api/v1/notes.

Schemas document themselves in /api/v1/openapi.json; the host authenticates the token,
so ``current_user`` is the token's user, and the same service as the form writes.
"""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from sqlalchemy import select

from erp.api import Blueprint, abort
from erp.api.fields import Id, QueryId, Text, UtcDateTime
from erp.api.paging import ListArgs, keyset_page, page_schema
from erp.auth import permission_required
from modules.crm.models import Account
from modules.crm.services.scope import account_scope, get_account_or_404

from .models import Note
from .permissions import READ, WRITE
from .services import MAX_BODY, add_note

blp = Blueprint("notes_api", __name__, description="Notes on accounts")


class NoteSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    account_id = Id(required=True)  # a JSON integer within the database's range
    body = Text(required=True, max_length=MAX_BODY)  # no NUL, which PostgreSQL refuses
    created_at = UtcDateTime(dump_only=True)


class NoteListArgs(ListArgs):
    account_id = QueryId()


@blp.get("/notes")
@permission_required(READ)  # before the arguments: no permission, no parsing
@blp.arguments(NoteListArgs, location="query")
@blp.response(200, page_schema(NoteSchema, "NotePage"))
@blp.alt_response(403, description="Without notes.read")  # documents the refusal too
def list_notes(args):
    statement = (select(Note).join(Account, Account.id == Note.account_id)
                 .where(account_scope(current_user)))
    if "account_id" in args:
        statement = statement.where(Note.account_id == args["account_id"])
    return keyset_page(statement, Note.id, args)


@blp.post("/notes")
@permission_required(WRITE)
@blp.arguments(NoteSchema)
@blp.response(201, NoteSchema)
@blp.alt_response(403, description="Without notes.write")
@blp.alt_response(404, description="No such account, or not yours to see")
def create_note(data):
    account = get_account_or_404(data["account_id"], current_user)
    try:
        return add_note(account, data["body"], user=current_user)
    except ValueError as error:
        abort(422, "The note is invalid.", fields={"body": [str(error)]})
