"""/duplicates/accounts, /duplicates/contacts and their /dismissals: the scan for likely
duplicates (issue 18, point 1), as the "Find duplicates" page shows it
(services/duplicates.py): a manager's (crm.manage), within the caller's scope."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from werkzeug.exceptions import NotFound

from erp.api import Blueprint
from erp.api.fields import Id
from erp.api.paging import page_schema
from erp.db import db
from erp.links import page_link

from ..permissions import MANAGE
from ..services import duplicates as service
from .common import not_found, requires
from .errors import invalid
from .schemas import Schema

blp = Blueprint("crm-duplicates", __name__, description=(
    "Likely duplicate accounts and contacts within your scope, the most confident first "
    "(same e-mail, same phone, the same name with accents, case and company suffixes "
    "aside, the same CNPJ root: branches, shown but not mergeable), each record paired "
    "with the oldest of its group; and dismissing a pair as not a duplicate, for good. "
    "For managers (crm.manage)."))

MAX_GROUPS = 100
MERGE_ENDPOINTS = {"account": "crm.merge_accounts", "contact": "crm.merge_contacts"}


class ScanArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=service.SCAN_PAGE,
                              validate=ma.validate.Range(min=1, max=MAX_GROUPS),
                              metadata={"description": f"Groups per page (1–{MAX_GROUPS}); "
                                                       "a group gives one pair or more"})
    after = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]{1,400}$"),
                             metadata={"description": "The next_cursor of the previous page"})


class PairSchema(ma.Schema):
    first_id = ma.fields.Integer(required=True, metadata={
        "description": "The oldest record of the group"})
    second_id = ma.fields.Integer(required=True)
    first_name = ma.fields.String(required=True)
    second_name = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, metadata={
        "description": "email, phone, name (the same name), similar_name (a similar "
                       "name: the confidence follows the similarity) or tax_id_root"})
    key = ma.fields.String(required=True, metadata={
        "description": "The shared value: the e-mail, the phone (E.164), the name key or "
                       "the CNPJ root; similar_name: score:first_id:second_id"})
    confidence = ma.fields.Float(required=True, metadata={"description": "0 to 1"})
    mergeable = ma.fields.Boolean(required=True, metadata={
        "description": "false for branches (same CNPJ root): shown, not to be merged"})
    merge_url = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The merge page for the pair, when mergeable and merging is "
                       "installed"})


PairPageSchema = page_schema(PairSchema, "PairPage")


class DismissSchema(Schema):
    first_id = Id(required=True)
    second_id = Id(required=True)


class DismissalSchema(ma.Schema):
    low_id = ma.fields.Integer(required=True)
    high_id = ma.fields.Integer(required=True)
    created = ma.fields.Boolean(required=True, metadata={
        "description": "false: the pair had been dismissed already"})


def _name(record) -> str:
    return record.distinct_name if hasattr(record, "distinct_name") else record.name


def _merge_url(record_kind: str, pair: service.Pair) -> str | None:
    link = page_link(MERGE_ENDPOINTS[record_kind]) if pair.kind.mergeable else None
    return link(a=pair.first.id, b=pair.second.id) if link else None


def _scan(record_kind: str, args: dict) -> dict:
    page = service.scan(record_kind, current_user, args.get("after"), per_page=args["limit"])
    return {"items": [{"first_id": p.first.id, "second_id": p.second.id,
                       "first_name": _name(p.first), "second_name": _name(p.second),
                       "reason": p.kind.reason, "key": p.key, "confidence": p.confidence,
                       "mergeable": p.kind.mergeable, "merge_url": _merge_url(record_kind, p)}
                      for p in page.pairs],
            "next_cursor": page.next_cursor}


def _dismiss(record_kind: str, data: dict) -> dict:
    first, second = data["first_id"], data["second_id"]
    try:
        created = service.dismiss(record_kind, first, second, current_user)
    except LookupError:
        db.session.rollback()
        raise NotFound() from None
    except ValueError:
        invalid("second_id", "A pair needs two different records.")
    low, high = sorted((first, second))
    return {"low_id": low, "high_id": high, "created": created}


@blp.route("/duplicates/accounts", methods=["GET"])
@requires(blp, MANAGE)
@blp.arguments(ScanArgsSchema, location="query")
@blp.response(200, PairPageSchema)
def scan_accounts(args):
    """List likely duplicate accounts

    Pairs of accounts within your scope, the most confident first, `limit` groups at a
    time: pass a page's `next_cursor` as `after` for the next page (`null`: the last).
    Pairs dismissed as not duplicates are left out.
    """
    return _scan("account", args)


@blp.route("/duplicates/contacts", methods=["GET"])
@requires(blp, MANAGE)
@blp.arguments(ScanArgsSchema, location="query")
@blp.response(200, PairPageSchema)
def scan_contacts(args):
    """List likely duplicate contacts

    As for accounts: the same e-mail, then the same phone.
    """
    return _scan("contact", args)


@blp.route("/duplicates/accounts/dismissals", methods=["POST"])
@requires(blp, MANAGE)
@blp.arguments(DismissSchema)
@blp.response(201, DismissalSchema)
@not_found(blp)
def dismiss_accounts(data):
    """Dismiss a pair of accounts as not duplicates

    For good: the scan never proposes the pair again. Both accounts must be within your
    scope (404 otherwise). Dismissing a dismissed pair again changes nothing
    (`created` false).
    """
    return _dismiss("account", data)


@blp.route("/duplicates/contacts/dismissals", methods=["POST"])
@requires(blp, MANAGE)
@blp.arguments(DismissSchema)
@blp.response(201, DismissalSchema)
@not_found(blp)
def dismiss_contacts(data):
    """Dismiss a pair of contacts as not duplicates

    As for accounts.
    """
    return _dismiss("contact", data)

