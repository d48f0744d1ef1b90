"""An opportunity's history: the change rows every command writes, and the watchers told
of each change by e-mail (through the outbox) while the opportunity is open. The flush
that writes them also recomputes the funnel report's summary of them
(funnel_summary.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_request_context, url_for

from erp.auth.models import User
from erp.db import db, utcnow
from erp.i18n import module_i18n
from erp.mail import queue_mail

from ..models import Opportunity, OpportunityChange
from . import funnel_summary  # noqa: F401 - keeps the funnel's summary of these rows

_l = module_i18n(__name__).lazy_gettext


@dataclass
class Change:
    field: str
    old: str | None
    new: str | None
    # A "created" or "stage" change: the id of the stage entered (``new`` is its name as it
    # is now, kept for display); the funnel's summary counts stays by it (crm 0018).
    stage_id: int | None = None


def user_name(user_id: int | None) -> str | None:
    return db.session.get(User, user_id).name if user_id else None


def record_changes(opportunity: Opportunity, user, changes: list[Change], *,
                   was_open: bool) -> None:
    """Write the history rows and queue the watchers' e-mail, in the caller's transaction."""
    if not changes:
        return
    now = utcnow()
    for change in changes:
        db.session.add(OpportunityChange(
            opportunity_id=opportunity.id, account_id=opportunity.account_id, at=now,
            user_id=user.id, field=change.field, old_value=change.old, new_value=change.new,
            stage_id=change.stage_id))
    if was_open:
        _notify_watchers(opportunity, user, changes)


FIELD_LABELS = {"created": _l("Created"), "stage": _l("Stage"), "status": _l("Status"),
                "owner": _l("Owner"), "value": _l("Estimated value"),
                "details": _l("Details"), "archived": _l("Archived")}


def _notify_watchers(opportunity: Opportunity, actor, changes: list[Change]) -> None:
    """Seed 002's "Spy System": every change, by e-mail, until the opportunity is closed."""
    recipients = sorted({w.email for w in opportunity.watchers
                         if w.id != actor.id and w.active and w.email})
    if not recipients:
        return
    path = f"/crm/opportunities/{opportunity.id}"
    link = (url_for("crm.opportunity", opportunity_id=opportunity.id, _external=True)
            if has_request_context() else current_app.config["ERP_BASE_URL"].rstrip("/") + path)
    lines = [f"{opportunity.title} — {opportunity.account.display_name}", ""]
    for change in changes:
        label = FIELD_LABELS.get(change.field, change.field)
        if change.old is None:
            lines.append(f"• {label}: {change.new or ''}")
        else:
            lines.append(f"• {label}: {change.old} → {change.new or ''}")
    lines += ["", f"{actor.name}", link]
    queue_mail(recipients, f"[CRM] {opportunity.title}: "
               + ", ".join(str(FIELD_LABELS.get(c.field, c.field)) for c in changes),
               "\n".join(lines), source="crm.watchers")
