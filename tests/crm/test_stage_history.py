"""Issue 19: the pipeline history names stages by id (with the name as it was, for
display), and the stage where an opportunity was lost is recorded at the moment of loss."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from modules.crm.models import Opportunity, OpportunityChange, OpportunityStay, Stage
from modules.crm.reports import funnel, losses
from modules.crm.reports.filters import Filters
from modules.crm.services import bulk, opportunities, settings

EVERYTHING = Filters(start=date(2000, 1, 1), end=date(2099, 12, 31))



def test_history_rows_carry_the_stage_id_and_the_name_as_it_was(app, users, pipeline,
                                                                make_account, make_opportunity):
    stages = pipeline["stages"]
    opportunity_id = make_opportunity(make_account(owner="rep_a"))
    with app.app_context():
        admin = db.session.get(User, users["admin"])
        opportunity = db.session.get(Opportunity, opportunity_id)
        opportunities.move_to_stage(opportunity, stages["Negociação"], user=admin)
        settings.save_stage({"name": "Negociação final"}, db.session.get(
            Stage, stages["Negociação"]))
        rows = db.session.execute(
            select(OpportunityChange.field, OpportunityChange.new_value,
                   OpportunityChange.stage_id)
            .where(OpportunityChange.opportunity_id == opportunity_id)
            .order_by(OpportunityChange.id)).all()
        assert rows == [("created", "Prospecção", stages["Prospecção"]),
                        ("stage", "Negociação", stages["Negociação"])]
        # The stays are the stage's, whatever it is called now.
        assert set(db.session.scalars(select(OpportunityStay.stage_id).where(
            OpportunityStay.opportunity_id == opportunity_id))) == {
                stages["Prospecção"], stages["Negociação"]}
        report = funnel.funnel_report(admin, EVERYTHING, datetime.now(UTC) + timedelta(days=2))
        by_name = {s.name: s.average_days for s in report.stages}
        assert by_name["Negociação final"] is not None and by_name["Negociação final"] > 1


def test_stage_where_lost_is_kept_from_the_moment_of_loss(app, users, pipeline, make_account,
                                                          make_opportunity):
    stages, reasons = pipeline["stages"], pipeline["reasons"]
    account = make_account(owner="rep_a")
    first = make_opportunity(account, stage_id=stages["Contato realizado"])
    second = make_opportunity(account, stage_id=stages["Negociação"])
    with app.app_context():
        admin = db.session.get(User, users["admin"])
        reason = next(iter(reasons.values()))
        opportunity = db.session.get(Opportunity, first)
        opportunities.mark_lost(opportunity, user=admin, loss_reason_id=reason)
        assert opportunity.lost_stage_id == stages["Contato realizado"]
        # An edit of the closed opportunity's stage does not move where it was lost.
        opportunities.update_opportunity(opportunity, {"stage_id": stages["Encerrado"]},
                                         user=admin)
        assert (opportunity.stage_id, opportunity.lost_stage_id) == (
            stages["Encerrado"], stages["Contato realizado"])
        bulk.bulk_apply([second], "lost", user=admin, loss_reason_id=reason)
        report = losses.losses_report(admin, EVERYTHING)
        assert [(line.name, line.lost) for line in report.by_stage] == [
            ("Contato realizado", 1), ("Negociação", 1)]

        # Reopened: no stage where lost; lost again elsewhere: that stage.
        opportunities.reopen(opportunity, user=admin)
        assert opportunity.lost_stage_id is None
        opportunities.move_to_stage(opportunity, stages["Proposta apresentada"], user=admin)
        opportunities.mark_lost(opportunity, user=admin, loss_reason_id=reason)
        assert opportunity.lost_stage_id == stages["Proposta apresentada"]
        opportunities.mark_won(opportunity, user=admin)
        assert opportunity.lost_stage_id is None

        # A deleted stage's losses go where its opportunities went.
        settings.delete_stage(db.session.get(Stage, stages["Negociação"]),
                              db.session.get(Stage, stages["Prospecção"]))
        db.session.expire_all()
        assert db.session.get(Opportunity, second).lost_stage_id == stages["Prospecção"]
