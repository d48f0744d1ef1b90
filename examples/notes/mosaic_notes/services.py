"""What writing a note means; the form view (and any import or API) calls this."""

from __future__ import annotations

from erp.db import db

from .models import Note
from .signals import note_added

MAX_BODY = 10_000  # characters; the form says so too


def add_note(account, body: str, *, user) -> Note:
    """Save a note on ``account`` written by ``user``, then announce it."""
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY:
        raise ValueError(f"a note has 1 to {MAX_BODY} characters")
    note = Note(account_id=account.id, author_id=user.id, body=body)
    db.session.add(note)
    db.session.commit()
    note_added.send(note, user=user)
    return note
