"""Finance's API bodies and filters, with CRM's conventions: unknown fields refused (422),
ids as JSON integers, dates ISO, date-times in UTC, money as decimal strings. The rules
(an amount never more than is owed, a payment date not in the future, what may be
cancelled) are the services'."""

from __future__ import annotations

import marshmallow as ma

from erp.api.fields import DecimalString, Id, QueryId, Text, UtcDateTime, enum
from erp.api.fields import StrictSchema as Schema
from erp.api.fields import describe as _describe
from erp.api.paging import DEFAULT_LIMIT, MAX_LIMIT, ListArgs, page_schema

from ..models import METHODS, STATUSES
from ..services import DOCUMENT_LENGTH, MAX_INSTALLMENTS, UNPAID


class PaymentSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    receivable_id = ma.fields.Integer(dump_only=True)
    account_id = ma.fields.Integer(dump_only=True)
    date = ma.fields.Date(dump_only=True)
    amount = DecimalString(dump_only=True)
    method = ma.fields.String(dump_only=True, metadata=_describe(", ".join(METHODS)))
    created_by_id = ma.fields.Integer(dump_only=True, allow_none=True)
    created_at = UtcDateTime(dump_only=True)


class PaymentCreateSchema(Schema):
    receivable_id = Id(required=True, metadata=_describe("A receivable you can see"))
    amount = DecimalString(required=True, metadata=_describe(
        "Greater than zero; at most what is still owed"))
    date = ma.fields.Date(metadata=_describe("Default: today; not in the future"))
    method = enum(METHODS, required=True)


class PaymentListArgsSchema(ListArgs):
    receivable_id = QueryId()
    account_id = QueryId()


class ReceivableSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    account_id = ma.fields.Integer(dump_only=True)
    document = ma.fields.String(dump_only=True)
    origin = ma.fields.String(dump_only=True, metadata=_describe(
        "manual (entered by hand) or the document that made it, e.g. sales.invoice"))
    origin_id = ma.fields.Integer(dump_only=True, allow_none=True)
    issue_date = ma.fields.Date(dump_only=True)
    due_date = ma.fields.Date(dump_only=True)
    amount = DecimalString(dump_only=True)
    paid = DecimalString(dump_only=True)
    outstanding = DecimalString(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata=_describe(
        "open, partial, overdue, paid or cancelled (as of your today)"))
    installment = ma.fields.Integer(dump_only=True)
    installments = ma.fields.Integer(dump_only=True)
    cancelled_at = UtcDateTime(dump_only=True, allow_none=True)
    created_at = UtcDateTime(dump_only=True)
    created_by_id = ma.fields.Integer(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True)
    payments = ma.fields.List(ma.fields.Nested(PaymentSchema), dump_only=True)


class ReceivableCreateSchema(Schema):
    account_id = Id(required=True, metadata=_describe("An account you can see"))
    document = Text(DOCUMENT_LENGTH - 8, required=True, validate=ma.validate.Length(min=1))
    amount = DecimalString(required=True, metadata=_describe(
        "The whole amount, split in `installments`"))
    issue_date = ma.fields.Date(metadata=_describe("Default: today"))
    due_date = ma.fields.Date(required=True, metadata=_describe("The first installment's"))
    installments = ma.fields.Integer(
        strict=True, validate=ma.validate.Range(min=1, max=MAX_INSTALLMENTS),
        metadata=_describe("Default 1: monthly parts, the last takes the remainder"))


class ReceivablesCreatedSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(ReceivableSchema), required=True, metadata=_describe(
        "One receivable per installment"))


class ReceivableListArgsSchema(ListArgs):
    status = enum((*STATUSES, UNPAID), metadata=_describe(
        "As of your today; `unpaid`: open, partial or overdue"))
    due = enum(("week",), metadata=_describe("`week`: due this week (Monday to Sunday)"))
    account_id = QueryId()
    account = Text(100, metadata=_describe("Any part of the account's names"))
    q = Text(100, metadata=_describe("Any part of the document"))


class AgingArgsSchema(Schema):
    as_of = ma.fields.Date(metadata=_describe("Overdue on this day; default: today"))
    owner_id = QueryId(metadata=_describe("Only the accounts of this owner"))
    team_id = QueryId(metadata=_describe("Only the accounts of this team's members"))
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100000),
                             metadata=_describe("The report's pages: by amount, not by id"))
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT,
                              validate=ma.validate.Range(min=1, max=MAX_LIMIT),
                              metadata=_describe(f"Accounts per page (1–{MAX_LIMIT})"))


class AgingFiguresSchema(Schema):
    d0_30 = DecimalString(dump_only=True, metadata=_describe("Due before the day, up to 30 "
                                                             "days"))
    d31_60 = DecimalString(dump_only=True)
    d61_90 = DecimalString(dump_only=True)
    d90_plus = DecimalString(dump_only=True, metadata=_describe("Over 90 days overdue"))
    overdue = DecimalString(dump_only=True, metadata=_describe("The four buckets' sum"))


class AgingRowSchema(AgingFiguresSchema):
    account_id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True, metadata=_describe(
        "Trade name, then the legal name when it differs"))


class AgingTotalsSchema(AgingFiguresSchema):
    accounts = ma.fields.Integer(dump_only=True, metadata=_describe(
        "How many accounts have something overdue"))


class AgingSchema(Schema):
    as_of = ma.fields.Date(dump_only=True)
    rows = ma.fields.List(ma.fields.Nested(AgingRowSchema), dump_only=True, metadata=_describe(
        "The page's accounts, largest overdue first"))
    totals = ma.fields.Nested(AgingTotalsSchema, dump_only=True, metadata=_describe(
        "Over every account, not only the page's"))
    next_page = ma.fields.Integer(dump_only=True, allow_none=True)


ReceivablePageSchema = page_schema(ReceivableSchema, "ReceivablePage")
PaymentPageSchema = page_schema(PaymentSchema, "PaymentPage")
