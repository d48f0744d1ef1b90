"""Its records for the contract tests (erp.testing.contract): registered in ``register()``
as ``ContractData("notes", demo.contract_data, demo.contract_events)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from erp.db import db

from .models import Note
from .services import add_note


def contract_data(account, user) -> None:
    """Two notes on ``account`` by ``user``: the tab counts them, the timeline shows them."""
    add_note(account, "Prefers calls after 2 pm.", user=user)
    add_note(account, "Asked for a visit in March.", user=user)


def contract_events(account, user, count: int, at=None, kind=None) -> None:
    """``count`` notes at once (one insert), a second apart back from now, or all at
    ``at`` (ties)."""
    now = datetime.now(UTC).replace(microsecond=0)
    db.session.execute(insert(Note), [
        {"account_id": account.id, "author_id": user.id, "body": f"#{i}",
         "created_at": at or now - timedelta(seconds=i)} for i in range(count)])
    db.session.commit()
