"""/contacts: list, read, create (optionally linked to an account), update, archive."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from erp.api import Blueprint
from erp.api.conventions import expected_version
from erp.api.etags import sends_etag
from erp.api.paging import keyset_page
from erp.auth import in_scope
from erp.db import db

from ..models import Account, AccountContact, Contact
from ..permissions import READ, WRITE
from ..services import contacts as service
from ..services.scope import account_scope, contact_scope, get_contact_or_404
from ..services.search import contacts_matching
from . import schemas as s
from .common import conflict_response, not_found, precondition_response, reads_record, requires
from .errors import invalid, service_errors

blp = Blueprint("crm-contacts", __name__, description=(
    "Contacts: the people at the accounts. You see a contact if you may see its owner's "
    "records or one of the accounts it is linked to."))


@blp.route("/contacts", methods=["GET"])
@requires(blp, READ)
@blp.arguments(s.ContactListArgsSchema, location="query")
@blp.response(200, s.ContactPageSchema)
def list_contacts(args):
    """List contacts

    The contacts you may see, in id order, paged like every list (`after` =
    the previous page's `next_cursor`).
    """
    statement = select(Contact).where(contact_scope(current_user),
                                      Contact.archived.is_(args["archived"]))
    if args.get("q", "").strip():
        statement = statement.where(contacts_matching(args["q"].strip()))
    if "account_id" in args:  # an account the user sees: links to others stay unsaid
        statement = statement.where(Contact.id.in_(
            select(AccountContact.contact_id).join(Account)
            .where(AccountContact.account_id == args["account_id"], account_scope(current_user))))
    if "owner_id" in args:
        statement = statement.where(Contact.owner_id == args["owner_id"])
    return keyset_page(statement, Contact.id, args)


_DUPLICATE = ("`duplicate`: contacts with the same e-mail or phone exist (listed; send "
              "the request again with `confirm_duplicates` true to save anyway)")


@blp.route("/contacts", methods=["POST"])
@requires(blp, WRITE)
@blp.arguments(s.ContactCreateSchema)
@blp.response(201, s.ContactSchema)
@conflict_response(blp, _DUPLICATE)
@sends_etag
def create_contact(data):
    """Create a contact

    You become its owner. With `account_id` (an account you can see), it is also linked
    to that account, in `role`. 409 `duplicate` when contacts with the same e-mail or
    phone exist, as the web form warns.
    """
    confirm = data.pop("confirm_duplicates")
    account_id, role = data.pop("account_id", None), data.pop("role", None)
    account = db.session.get(Account, account_id) if account_id else None
    if account_id and (account is None or not in_scope(account.owner_id, current_user)):
        invalid("account_id", "Choose an account you can see.")
    if role and account is None:
        invalid("role", "A role needs the account_id it is at.")
    with service_errors():
        return service.create_contact(data, user=current_user, account=account, role=role,
                                      confirm_duplicates=confirm)


@blp.route("/contacts/<int:contact_id>", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.ContactSchema)
@reads_record(blp)
def get_contact(contact_id: int):
    """Read a contact

    Its `ETag` is its `version`: send it back as `If-Match` when you update it.
    """
    return get_contact_or_404(contact_id, current_user)


@blp.route("/contacts/<int:contact_id>", methods=["PATCH"])
@requires(blp, WRITE)
@blp.arguments(s.ContactUpdateSchema)
@blp.response(200, s.ContactSchema)
@not_found(blp)
@conflict_response(blp, f"{_DUPLICATE}, for a new e-mail or phone; `stale_version`: the "
                       "contact changed since `version`.")
@precondition_response(blp)
@sends_etag
def update_contact(data, contact_id: int):
    """Update a contact

    Only the fields sent change; send the `ETag` you read as `If-Match` (412
    `stale_version`), or the `version` in the body (409 `stale_version`), to be warned
    of someone else's changes.
    """
    contact = get_contact_or_404(contact_id, current_user)
    expected, confirm = expected_version(contact, data), data.pop("confirm_duplicates")
    with service_errors():
        return service.update_contact(contact, data, expected_version=expected,
                                      user=current_user, confirm_duplicates=confirm)


def _set_archived(contact_id: int, archived: bool) -> Contact:
    contact = get_contact_or_404(contact_id, current_user)
    service.set_archived(contact, archived)
    return contact


@blp.route("/contacts/<int:contact_id>/archive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.ContactSchema)
@not_found(blp)
def archive_contact(contact_id: int):
    """Archive a contact

    Hides it from lists and searches (`archived=true` lists them); its links to accounts
    stay. `/unarchive` brings it back. Idempotent.
    """
    return _set_archived(contact_id, True)


@blp.route("/contacts/<int:contact_id>/unarchive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.ContactSchema)
@not_found(blp)
def unarchive_contact(contact_id: int):
    """Restore an archived contact"""
    return _set_archived(contact_id, False)
