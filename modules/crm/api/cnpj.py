"""The CNPJ lookup in the API (issue 19): a company's public registry data for a CNPJ,
cleaned as the account form gets it (services/lookup.py): whitespace collapsed, the
registration status in one case and translated, a warning for a company not active, an
answer about another CNPJ refused, a total deadline for the provider's answer."""

from __future__ import annotations

import marshmallow as ma

from erp.api import Blueprint
from erp.api.errors import ErrorSchema, abort
from erp.api.fields import Text
from erp.api.fields import describe as _describe

from ..permissions import WRITE
from ..services.lookup import HTTP_STATUS, lookup_cnpj, result_to_json
from .common import requires

blp = Blueprint("crm-cnpj", __name__, description=(
    "Public registry data for a CNPJ, to fill in an account (the CNPJ lookup)."))


class CnpjLookupArgsSchema(ma.Schema):
    cnpj = Text(20, required=True, metadata=_describe(
        "The CNPJ, with or without its punctuation; numeric or alphanumeric"))
    refresh = ma.fields.Boolean(load_default=False, metadata=_describe(
        "true: ask the registry again even if a recent answer is kept"))


class CompanyDataSchema(ma.Schema):
    cnpj = ma.fields.String()
    legal_name = ma.fields.String()
    trade_name = ma.fields.String()
    street = ma.fields.String()
    number = ma.fields.String()
    complement = ma.fields.String()
    district = ma.fields.String()
    city = ma.fields.String()
    state = ma.fields.String(metadata=_describe("UF, two letters"))
    cep = ma.fields.String(metadata=_describe("8 digits"))
    main_activity = ma.fields.String(metadata=_describe("CNAE code and description"))
    status = ma.fields.String(metadata=_describe(
        "Registration status, one case: ATIVA, BAIXADA, INAPTA, SUSPENSA, NULA"))
    status_on = ma.fields.String(allow_none=True, metadata={
        "format": "date", "description": "Status since (ISO date)"})
    opened_on = ma.fields.String(allow_none=True, metadata={
        "format": "date", "description": "ISO date"})
    phone = ma.fields.String()
    email = ma.fields.String()


class CnpjLookupSchema(ma.Schema):
    data = ma.fields.Nested(CompanyDataSchema, required=True)
    provider = ma.fields.String(metadata=_describe("Where the data comes from"))
    fetched_at = ma.fields.String(metadata={
        "format": "date-time", "description": "When the registry answered (UTC)"})
    from_cache = ma.fields.Boolean()
    warning = ma.fields.String(allow_none=True, metadata=_describe(
        "Kept data shown because the registry did not answer now"))
    status_label = ma.fields.String(allow_none=True, metadata=_describe(
        "The registration status in the user's language"))
    status_warning = ma.fields.String(allow_none=True, metadata=_describe(
        "For a company not active: its status and since when"))


_ERRORS = {
    404: "`not_found`: no company with this CNPJ in the registry",
    429: "`rate_limited`: the registry received too many requests",
    502: "`unavailable` (the registry failed) or `mismatch` (it answered about another "
         "CNPJ: nothing of it is used)",
    503: "`disabled`: the lookup is switched off on this server",
    504: "`timeout`: no complete answer within the deadline",
}
# Every other status of the lookup is documented; an invalid CNPJ is the API's usual 422.
assert set(_ERRORS) | {400} == set(HTTP_STATUS.values())  # noqa: S101


def _documented(view):
    for status, description in _ERRORS.items():
        view = blp.alt_response(status, schema=ErrorSchema, description=description)(view)
    return view


@blp.route("/cnpj-lookup", methods=["GET"])
@requires(blp, WRITE)
@blp.arguments(CnpjLookupArgsSchema, location="query")
@blp.response(200, CnpjLookupSchema)
@_documented
def cnpj_lookup(args):
    """Look up a CNPJ in the public registry

    The company's names, address, activity and registration status, cleaned; a company
    not active comes with `status_warning`. Needs permission to edit accounts.
    """
    body, status = result_to_json(lookup_cnpj(args["cnpj"], refresh=args["refresh"]))
    if status == 400:  # not a CNPJ: a validation error of the argument, as elsewhere
        abort(422, body["error"]["message"], code="validation_error",
              fields={"cnpj": [body["error"]["message"]]})
    if status != 200:
        abort(status, body["error"]["message"], code=body["error"]["code"])
    return body
