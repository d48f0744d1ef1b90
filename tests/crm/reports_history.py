"""Opportunities with a hand-written change history, for the report tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from erp.db import db
from modules.crm.models import Opportunity, OpportunityChange

P, C, PR, N, E = ("Prospecção", "Contato realizado", "Proposta apresentada", "Negociação",
                  "Encerrado")


def jan(day: int, month: int = 1, year: int = 2026) -> datetime:
    """Noon UTC: the same calendar day in São Paulo."""
    return datetime(year, month, day, 12, tzinfo=UTC)


def make(app, users, pipeline, account_id, *, owner="rep_a", value="0", history, status="open",
         loss_reason=None) -> int:
    """An opportunity with an explicit history: [(when, field, new value), ...]; the
    first entry is its creation, the last stage entry its current stage."""
    stages = pipeline["stages"]
    created = history[0][0]
    stage = [v for _at, field, v in history if field in ("created", "stage")][-1]
    closes = [at for at, field, v in history if field == "status"]
    with app.app_context():
        opportunity = Opportunity(
            title=f"Op {created:%d/%m}", account_id=account_id, stage_id=stages[stage],
            owner_id=users[owner], status=status, estimated_value=Decimal(value),
            created_at=created, stage_entered_at=created,
            closed_at=closes[-1] if status != "open" else None,
            loss_reason_id=pipeline["reasons"][loss_reason] if loss_reason else None,
            # Lost where it stands, as the status service records it (crm 0018).
            lost_stage_id=stages[stage] if status == "lost" else None)
        db.session.add(opportunity)
        db.session.flush()
        for at, field, new in history:
            db.session.add(OpportunityChange(opportunity_id=opportunity.id,
                                             account_id=account_id, at=at, field=field,
                                             new_value=new, user_id=users[owner]))
        db.session.commit()
        return opportunity.id
