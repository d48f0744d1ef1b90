"""/accounts: list, read, create, update, archive; and the account's contacts (links)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp.api import Blueprint
from erp.api.conventions import expected_version, referenced
from erp.api.etags import sends_etag
from erp.api.paging import keyset_page
from erp.db import db

from ..models import Account, AccountContact, Contact, account_tags
from ..permissions import READ, WRITE
from ..services import accounts as service
from ..services import contacts as contact_service
from ..services.external_refs import external_ref_in
from ..services.scope import account_scope, contact_scope, get_account_or_404, small_scope
from ..services.search import frequent_term, only_matching_accounts
from ..services.validation import normalize_tax_id
from . import schemas as s
from .common import conflict_response, not_found, precondition_response, reads_record, requires
from .errors import service_errors

blp = Blueprint("crm-accounts", __name__, description=(
    "Accounts: the companies (PJ) and people (PF) the business deals with; and the "
    "contacts who work with each, in a role."))

_DUPLICATE_OR_STALE = ("`duplicate`: similar accounts exist (listed; confirmable unless "
                       "the tax id is the same); `stale_version`: the account changed since "
                       "`version`.")


@blp.route("/accounts", methods=["GET"])
@requires(blp, READ)
@blp.arguments(s.AccountListArgsSchema, location="query")
@blp.response(200, s.AccountPageSchema)
def list_accounts(args):
    """List accounts

    The accounts you may see (yours, your team's or all, as on the web), in id order,
    `limit` at a time: pass a page's `next_cursor` as `after` for the next page
    (`null`: the last page). Filters combine.
    """
    statement = select(Account).where(account_scope(current_user),
                                      Account.archived.is_(args["archived"]))
    if query := args.get("q", "").strip():
        walk = not small_scope(current_user) and frequent_term(query)
        statement = only_matching_accounts(statement, query, walk=walk)
    if args.get("tax_id"):
        statement = statement.where(Account.tax_id == normalize_tax_id(args["tax_id"]))
    if reference := args.get("external_ref", "").strip():  # by its index (issue 19)
        statement = statement.where(external_ref_in(Account.__table__, {reference}))
    for arg, column in (("lifecycle", Account.lifecycle), ("owner_id", Account.owner_id),
                        ("category_id", Account.category_id)):
        if arg in args:
            statement = statement.where(column == args[arg])
    if "tag_id" in args:
        statement = statement.where(Account.id.in_(
            select(account_tags.c.account_id).where(account_tags.c.tag_id == args["tag_id"])))
    return keyset_page(statement, Account.id, args)


@blp.route("/accounts", methods=["POST"])
@requires(blp, WRITE)
@blp.arguments(s.AccountCreateSchema)
@blp.response(201, s.AccountSchema)
@conflict_response(blp, _DUPLICATE_OR_STALE)
@sends_etag
def create_account(data):
    """Create an account

    Validated as the web form is: a prospect needs a name; a customer its CNPJ/CPF (and
    a company its state registration, or ISENTO); the tax id, state registration, phone,
    e-mail and CEP are checked and stored normalized. 409 `duplicate` when similar
    accounts exist (same tax id, CNPJ root, e-mail or phone, or a similar name).
    """
    confirm = data.pop("confirm_duplicates")
    with service_errors():
        return service.create_account(data, user=current_user, confirm_duplicates=confirm,
                                      source="api")


@blp.route("/accounts/<int:account_id>", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.AccountSchema)
@reads_record(blp)
def get_account(account_id: int):
    """Read an account

    404 if it does not exist or is outside your scope. Its `ETag` is its `version`: send
    it back as `If-Match` when you update it.
    """
    return get_account_or_404(account_id, current_user)


@blp.route("/accounts/<int:account_id>", methods=["PATCH"])
@requires(blp, WRITE)
@blp.arguments(s.AccountUpdateSchema)
@blp.response(200, s.AccountSchema)
@not_found(blp)
@conflict_response(blp, _DUPLICATE_OR_STALE)
@precondition_response(blp)
@sends_etag
def update_account(data, account_id: int):
    """Update an account

    Only the fields sent change. Send the `ETag` you read as `If-Match` (412
    `stale_version`), or the `version` you read in the body (409 `stale_version`), to be
    told instead of overwriting someone else's changes.
    """
    account = get_account_or_404(account_id, current_user)
    expected, confirm = expected_version(account, data), data.pop("confirm_duplicates")
    with service_errors():
        return service.update_account(account, data, user=current_user,
                                      expected_version=expected, confirm_duplicates=confirm)


def _set_archived(account_id: int, archived: bool) -> Account:
    account = get_account_or_404(account_id, current_user)
    service.set_archived(account, archived)
    return account


@blp.route("/accounts/<int:account_id>/archive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.AccountSchema)
@not_found(blp)
def archive_account(account_id: int):
    """Archive an account

    Archiving (not deleting: accounts have history) hides the account from lists and
    searches (`archived=true` lists them); `/unarchive` brings it back. Idempotent.
    """
    return _set_archived(account_id, True)


@blp.route("/accounts/<int:account_id>/unarchive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.AccountSchema)
@not_found(blp)
def unarchive_account(account_id: int):
    """Restore an archived account

    Idempotent.
    """
    return _set_archived(account_id, False)


# --- the account's contacts ------------------------------------------------------------------


def _link_page(account: Account, args: dict) -> dict:
    """Keyset paging by contact id (a link has no id of its own)."""
    statement = (select(AccountContact).join(Contact)
                 .where(AccountContact.account_id == account.id,
                        Contact.archived.is_(args.get("archived", False)))
                 .options(selectinload(AccountContact.contact)))  # one query for the page
    return keyset_page(statement, AccountContact.contact_id, args)


def _link_or_404(account_id: int, contact_id: int) -> tuple[Account, AccountContact]:
    account = get_account_or_404(account_id, current_user)
    link = db.session.get(AccountContact, (account.id, contact_id))
    if link is None:
        abort(404)
    return account, link


@blp.route("/accounts/<int:account_id>/contacts", methods=["GET"])
@requires(blp, READ)
@blp.arguments(s.LinkListArgsSchema, location="query")
@blp.response(200, s.LinkPageSchema)
@not_found(blp)
def list_account_contacts(args, account_id: int):
    """List an account's contacts, with their roles

    Paged by contact id. Archived contacts only with `archived=true`.
    """
    return _link_page(get_account_or_404(account_id, current_user), args)


@blp.route("/accounts/<int:account_id>/contacts", methods=["POST"])
@requires(blp, WRITE)
@blp.arguments(s.LinkCreateSchema)
@blp.response(201, s.LinkSchema)
@blp.alt_response(200, schema=s.LinkSchema, success=True,
                  description="The contact was linked already: its role changed")
@not_found(blp)
def link_contact(data, account_id: int):
    """Link a contact to an account

    In a role (e.g. "Compras"). 201 when linked now; 200 if it was linked already (the
    role is replaced).
    """
    account = get_account_or_404(account_id, current_user)
    contact = referenced(
        select(Contact).where(Contact.id == data["contact_id"], contact_scope(current_user)),
        "contact_id", "Choose a contact you can see.")
    existed = db.session.get(AccountContact, (account.id, contact.id)) is not None
    with service_errors():
        link = contact_service.link_contact(account, contact, data.get("role"))
    return link, 200 if existed else 201


@blp.route("/accounts/<int:account_id>/contacts/<int:contact_id>", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.LinkSchema)
@not_found(blp)
def get_account_contact(account_id: int, contact_id: int):
    """Read a link: the contact and its role at the account

    404 if the contact is not linked to the account.
    """
    return _link_or_404(account_id, contact_id)[1]


@blp.route("/accounts/<int:account_id>/contacts/<int:contact_id>", methods=["PATCH"])
@requires(blp, WRITE)
@blp.arguments(s.LinkUpdateSchema)
@blp.response(200, s.LinkSchema)
@not_found(blp)
def update_account_contact(data, account_id: int, contact_id: int):
    """Change a contact's role at an account

    `null` clears it.
    """
    account, link = _link_or_404(account_id, contact_id)
    with service_errors():
        return contact_service.link_contact(account, link.contact, data["role"])


@blp.route("/accounts/<int:account_id>/contacts/<int:contact_id>", methods=["DELETE"])
@requires(blp, WRITE)
@blp.response(204)
@not_found(blp)
def unlink_contact(account_id: int, contact_id: int):
    """Unlink a contact from an account

    The contact itself stays.
    """
    account, link = _link_or_404(account_id, contact_id)
    contact_service.unlink_contact(account, link.contact)
