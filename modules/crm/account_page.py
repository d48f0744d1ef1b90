"""CRM's contributions to its own account page, as any other module's: the Timeline,
Opportunities, Contacts and History tabs, the open-pipeline figures, and its Create
entries. Its timeline sources (actions, the pipeline's history, the account's events)
are in timeline_sources.py.

The page builder, which knows none of them by name, is views/account_page.py.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_login import current_user
from sqlalchemy import and_, bindparam, false, func, or_, select, true

from erp.audit import render_history, requested_page
from erp.db import db
from erp.forms import PostForm
from erp.i18n import module_i18n
from erp.params import id_arg
from erp.registry import TimelineSource
from erp.timeline import Cursor, fetch_page

from .forms.contacts import RelationshipForm
from .kinds import AccountStat, AccountTab, CreateAction
from .models import (
    STATUS_OPEN,
    AccountContact,
    Action,
    Contact,
    Opportunity,
)
from .permissions import READ, WRITE
from .services.contacts import active_link_clauses
from .services.opportunities import opportunity_scope
from .services.search import search_contacts
from .views.account_page import timeline_kind_groups

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

# The timeline's page: the newest 10 events with the page, 10 more per "Load older". An
# account with a long history (a whale) renders no more than an ordinary one's handful
# (issue 15: 25 events made the whale's page 1.3-1.4 times an ordinary one's).
TIMELINE_PAGE = 10
OPPORTUNITIES_SHOWN = 50
CONTACTS_SHOWN = 50  # a page of the Contacts tab


# --- Timeline tab --------------------------------------------------------------------------


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
                           kind_groups=timeline_kind_groups(current_user),
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


def count_contacts(account, *, archived: bool = False) -> int:
    """The account's contacts, not archived (the tab's count); ``archived``: those archived."""
    clauses = ([AccountContact.account_id == account.id, Contact.archived.is_(True)]
               if archived else active_link_clauses(account.id))
    return db.session.scalar(select(func.count()).select_from(AccountContact).join(Contact)
                             .where(*clauses))


def _contacts_after(args):
    """The contacts tab's keyset: the contacts after ?contacts_after= (a contact id) in
    (name, id) order, or no condition on the first page (or for an unknown id)."""
    after = id_arg("contacts_after", args)
    cursor = db.session.get(Contact, after) if after is not None else None
    if cursor is None:
        return None
    return or_(Contact.name > cursor.name, and_(Contact.name == cursor.name,
                                                Contact.id > cursor.id))


def render_contacts(account, args) -> str:
    """One page of the account's contacts by name (CONTACTS_SHOWN, "More" for the next by
    keyset): a whale's hundreds are not rendered at once (issue 15). Archived contacts are
    left out unless ``?archived_contacts=1`` (the tab's toggle) asks for them (issue 19)."""
    show_archived = args.get("archived_contacts") == "1"
    shown = ([AccountContact.account_id == account.id] if show_archived
             else active_link_clauses(account.id))
    statement = (select(AccountContact, Contact).join(Contact).where(*shown)
                 .order_by(Contact.name, Contact.id).limit(CONTACTS_SHOWN + 1))
    if (after := _contacts_after(args)) is not None:
        statement = statement.where(after)
    links = db.session.execute(statement).all()
    more = None
    if len(links) > CONTACTS_SHOWN:
        links = links[:CONTACTS_SHOWN]
        more = url_for("crm.account", account_id=account.id, tab="contacts",
                       contacts_after=links[-1][1].id, _anchor="contacts",
                       **({"archived_contacts": "1"} if show_archived else {}))
    contact_query = args.get("contact_q", "").strip()
    candidates = search_contacts(contact_query, current_user, 10) if contact_query else []
    if candidates:  # those already linked to the account are not offered again
        linked = set(db.session.scalars(select(AccountContact.contact_id).where(
            AccountContact.account_id == account.id,
            AccountContact.contact_id.in_([c.id for c in candidates]))))
        candidates = [c for c in candidates if c.id not in linked]
    first = (url_for("crm.account", account_id=account.id, tab="contacts", _anchor="contacts",
                     **({"archived_contacts": "1"} if show_archived else {}))
             if "contacts_after" in args else None)
    archived_count = count_contacts(account, archived=True)
    toggle = None
    if archived_count:
        flip = {} if show_archived else {"archived_contacts": "1"}
        toggle = url_for("crm.account", account_id=account.id, tab="contacts",
                         _anchor="contacts", **flip)
    return render_template("crm/tabs/contacts.html", account=account, links=links,
                           total=count_contacts(account), more=more, first=first,
                           show_archived=show_archived, archived_count=archived_count,
                           archived_toggle=toggle,
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


def last_contact_select(account_id: int):
    """The newest done, kept action's time: one seek on the (account_id, done, archived, at)
    index, newest first — not a walk past every planned action to come (issue 15)."""
    # "= true", not "IS TRUE": PostgreSQL seeks an index on equality only (both not null).
    return (select(Action.at).where(Action.account_id == account_id, Action.done == true(),
                                    Action.archived == false())
            .order_by(Action.at.desc()).limit(1))


LAST_CONTACT = last_contact_select(bindparam("account_id"))  # built once (issue 15)


def last_contact(account):
    return db.session.scalar(LAST_CONTACT, {"account_id": account.id})


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
