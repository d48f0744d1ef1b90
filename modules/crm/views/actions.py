"""Actions: record or plan one, mark it done, the user's agenda, e-mail from the CRM."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import lazyload

from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.clock import local_today
from erp.db import db, utcnow
from erp.forms import form_view, page_size, post_action
from erp.i18n import module_i18n
from erp.mail import delivery_notice, mail_configured
from erp.paging import keyset_page, sort_keys
from erp.params import id_arg

from ..forms.actions import ActionEntryForm, EmailForm
from ..models import STATUS_OPEN, Account, Action, Opportunity
from ..permissions import READ, WRITE
from ..services import actions as service
from ..services.contacts import account_contact_choices
from ..services.emails import account_addresses, send_email
from ..services.opportunities import get_opportunity_or_404, opportunity_scope
from ..services.scope import get_account_or_404, pick_accounts
from . import bp
from .helpers import assignable_users

_ = module_i18n(__name__).gettext

MAX_OPPORTUNITY_CHOICES = 200


def _back_to(account_id: int, opportunity_id: int | None) -> str:
    """Where a saved form goes: the page that sent the user here (``next``, e.g. the
    account page's Create menu), else the opportunity, else the account."""
    back = safe_next_url(request.values.get("next"))
    if back:
        return back
    if opportunity_id:
        return url_for("crm.opportunity", opportunity_id=opportunity_id)
    return url_for("crm.account", account_id=account_id)


def _target() -> tuple[Account | None, Opportunity | None]:
    """The account (and opportunity) the action is for: from the query on GET, the form on
    POST. Either one outside the user's scope is a 404."""
    values = request.form if request.method == "POST" else request.args
    opportunity_id, account_id = id_arg("opportunity_id", values), id_arg("account_id", values)
    opportunity = get_opportunity_or_404(opportunity_id, current_user) if opportunity_id else None
    if account_id:
        return get_account_or_404(account_id, current_user), opportunity
    return (opportunity.account if opportunity else None), opportunity


def _action_form(account: Account, opportunity: Opportunity | None) -> ActionEntryForm:
    form = ActionEntryForm()
    # The account's open opportunities, and the chosen one even if it is closed.
    choosable = and_(Opportunity.status == STATUS_OPEN, Opportunity.archived.is_(False))
    if opportunity is not None:
        choosable = or_(choosable, Opportunity.id == opportunity.id)
    opportunities = db.session.scalars(
        select(Opportunity)
        .where(Opportunity.account_id == account.id, opportunity_scope(current_user), choosable)
        .options(lazyload(Opportunity.tags))
        .order_by(Opportunity.title, Opportunity.id).limit(MAX_OPPORTUNITY_CHOICES)).all()
    # Linked and not archived (a new action names none other).
    contacts = account_contact_choices(account.id)
    form.set_choices(opportunities=opportunities, contacts=contacts, users=assignable_users())
    if request.method == "GET":
        form.account_id.data = str(account.id)
        form.opportunity_id.data = str(opportunity.id) if opportunity else ""
        form.kind.data = request.args.get("kind") or "call"
        form.at.data = service.local_input_value(utcnow())
        form.done.data = ""
        contact_id = opportunity.contact_id if opportunity else None
        form.contact_id.data = str(contact_id) if contact_id else ""
        form.user_id.data = str(current_user.id)
    return form


@bp.route("/actions/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_action():
    account, opportunity = _target()
    if account is None:
        # No account yet (e.g. from a "Create" menu): find it first. (A POST without one
        # is a form that cannot be saved: 422.)
        query = request.args.get("account_q", "").strip()
        return render_template("crm/actions/form.html", form=None, account=None,
                               opportunity=None, query=query,
                               found=pick_accounts(query, current_user)), (
            422 if request.method == "POST" else 200)
    return form_view(
        _action_form(account, opportunity),
        save=lambda form: service.create_action(form.service_data(), user=current_user),
        template="crm/actions/form.html",
        success=(lambda action: _("Action recorded.") if action.done else _(
                     "Action planned: it is in the agenda of %(name)s.", name=action.user.name),
                 lambda action: _back_to(action.account_id, action.opportunity_id)),
        account=account, opportunity=opportunity)


@bp.route("/actions/<int:action_id>/done", methods=["POST"])
@permission_required(WRITE)
def complete_action(action_id: int):
    action = service.get_action_or_404(action_id, current_user)
    back = safe_next_url(request.form.get("next"))
    return post_action(lambda: service.complete_action(action, user=current_user),
                       _("Action marked as done."),
                       back or _back_to(action.account_id, action.opportunity_id))


@bp.route("/agenda")
@permission_required(READ)
def agenda():
    data = service.agenda(current_user, local_today())
    return render_template("crm/actions/agenda.html", agenda=data)


@bp.route("/agenda/<any(overdue, today, upcoming):section>")
@permission_required(READ)
def agenda_section(section: str):
    """All of one agenda section's planned actions, paged (the agenda shows the first)."""
    statement = service.planned_select(current_user, section, local_today())
    pagination = keyset_page(statement, sort_keys(Action.at, Action.id), per_page=page_size())
    return render_template("crm/actions/agenda_section.html", section=section,
                           pagination=pagination)


@bp.route("/accounts/<int:account_id>/email", methods=["GET", "POST"])
@permission_required(WRITE)
def email_account(account_id: int):
    account = get_account_or_404(account_id, current_user)
    values = request.form if request.method == "POST" else request.args
    opportunity_id = id_arg("opportunity_id", values)
    opportunity = get_opportunity_or_404(opportunity_id, current_user) if opportunity_id else None
    if opportunity is not None and opportunity.account_id != account.id:
        abort(404)
    addresses = account_addresses(account)
    form = EmailForm()
    form.to.choices = addresses
    if request.method == "GET":
        form.opportunity_id.data = str(opportunity.id) if opportunity else ""
        if opportunity is not None:
            form.subject.data = opportunity.title
        preferred = opportunity.contact.email if opportunity and opportunity.contact else None
        if preferred and any(a.lower() == preferred.lower() for a, _label in addresses):
            form.to.data = [a for a, _label in addresses if a.lower() == preferred.lower()]
        elif len(addresses) == 1:
            form.to.data = [addresses[0][0]]
    return form_view(
        form,
        save=lambda form: send_email(account, user=current_user,
                                     opportunity=opportunity, **form.service_data()),
        template="crm/actions/email.html",
        success=(_("E-mail queued and logged as an action.") + " " + delivery_notice(),
                 _back_to(account.id, opportunity.id if opportunity else None),
                 "success" if mail_configured() else "warning"),
        account=account, opportunity=opportunity, addresses=addresses)
