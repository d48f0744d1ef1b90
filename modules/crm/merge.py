"""CRM's merge handlers (issue 18): what follows the survivor when two accounts, or two
contacts, are merged (the merge itself: services/merge.py).

Accounts: opportunities (their history, and the drafts editing them, go with them),
actions, the account's own timeline events, the unfinished new-opportunity forms (drafts)
naming the account, contact links (each role kept; a contact linked to both keeps one
link, the survivor's role, else the merged one's) and tags (the survivor gets the merged
account's too). Contacts: their links to accounts (the same folding), actions and
opportunities naming them. Refused: two accounts with different tax ids (two companies,
or a company and a branch: finding duplicates shows branches without proposing them).
CNPJ look-ups are kept by CNPJ, not by account: nothing to move.
"""

from __future__ import annotations

from sqlalchemy import Text, and_, cast, delete, func, insert, select, update

from erp.audit import current_actor
from erp.db import db
from erp.i18n import module_i18n
from erp.merging import moving
from erp.registry import MERGE_ACCOUNT, MERGE_CONTACT, MergeHandler

from .models import (
    AccountContact,
    Action,
    Opportunity,
    OpportunityChange,
    OpportunityDraft,
    Tag,
    account_tags,
)
from .models.events import AccountEvent

_ = module_i18n(__name__).gettext
ngettext = module_i18n(__name__).ngettext

EVENT_MERGED = "merged"

_account_moves = moving(
    "crm.account.records", MERGE_ACCOUNT,
    (Opportunity.account_id, lambda n: ngettext("%(num)d opportunity", "%(num)d opportunities",
                                                n)),
    (Action.account_id, lambda n: ngettext("%(num)d action", "%(num)d actions", n)),
    (OpportunityChange.account_id, lambda n: ngettext(
        "%(num)d opportunity history entry", "%(num)d opportunity history entries", n)),
    (AccountEvent.account_id, lambda n: ngettext("%(num)d account event",
                                                 "%(num)d account events", n)),
)
_contact_moves = moving(
    "crm.contact.records", MERGE_CONTACT,
    (Opportunity.contact_id, lambda n: ngettext("%(num)d opportunity", "%(num)d opportunities",
                                                n)),
    (Action.contact_id, lambda n: ngettext("%(num)d action", "%(num)d actions", n)),
)


# --- links between accounts and contacts --------------------------------------------------

_LINK = AccountContact.__table__


def _links(side: str, record_id: int) -> list[dict]:
    column = _LINK.c.account_id if side == "account" else _LINK.c.contact_id
    return [dict(row) for row in db.session.execute(
        select(_LINK).where(column == record_id).order_by(_LINK.c.account_id,
                                                          _LINK.c.contact_id)).mappings()]


def _encode_link(link: dict) -> dict:
    return {**link, "created_at": link["created_at"].isoformat() if link["created_at"] else None}


def _other(side: str) -> str:
    return "contact_id" if side == "account" else "account_id"


def _preview_links(side: str, survivor, merged) -> list[str]:
    count = len(_links(side, merged.id))
    if not count:
        return []
    return [ngettext("%(num)d contact link", "%(num)d contact links", count) if side ==
            "account" else ngettext("%(num)d account link", "%(num)d account links", count)]


def _move_links(side: str, survivor, merged) -> dict:
    """Each link of the merged record moves to the survivor; where the survivor already
    has that link, the merged one is folded into it (deleted; its role taken if the
    survivor's is empty). Logged: moved (the other side's ids), folded (whole rows) and
    the survivor's roles filled (their old value)."""
    other = _other(side)
    key = f"{side}_id"
    mine = {link[other]: link for link in _links(side, survivor.id)}
    moved, folded, roles = [], [], {}
    for link in _links(side, merged.id):
        there = mine.get(link[other])
        condition = and_(_LINK.c[key] == merged.id, _LINK.c[other] == link[other])
        if there is None:
            db.session.execute(update(_LINK).where(condition).values({key: survivor.id}))
            moved.append(link[other])
            continue
        db.session.execute(delete(_LINK).where(condition))
        folded.append(_encode_link(link))
        if not there["role"] and link["role"]:
            roles[str(link[other])] = there["role"]
            db.session.execute(update(_LINK).where(
                _LINK.c[key] == survivor.id, _LINK.c[other] == link[other])
                .values(role=link["role"]))
    return {"moved": moved, "folded": folded, "roles": roles}


def _undo_links(side: str, survivor, merged, log: dict) -> None:
    from datetime import datetime

    other = _other(side)
    key = f"{side}_id"
    if log.get("moved"):
        db.session.execute(update(_LINK).where(_LINK.c[key] == survivor.id,
                                               _LINK.c[other].in_(log["moved"]))
                           .values({key: merged.id}))
    for other_id, role in log.get("roles", {}).items():
        db.session.execute(update(_LINK).where(_LINK.c[key] == survivor.id,
                                               _LINK.c[other] == int(other_id))
                           .values(role=role))
    for link in log.get("folded", []):
        created = link["created_at"]
        db.session.execute(insert(_LINK).values(
            {**link, "created_at": datetime.fromisoformat(created) if created else None}))


# --- tags ------------------------------------------------------------------------------------


def _new_tags(survivor, merged) -> list[int]:
    theirs = select(account_tags.c.tag_id).where(account_tags.c.account_id == survivor.id)
    return list(db.session.scalars(
        select(account_tags.c.tag_id).where(account_tags.c.account_id == merged.id,
                                            account_tags.c.tag_id.not_in(theirs))
        .order_by(account_tags.c.tag_id)))


def _move_tags(survivor, merged) -> dict:
    """The merged account's tags move to the survivor (those it lacks are added; through
    the ORM, so both accounts' audit trails show them). Logged: the ids added to the
    survivor, and those the merged account had."""
    added = _new_tags(survivor, merged)
    had = [tag.id for tag in merged.tags]
    if added:
        for tag in db.session.scalars(select(Tag).where(Tag.id.in_(added))):
            survivor.tags.append(tag)
    merged.tags = []
    db.session.flush()
    return {"added": added, "removed": had}


def _undo_tags(survivor, merged, log) -> None:
    added = set(log.get("added", []))
    if added:
        survivor.tags = [tag for tag in survivor.tags if tag.id not in added]
    if log.get("removed"):
        merged.tags = list(db.session.scalars(select(Tag).where(Tag.id.in_(log["removed"]))))
    db.session.flush()


# --- drafts ----------------------------------------------------------------------------------

_DRAFT = OpportunityDraft.__table__


def _drafts_naming(field: str, record_id: int) -> list[tuple[int, dict]]:
    """(id, payload) of the unfinished opportunity forms whose ``field`` (as typed: the form's
    account_id or contact_id) names ``record_id``; the JSON text filters first."""
    rows = db.session.execute(select(_DRAFT.c.id, _DRAFT.c.payload).where(
        cast(_DRAFT.c.payload, Text).contains(str(record_id))).order_by(_DRAFT.c.id))
    return [(row.id, row.payload) for row in rows
            if isinstance(row.payload, dict) and str(row.payload.get(field)) == str(record_id)]


def _set_draft_field(draft_id: int, payload: dict, field: str, value) -> None:
    """The payload with ``field`` changed, its last change kept (no edit of the user's)."""
    db.session.execute(update(_DRAFT).where(_DRAFT.c.id == draft_id).values(
        payload={**payload, field: value}, updated_at=_DRAFT.c.updated_at))


def _move_drafts(field: str, survivor, merged) -> list[int]:
    moved = []
    for draft_id, payload in _drafts_naming(field, merged.id):
        typed = payload[field]
        _set_draft_field(draft_id, payload, field,
                         str(survivor.id) if isinstance(typed, str) else survivor.id)
        moved.append(draft_id)
    return moved


def _undo_drafts(field: str, survivor, merged, ids: list[int]) -> None:
    for draft_id, payload in _drafts_naming(field, survivor.id):
        if draft_id in ids:
            typed = payload[field]
            _set_draft_field(draft_id, payload, field,
                             str(merged.id) if isinstance(typed, str) else merged.id)


# --- the handlers --------------------------------------------------------------------------


def _account_preview(survivor, merged) -> list[str]:
    lines = _account_moves.preview(survivor, merged) + _preview_links("account", survivor,
                                                                       merged)
    if tags := _new_tags(survivor, merged):
        lines.append(ngettext("%(num)d tag", "%(num)d tags", len(tags)))
    if drafts := _drafts_naming("account_id", merged.id):
        lines.append(ngettext("%(num)d opportunity draft", "%(num)d opportunity drafts",
                              len(drafts)))
    return lines


def _account_conflicts(survivor, merged) -> list[str]:
    if survivor.tax_id and merged.tax_id and survivor.tax_id != merged.tax_id:
        return [_("The accounts have different tax ids (%(first)s, %(second)s): they are "
                  "different companies, or branches of one, and are not merged.",
                  first=survivor.tax_id_formatted, second=merged.tax_id_formatted)]
    return []


def _account_move(survivor, merged) -> dict:
    log = {"records": _account_moves.move(survivor, merged),
           "links": _move_links("account", survivor, merged),
           "tags": _move_tags(survivor, merged),
           "drafts": _move_drafts("account_id", survivor, merged)}
    user_id, _name = current_actor()
    event = AccountEvent(account_id=survivor.id, kind=EVENT_MERGED, user_id=user_id)
    db.session.add(event)
    db.session.flush()
    log["event"] = event.id
    return log


def _account_undo(survivor, merged, log: dict) -> None:
    if log.get("event"):
        db.session.execute(delete(AccountEvent).where(AccountEvent.id == log["event"]))
    _undo_drafts("account_id", survivor, merged, log.get("drafts", []))
    _undo_tags(survivor, merged, log.get("tags", {}))
    _undo_links("account", survivor, merged, log.get("links", {}))
    _account_moves.undo(survivor, merged, log.get("records", {}))


def _contact_preview(survivor, merged) -> list[str]:
    return _contact_moves.preview(survivor, merged) + _preview_links("contact", survivor,
                                                                     merged)


def _contact_move(survivor, merged) -> dict:
    return {"records": _contact_moves.move(survivor, merged),
            "links": _move_links("contact", survivor, merged),
            "drafts": _move_drafts("contact_id", survivor, merged)}


def _contact_undo(survivor, merged, log: dict) -> None:
    _undo_drafts("contact_id", survivor, merged, log.get("drafts", []))
    _undo_links("contact", survivor, merged, log.get("links", {}))
    _contact_moves.undo(survivor, merged, log.get("records", {}))


def merged_events(account_id: int) -> int:
    """How many merges the account's timeline shows (for tests and the page)."""
    return db.session.scalar(select(func.count()).select_from(AccountEvent).where(
        AccountEvent.account_id == account_id, AccountEvent.kind == EVENT_MERGED))


HANDLERS = (
    MergeHandler("crm.account", MERGE_ACCOUNT, preview=_account_preview, move=_account_move,
                 undo=_account_undo, conflicts=_account_conflicts, order=10),
    MergeHandler("crm.contact", MERGE_CONTACT, preview=_contact_preview, move=_contact_move,
                 undo=_contact_undo, order=10),
)
