"""CRM's contributions to the account page: the Timeline, Opportunities, Contacts and
History tabs, the open-pipeline figures, and its Create entries — through the public
registry API."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from erp.audit import render_history, requested_page
from erp.db import db
from erp.forms import PostForm
from erp.registry import TimelineSource
from erp.timeline import Cursor, fetch_page

from .account_page import timeline_kinds
from .forms import RelationshipForm
from .kinds import AccountStat, AccountTab, CreateAction
from .models import STATUS_OPEN, AccountContact, Action, Contact, Opportunity
from .permissions import READ, WRITE
from .services.opportunities import opportunity_scope
from .services.search import search_contacts

TIMELINE_PAGE = 25
OPPORTUNITIES_SHOWN = 50


# --- Timeline ------------------------------------------------------------------------------


def render_timeline(account, args) -> str:
    sources = current_app.extensions["erp"].items(TimelineSource, current_user)
    kinds = [k for k in args.getlist("kind") if k]
    try:
        cursor = Cursor.decode(args.get("before"))
    except ValueError:
        cursor = None
    page = fetch_page(sources, account.id, cursor=cursor, limit=TIMELINE_PAGE, kinds=kinds)
    older = None
    if page.next_cursor is not None:
        query = {"tab": "timeline", "before": page.next_cursor.encode(), "kind": kinds}
        older = {"page": url_for("crm.account", account_id=account.id, **query),
                 "fragment": url_for("crm.account_tab", account_id=account.id, key="timeline",
                                     append=1, **query)}
    labels = {source.key: source for source in sources}
    template = "crm/tabs/timeline_items.html" if args.get("append") else "crm/tabs/timeline.html"
    return render_template(template, account=account, page=page, older=older, kinds=kinds,
                           all_kinds=timeline_kinds(current_user),
                           failed=[labels[key] for key in page.failed])


# --- Opportunities -------------------------------------------------------------------------


def _account_opportunities(account):
    return select(Opportunity).where(Opportunity.account_id == account.id,
                                     Opportunity.archived.is_(False),
                                     opportunity_scope(current_user))


def count_opportunities(account) -> int:
    statement = _account_opportunities(account).with_only_columns(func.count(Opportunity.id))
    return db.session.scalar(statement)


def render_opportunities(account, args) -> str:
    rows = db.session.scalars(_account_opportunities(account).order_by(
        (Opportunity.status == STATUS_OPEN).desc(), Opportunity.id.desc())
        .limit(OPPORTUNITIES_SHOWN)).all()
    return render_template("crm/tabs/opportunities.html", account=account, rows=rows,
                           total=count_opportunities(account), shown=OPPORTUNITIES_SHOWN)


# --- Contacts ------------------------------------------------------------------------------


def count_contacts(account) -> int:
    return db.session.scalar(select(func.count()).select_from(AccountContact)
                             .where(AccountContact.account_id == account.id))


def render_contacts(account, args) -> str:
    links = db.session.execute(
        select(AccountContact, Contact).join(Contact)
        .where(AccountContact.account_id == account.id).order_by(Contact.name)).all()
    contact_query = args.get("contact_q", "").strip()
    linked = {contact.id for _link, contact in links}
    candidates = [c for c in search_contacts(contact_query, current_user, 10)
                  if c.id not in linked] if contact_query else []
    return render_template("crm/tabs/contacts.html", account=account, links=links,
                           relationship_form=RelationshipForm(), action_form=PostForm(),
                           contact_query=contact_query, candidates=candidates)


# --- History (the host's audit trail) ------------------------------------------------------


def render_account_history(account, args) -> str:
    """Who changed which field of the account, when; its pages stay on this tab."""
    return render_history(account, page=requested_page(args), page_url=lambda page: url_for(
        "crm.account", account_id=account.id, tab="history", history_page=page,
        _anchor="history"))


# --- header figures ------------------------------------------------------------------------


def open_pipeline_value(account):
    return db.session.scalar(
        select(func.coalesce(func.sum(Opportunity.estimated_value), 0))
        .where(Opportunity.account_id == account.id, Opportunity.status == STATUS_OPEN,
               Opportunity.archived.is_(False), opportunity_scope(current_user)))


def last_contact(account):
    """Newest first on the (account, at) index: stops at the first done action."""
    return db.session.scalar(
        select(Action.at).where(Action.account_id == account.id, Action.done.is_(True),
                                Action.archived.is_(False))
        .order_by(Action.at.desc()).limit(1))


TABS = (
    AccountTab("timeline", _l("Timeline"), render_timeline, None, order=10, permission=READ),
    AccountTab("opportunities", _l("Opportunities"), render_opportunities, count_opportunities,
               order=20, permission=READ),
    AccountTab("contacts", _l("Contacts"), render_contacts, count_contacts, order=90,
               permission=READ),
    AccountTab("history", _l("History"), render_account_history, None, order=200,
               permission=READ),
)
STATS = (
    AccountStat("crm.open_value", _l("Open opportunities"), open_pipeline_value, kind="money",
                order=10, permission=READ),
    AccountStat("crm.last_contact", _l("Last contact"), last_contact, kind="date", order=15,
                permission=READ),
)
CREATE_ACTIONS = (
    CreateAction("crm.new_opportunity", _l("Opportunity"), permission=WRITE, order=10),
    CreateAction("crm.new_action", _l("Action"), permission=WRITE, order=20),
    CreateAction("crm.email_account", _l("E-mail"), permission=WRITE, order=30),
    CreateAction("crm.new_contact", _l("Contact"), permission=WRITE, order=40),
)
