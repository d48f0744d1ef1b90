"""/actions: list (by account, opportunity, user, kind, done, time), read, create, update,
mark done, archive."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from erp.api import Blueprint
from erp.api.paging import keyset_page

from ..models import Action
from ..permissions import READ, WRITE
from ..services import actions as service
from ..services.actions import get_action_or_404
from ..services.scope import action_scope
from . import schemas as s
from .common import not_found, requires
from .errors import invalid, service_errors

blp = Blueprint("crm-actions", __name__, description=(
    "Actions: what was done (calls, visits, e-mails, notes...) or is planned with an "
    "account or opportunity. You see your own actions and those on accounts you see."))


def _moment(value, field: str):
    """A query's date-time, read as the service reads `at` (no offset: your time zone)."""
    try:
        return service.parse_moment(value)[0]
    except ValueError:
        invalid(field, "Use a date and time between the years 1900 and 2999.")


@blp.route("/actions", methods=["GET"])
@requires(blp, READ)
@blp.arguments(s.ActionListArgsSchema, location="query")
@blp.response(200, s.ActionPageSchema)
def list_actions(args):
    """List actions

    In id order, paged (`after` = the previous page's `next_cursor`). `since`/`until`
    bound `at`: when the action was done or is planned for.
    """
    statement = select(Action).where(action_scope(current_user),
                                     Action.archived.is_(args["archived"]))
    for arg, column in (("account_id", Action.account_id),
                        ("opportunity_id", Action.opportunity_id),
                        ("user_id", Action.user_id), ("kind", Action.kind),
                        ("done", Action.done)):
        if arg in args:
            statement = statement.where(column == args[arg])
    if "since" in args:
        statement = statement.where(Action.at >= _moment(args["since"], "since"))
    if "until" in args:
        statement = statement.where(Action.at < _moment(args["until"], "until"))
    return keyset_page(statement, Action.id, args)


@blp.route("/actions", methods=["POST"])
@requires(blp, WRITE)
@blp.arguments(s.ActionCreateSchema)
@blp.response(201, s.ActionSchema)
def create_action(data):
    """Record or plan an action

    On an account you can see (or the account of `opportunity_id`). A planned action
    (`done` false) goes to its user's agenda.
    """
    with service_errors():
        return service.create_action(data, user=current_user)


@blp.route("/actions/<int:action_id>", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.ActionSchema)
@not_found(blp)
def get_action(action_id: int):
    """Read an action"""
    return get_action_or_404(action_id, current_user)


@blp.route("/actions/<int:action_id>", methods=["PATCH"])
@requires(blp, WRITE)
@blp.arguments(s.ActionUpdateSchema)
@blp.response(200, s.ActionSchema)
@not_found(blp)
def update_action(data, action_id: int):
    """Update an action

    Only the fields sent change. Moving it to another account drops its opportunity and
    contact unless new ones are sent.
    """
    action = get_action_or_404(action_id, current_user)
    with service_errors():
        return service.update_action(action, data, user=current_user)


@blp.route("/actions/<int:action_id>/done", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.ActionSchema)
@not_found(blp)
def complete_action(action_id: int):
    """Mark a planned action done

    Its time becomes now. Idempotent.
    """
    action = get_action_or_404(action_id, current_user)
    return service.complete_action(action, user=current_user)


def _set_archived(action_id: int, archived: bool) -> Action:
    action = get_action_or_404(action_id, current_user)
    service.set_archived(action, archived)
    return action


@blp.route("/actions/<int:action_id>/archive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.ActionSchema)
@not_found(blp)
def archive_action(action_id: int):
    """Archive an action

    It leaves the account's timeline, the agenda and the lists (`archived=true` lists
    them); `/unarchive` brings it back. Idempotent.
    """
    return _set_archived(action_id, True)


@blp.route("/actions/<int:action_id>/unarchive", methods=["POST"])
@requires(blp, WRITE)
@blp.response(200, s.ActionSchema)
@not_found(blp)
def unarchive_action(action_id: int):
    """Restore an archived action"""
    return _set_archived(action_id, False)
