"""Contacts, and the relationships between contacts and accounts (a role per link)."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from erp.auth import in_scope, permission_required
from erp.db import db
from erp.forms import PostForm, form_view, page_size, post_action
from erp.i18n import module_i18n
from erp.paging import gathered, keyset_page, sort_keys
from erp.params import id_arg, parse_int

from ..forms.contacts import ContactForm, RelationshipForm
from ..models import Account, AccountContact, Contact
from ..models.search_index import matching_ids
from ..models.search_text import query_terms
from ..permissions import READ, WRITE
from ..services import contacts as service
from ..services.scope import (
    contact_scope,
    get_account_or_404,
    get_contact_or_404,
    pick_accounts,
    small_scope,
)
from . import bp
from .merge_notice import merged_away

_ = module_i18n(__name__).gettext

# By name, then id: read in order from the (name, id) index (crm 0008, issue 15).
CONTACT_SORT = sort_keys(Contact.name, Contact.id)


@bp.route("/contacts")
@permission_required(READ)
def contacts():
    query = request.args.get("q", "").strip()
    statement = select(Contact).where(contact_scope(current_user), Contact.archived.is_(False))
    if query:
        terms = query_terms(query)
        if not terms:
            statement = statement.where(False)
        else:
            ids = matching_ids(Contact.__table__, terms, db.engine.dialect.name)
            statement = statement.where(Contact.id.in_(ids))
    # A small scope's contacts are gathered from its accounts and sorted (see contact_scope).
    keys = gathered(CONTACT_SORT) if small_scope(current_user) else CONTACT_SORT
    pagination = keyset_page(statement, keys, per_page=page_size())
    return render_template("crm/contacts/list.html", pagination=pagination, query=query)


def _account_from_args() -> Account | None:
    account_id = id_arg("account_id", request.values)
    return get_account_or_404(account_id, current_user) if account_id is not None else None


@bp.route("/contacts/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_contact():
    account = _account_from_args()
    role = request.form.get("role", "")
    return form_view(
        ContactForm(),
        save=lambda form: service.create_contact(
            form.service_data(), user=current_user, account=account, role=role,
            confirm_duplicates=bool(form.confirm_duplicates.data)),
        template="crm/contacts/form.html",
        success=(lambda contact: _("Contact %(name)s created.", name=contact.name),
                 lambda contact: url_for("crm.account", account_id=account.id, tab="contacts")
                 if account is not None else url_for("crm.contact", contact_id=contact.id)),
        error_as="problem", contact=None, account=account, role=role)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def edit_contact(contact_id: int):
    contact = get_contact_or_404(contact_id, current_user)
    form = ContactForm(obj=contact)
    if request.method == "GET":
        form.phone.data, form.mobile.data = contact.phone_formatted, contact.mobile_formatted
        form.version.data = contact.version
    return form_view(
        form,
        save=lambda form: service.update_contact(
            contact, form.service_data(), expected_version=parse_int(form.version.data),
            user=current_user, confirm_duplicates=bool(form.confirm_duplicates.data)),
        template="crm/contacts/form.html",
        success=(lambda _saved: _("Contact %(name)s saved.", name=contact.name),
                 url_for("crm.contact", contact_id=contact.id)),
        conflict=_("Someone else changed this contact while you were editing it. Open it "
                   "again, then redo your changes."),
        error_as="problem", contact=contact, account=None, role=None)


@bp.route("/contacts/<int:contact_id>")
@permission_required(READ)
def contact(contact_id: int):
    contact = get_contact_or_404(contact_id, current_user)
    if contact.merged_into_id is not None:  # merged away (issue 18): the survivor's page
        return merged_away(contact, url_for("crm.contact", contact_id=contact.merged_into_id))
    rows = db.session.execute(
        select(AccountContact, Account).join(Account)
        .where(AccountContact.contact_id == contact.id)
        .order_by(Account.legal_name)).all()
    # Accounts outside the user's scope are counted, not shown.
    links = [(link, account) for link, account in rows
             if in_scope(account.owner_id, current_user)]
    account_query = request.args.get("account_q", "").strip()
    linked = {account.id for _link, account in rows}
    candidates = [a for a in pick_accounts(account_query, current_user, 10)
                  if a.id not in linked]
    return render_template("crm/contacts/detail.html", contact=contact, links=links,
                           hidden_links=len(rows) - len(links), action_form=PostForm(),
                           relationship_form=RelationshipForm(), account_query=account_query,
                           candidates=candidates)


@bp.route("/accounts/<int:account_id>/contacts", methods=["POST"])
@permission_required(WRITE)
def link_contact(account_id: int):
    """Add a relationship (or change its role): from the account page or the contact page."""
    account = get_account_or_404(account_id, current_user)
    form = RelationshipForm()
    back = request.form.get("back")
    if not form.validate() or not form.contact_id.data:
        abort(400)
    contact = get_contact_or_404(form.contact_id.data, current_user)
    return post_action(
        lambda: service.link_contact(account, contact, form.role.data),
        lambda _link: _("%(contact)s linked to %(account)s.", contact=contact.name,
                        account=account.display_name),
        url_for("crm.contact", contact_id=contact.id) if back == "contact"
        else url_for("crm.account", account_id=account.id, tab="contacts"))


@bp.route("/accounts/<int:account_id>/contacts/<int:contact_id>/remove", methods=["POST"])
@permission_required(WRITE)
def unlink_contact(account_id: int, contact_id: int):
    account = get_account_or_404(account_id, current_user)
    contact = get_contact_or_404(contact_id, current_user)
    return post_action(
        lambda: service.unlink_contact(account, contact),
        # Nothing to say when there was no link to remove.
        lambda removed: removed and _("%(contact)s is no longer linked to %(account)s.",
                                      contact=contact.name, account=account.display_name),
        url_for("crm.contact", contact_id=contact.id) if request.form.get("back") == "contact"
        else url_for("crm.account", account_id=account.id, tab="contacts"))
