"""/opportunities: list, read, create, update, archive; won, lost, reopen, stage moves."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp.api import Blueprint
from erp.api.conventions import expected_version
from erp.api.etags import sends_etag
from erp.api.paging import keyset_page

from ..models import Opportunity
from ..permissions import READ, WRITE
from ..services import opportunities as service
from ..services.bulk import bulk_apply
from ..services.external_refs import external_ref_in
from ..services.opportunities import get_opportunity_or_404, opportunity_scope
from . import schemas as s
from .common import conflict_response, not_found, precondition_response, reads_record, requires
from .errors import service_errors

blp = Blueprint("crm-opportunities", __name__, description=(
    "Opportunities: subjects negotiated with an account, moving through the funnel's "
    "stages until won or lost. Every change is recorded and told to the watchers."))

def _page_options(statement):
    """What the list shows, loaded per page (not per row)."""
    return statement.options(selectinload(Opportunity.items),
                             selectinload(Opportunity.watchers))


@blp.route("/opportunities", methods=["GET"])
@requires(blp, READ)
@blp.arguments(s.OpportunityListArgsSchema, location="query")
@blp.response(200, s.OpportunityPageSchema)
def list_opportunities(args):
    """List opportunities

    The opportunities you may see (by owner: yours, your team's or all), in id order,
    paged (`after` = the previous page's `next_cursor`).
    """
    statement = select(Opportunity).where(opportunity_scope(current_user),
                                          Opportunity.archived.is_(args["archived"]))
    for arg, column in (("account_id", Opportunity.account_id),
                        ("stage_id", Opportunity.stage_id), ("owner_id", Opportunity.owner_id),
                        ("status", Opportunity.status)):
        if arg in args:
            statement = statement.where(column == args[arg])
    if reference := args.get("external_ref", "").strip():  # by its index (issue 19)
        statement = statement.where(external_ref_in(Opportunity.__table__, {reference}))
    return keyset_page(_page_options(statement), Opportunity.id, args)


@blp.route("/opportunities", methods=["POST"])
@requires(blp, WRITE)
@blp.arguments(s.OpportunityCreateSchema)
@blp.response(201, s.OpportunitySchema)
@sends_etag
def create_opportunity(data):
    """Create an opportunity

    For an account you can see, in the first stage unless `stage_id` says otherwise;
    its estimated value is the sum of its items.
    """
    with service_errors():
        return service.create_opportunity(data, user=current_user)


@blp.route("/opportunities/<int:opportunity_id>", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.OpportunitySchema)
@reads_record(blp)
def get_opportunity(opportunity_id: int):
    """Read an opportunity

    As on the web, you may also read (and change) an opportunity outside your scope
    that you follow: as its next or internal contact, or a watcher. Its `ETag` is its
    `version`: send it back as `If-Match` when you update it.
    """
    return get_opportunity_or_404(opportunity_id, current_user)


@blp.route("/opportunities/<int:opportunity_id>", methods=["PATCH"])
@requires(blp, WRITE)
@blp.arguments(s.OpportunityUpdateSchema)
@blp.response(200, s.OpportunitySchema)
@not_found(blp)
@conflict_response(blp, "`stale_version`: the opportunity changed since `version`.")
@precondition_response(blp)
@sends_etag
def update_opportunity(data, opportunity_id: int):
    """Update an opportunity

    Only the fields sent change (`items`, when sent, replaces them all). Send the `ETag`
    you read as `If-Match` (412 `stale_version`), or the `version` in the body (409
    `stale_version`), to be warned of someone else's changes.
    """
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    expected = expected_version(opportunity, data)
    with service_errors():
        return service.update_opportunity(opportunity, data, user=current_user,
                                          expected_version=expected)


def _bulk(opportunity_id: int, action: str) -> Opportunity:
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    with service_errors():
        bulk_apply([opportunity.id], action, user=current_user)
    return opportunity


@blp.route("/opportunities/<int:opportunity_id>/archive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.OpportunitySchema)
@not_found(blp)
def archive_opportunity(opportunity_id: int):
    """Archive an opportunity

    Hides it from lists and the funnel (`archived=true` lists them); `/unarchive` brings
    it back. Idempotent. Only opportunities within your scope change (as the web's
    archive button): one you only follow is answered unchanged.
    """
    return _bulk(opportunity_id, "archive")


@blp.route("/opportunities/<int:opportunity_id>/unarchive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.OpportunitySchema)
@not_found(blp)
def unarchive_opportunity(opportunity_id: int):
    """Restore an archived opportunity"""
    return _bulk(opportunity_id, "unarchive")


@blp.route("/opportunities/<int:opportunity_id>/won", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.OpportunitySchema)
@not_found(blp)
def win_opportunity(opportunity_id: int):
    """Mark an opportunity won

    Its account becomes a customer. Idempotent.
    """
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    with service_errors():
        return service.mark_won(opportunity, user=current_user)


@blp.route("/opportunities/<int:opportunity_id>/lost", methods=["POST"])
@requires(blp, WRITE)
@blp.arguments(s.LostSchema)
@blp.response(200, s.OpportunitySchema)
@not_found(blp)
def lose_opportunity(data, opportunity_id: int):
    """Mark an opportunity lost

    Always with a reason (see `GET /loss-reasons`), and optionally a note.
    """
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    with service_errors():
        return service.mark_lost(opportunity, user=current_user,
                                 loss_reason_id=data["loss_reason_id"], note=data.get("note"))


@blp.route("/opportunities/<int:opportunity_id>/reopen", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.OpportunitySchema)
@not_found(blp)
def reopen_opportunity(opportunity_id: int):
    """Reopen a won or lost opportunity

    Idempotent.
    """
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    with service_errors():
        return service.reopen(opportunity, user=current_user)


@blp.route("/opportunities/<int:opportunity_id>/stage", methods=["POST"])
@requires(blp, WRITE)
@blp.arguments(s.StageMoveSchema)
@blp.response(200, s.OpportunitySchema)
@not_found(blp)
def move_opportunity(data, opportunity_id: int):
    """Move an open opportunity to another stage

    As the funnel's drag and drop; a closed one must be reopened first (422).
    """
    opportunity = get_opportunity_or_404(opportunity_id, current_user)
    with service_errors():
        return service.move_to_stage(opportunity, data["stage_id"], user=current_user)
