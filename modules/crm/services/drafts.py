"""Drafts of the opportunity form (seed 002): saved as typed, even invalid, per user."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import select

from erp.db import db
from erp.errors import InvalidInput
from erp.i18n import module_i18n

from ..models import OpportunityDraft

_l = module_i18n(__name__).lazy_gettext

MAX_PAYLOAD_FIELDS = 400
MAX_VALUE_LENGTH = 5000


def _clean_payload(payload: Any) -> dict[str, Any]:
    """Keep a draft's form fields as text (or lists of text), bounded in size."""
    if not isinstance(payload, dict) or len(payload) > MAX_PAYLOAD_FIELDS:
        raise InvalidInput({"payload": [_l("The draft could not be saved: unexpected data.")]})
    clean: dict[str, Any] = {}
    for key, value in payload.items():
        if key == "csrf_token" or not isinstance(key, str) or len(key) > 100 or "\x00" in key:
            continue
        # Half-typed, never validated: NUL (which PostgreSQL cannot store) is dropped; the
        # form refuses it, with the other control characters, when the draft is finished.
        if isinstance(value, list):
            clean[key] = [str(v)[:MAX_VALUE_LENGTH].replace("\x00", "")
                          for v in value[:MAX_PAYLOAD_FIELDS]]
        else:
            clean[key] = "" if value is None else str(value)[:MAX_VALUE_LENGTH].replace(
                "\x00", "")
    return clean


def save_draft(payload: Any, *, user, draft_id: int | None = None,
               opportunity_id: int | None = None) -> OpportunityDraft:
    """Create or overwrite the user's draft; never validates the form itself."""
    clean = _clean_payload(payload)
    draft = get_draft(draft_id, user) if draft_id else None
    if draft is None:
        draft = OpportunityDraft(user_id=user.id, opportunity_id=opportunity_id)
        db.session.add(draft)
    draft.payload = clean
    draft.title = (clean.get("title") or "").strip()[:200]
    db.session.commit()
    return draft


def get_draft(draft_id: int, user) -> OpportunityDraft:
    """One of the user's own drafts (others' drafts do not exist for them)."""
    draft = db.session.get(OpportunityDraft, draft_id)
    if draft is None or draft.user_id != user.id:
        abort(404)
    return draft


def user_drafts(user, limit: int = 100) -> list[OpportunityDraft]:
    return list(db.session.scalars(
        select(OpportunityDraft).where(OpportunityDraft.user_id == user.id)
        .order_by(OpportunityDraft.updated_at.desc()).limit(limit)))


def delete_draft(draft: OpportunityDraft) -> None:
    db.session.delete(draft)
    db.session.commit()
