"""Sales' API bodies and list filters (marshmallow), with CRM's conventions: unknown
fields refused (422), ids as JSON integers, dates as ISO strings, date-times in UTC,
money and quantities as decimal strings (``"1234.50"``), ``null`` clears an optional
field. A schema checks only JSON types and sizes; the rules (a contact of the account, a
validity date not past, the lines...) are the services', the ones the pages use."""

from __future__ import annotations

import marshmallow as ma

from erp.api.documents import line_schema
from erp.api.fields import Bool, DecimalString, Id, QueryId, Text, UtcDateTime, enum
from erp.api.fields import StrictSchema as Schema
from erp.api.fields import describe as _describe
from erp.api.paging import ListArgs, page_schema

from ..models import INVOICE_STATUSES, ORDER_STATUSES, PRODUCT_KINDS, QUOTE_STATUSES
from ..services import MAX_INSTALLMENTS, NOTES_MAX

MAX_LINES = 200


# --- products -----------------------------------------------------------------------------


class ProductFieldsSchema(Schema):
    code = Text(40, validate=ma.validate.Length(min=1), metadata=_describe("Unique"))
    name = Text(200, validate=ma.validate.Length(min=1))
    kind = enum(PRODUCT_KINDS)
    price = DecimalString(metadata=_describe("The list price"))
    active = Bool(metadata=_describe("false: no longer offered on new documents"))


class ProductCreateSchema(ProductFieldsSchema):
    code = Text(40, required=True, validate=ma.validate.Length(min=1))
    name = Text(200, required=True, validate=ma.validate.Length(min=1))


class ProductUpdateSchema(ProductFieldsSchema):
    version = Id(metadata=_describe(
        "The version you read; if the product changed since, 409 `stale_version`"))


class ProductSchema(ProductFieldsSchema):
    id = ma.fields.Integer(dump_only=True)
    price = DecimalString(dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ProductListArgsSchema(ListArgs):
    q = Text(100, metadata=_describe("Any part of the code or name"))
    kind = enum(PRODUCT_KINDS)
    active = ma.fields.Boolean(metadata=_describe("Default: both"))


# --- document lines and installments --------------------------------------------------------


SalesLineSchema = line_schema("SalesLineSchema", product_id=Id(
    allow_none=True, metadata=_describe(
        "A catalog product: its name and price fill a blank description and price")))


class SalesInstallmentSchema(Schema):
    position = ma.fields.Integer(dump_only=True, metadata=_describe("n of the m installments"))
    due_date = ma.fields.Date(dump_only=True)
    amount = DecimalString(dump_only=True)


LINES = ma.fields.List(ma.fields.Nested(SalesLineSchema),
                       validate=ma.validate.Length(max=MAX_LINES),
                       metadata=_describe("Replaces every line; the total is their sum"))


# --- quotes ----------------------------------------------------------------------------------


class QuoteFieldsSchema(Schema):
    contact_id = Id(allow_none=True, metadata=_describe("One of the account's contacts"))
    valid_until = ma.fields.Date(metadata=_describe("Not before today; default: in 30 days"))
    notes = Text(NOTES_MAX, allow_none=True)
    lines = LINES


class QuoteCreateSchema(QuoteFieldsSchema):
    account_id = Id(required=True, metadata=_describe("An account you can see"))
    lines = ma.fields.List(ma.fields.Nested(SalesLineSchema), required=True,
                           validate=ma.validate.Length(max=MAX_LINES))


class QuoteUpdateSchema(QuoteFieldsSchema):
    version = Id(metadata=_describe(
        "The version you read; if the quote changed since, 409 `stale_version`"))


class QuoteSchema(QuoteFieldsSchema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.Integer(dump_only=True)
    display_number = ma.fields.String(dump_only=True, metadata=_describe("e.g. PR 000012"))
    account_id = ma.fields.Integer(dump_only=True)
    user_id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, attribute="current_status", metadata=_describe(
        "draft, sent, expired (sent, past its validity date), accepted or refused"))
    total = DecimalString(dump_only=True)
    lines = ma.fields.List(ma.fields.Nested(SalesLineSchema), dump_only=True)
    sent_at = UtcDateTime(dump_only=True, allow_none=True)
    decided_at = UtcDateTime(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class QuoteListArgsSchema(ListArgs):
    account_id = QueryId()
    status = enum(QUOTE_STATUSES)


class QuoteSendSchema(Schema):
    contact_id = Id(metadata=_describe(
        "A contact of the account, with an e-mail address; default: the quote's contact"))
    message = Text(NOTES_MAX, allow_none=True, metadata=_describe("Added to the e-mail"))


# --- orders ----------------------------------------------------------------------------------


class SalesOrderCreateSchema(Schema):
    account_id = Id(required=True, metadata=_describe("An account you can see"))
    order_date = ma.fields.Date(metadata=_describe("Default: today"))
    notes = Text(NOTES_MAX, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(SalesLineSchema), required=True,
                           validate=ma.validate.Length(max=MAX_LINES))


class SalesOrderSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.Integer(dump_only=True)
    display_number = ma.fields.String(dump_only=True, metadata=_describe("e.g. PV 000034"))
    account_id = ma.fields.Integer(dump_only=True)
    quote_id = ma.fields.Integer(dump_only=True, allow_none=True)
    user_id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata=_describe(
        "confirmed, delivered or cancelled"))
    order_date = ma.fields.Date(dump_only=True)
    notes = ma.fields.String(dump_only=True, allow_none=True)
    total = DecimalString(dump_only=True)
    lines = ma.fields.List(ma.fields.Nested(SalesLineSchema), dump_only=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class SalesOrderListArgsSchema(ListArgs):
    account_id = QueryId()
    status = enum(ORDER_STATUSES)


class SalesInvoiceCreateSchema(Schema):
    issue_date = ma.fields.Date(metadata=_describe("Default: today"))
    installments = ma.fields.Integer(
        strict=True, validate=ma.validate.Range(min=1, max=MAX_INSTALLMENTS),
        metadata=_describe("Default 1: monthly parts, the last takes the remainder"))
    first_due_date = ma.fields.Date(required=True, metadata=_describe(
        "The first installment's; not before the issue date"))


# --- invoices ------------------------------------------------------------------------------


class SalesInvoiceSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.Integer(dump_only=True)
    display_number = ma.fields.String(dump_only=True, metadata=_describe("e.g. NF 000056"))
    account_id = ma.fields.Integer(dump_only=True)
    order_id = ma.fields.Integer(dump_only=True)
    user_id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata=_describe("issued or cancelled"))
    issue_date = ma.fields.Date(dump_only=True)
    total = DecimalString(dump_only=True)
    installments = ma.fields.List(ma.fields.Nested(SalesInstallmentSchema), dump_only=True)
    cancelled_at = UtcDateTime(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class SalesInvoiceListArgsSchema(ListArgs):
    account_id = QueryId()
    order_id = QueryId()
    status = enum(INVOICE_STATUSES)


ProductPageSchema = page_schema(ProductSchema, "ProductPage")
QuotePageSchema = page_schema(QuoteSchema, "QuotePage")
OrderPageSchema = page_schema(SalesOrderSchema, "SalesOrderPage")
InvoicePageSchema = page_schema(SalesInvoiceSchema, "SalesInvoicePage")
