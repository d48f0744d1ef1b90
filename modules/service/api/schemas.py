"""Service's API bodies and list filters, with CRM's conventions: unknown fields refused
(422), ids as JSON integers, dates ISO, date-times in UTC, money, hours and quantities as
decimal strings, ``null`` clears an optional field. The rules (a technician who is
active, the allowed status moves, the totals) are the services'."""

from __future__ import annotations

import marshmallow as ma

from erp.api.documents import line_schema
from erp.api.fields import DecimalString, Id, QueryId, Text, UtcDateTime, enum
from erp.api.fields import StrictSchema as Schema
from erp.api.fields import describe as _describe
from erp.api.paging import ListArgs, page_schema

from ..models import INVOICE_STATUSES, ORDER_STATUSES
from ..services import MAX_DESCRIPTION, MAX_INSTALLMENTS, MAX_ITEMS

ServiceItemSchema = line_schema("ServiceItemSchema")


ITEMS = ma.fields.List(ma.fields.Nested(ServiceItemSchema),
                       validate=ma.validate.Length(max=MAX_ITEMS),
                       metadata=_describe("Parts and material; replaces every item"))


class ServiceOrderFieldsSchema(Schema):
    description = Text(MAX_DESCRIPTION, metadata=_describe("What is to be done"))
    technician_id = Id(metadata=_describe("The responsible technician (an active user)"))
    hours = DecimalString(3, metadata=_describe("Hours worked, e.g. \"2.5\""))
    hourly_rate = DecimalString()
    items = ITEMS


class ServiceOrderCreateSchema(ServiceOrderFieldsSchema):
    account_id = Id(required=True, metadata=_describe("An account you can see"))
    description = Text(MAX_DESCRIPTION, required=True)
    technician_id = Id(required=True)


class ServiceOrderUpdateSchema(ServiceOrderFieldsSchema):
    version = Id(metadata=_describe(
        "The version you read; if the order changed since, 409 `stale_version`"))


class ServiceOrderSchema(ServiceOrderFieldsSchema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.Integer(dump_only=True)
    display_number = ma.fields.String(dump_only=True, metadata=_describe("e.g. OS 000012"))
    account_id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata=_describe(
        "open, in_progress, done or cancelled"))
    items = ma.fields.List(ma.fields.Nested(ServiceItemSchema), dump_only=True)
    items_total = DecimalString(dump_only=True)
    hours_total = DecimalString(dump_only=True)
    total = DecimalString(dump_only=True)
    created_by_id = ma.fields.Integer(dump_only=True)
    started_at = UtcDateTime(dump_only=True, allow_none=True)
    finished_at = UtcDateTime(dump_only=True, allow_none=True)
    cancelled_at = UtcDateTime(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ServiceOrderListArgsSchema(ListArgs):
    account_id = QueryId()
    technician_id = QueryId()
    status = enum(ORDER_STATUSES)


class StatusMoveSchema(Schema):
    status = enum(ORDER_STATUSES, required=True, metadata=_describe(
        "open -> in_progress -> done; open or in_progress -> cancelled"))


class ServiceInvoiceCreateSchema(Schema):
    issue_date = ma.fields.Date(metadata=_describe("Default: today"))
    due_date = ma.fields.Date(required=True, metadata=_describe(
        "The first installment's; not before the issue date"))
    installments = ma.fields.Integer(
        strict=True, validate=ma.validate.Range(min=1, max=MAX_INSTALLMENTS),
        metadata=_describe("Default 1: monthly parts, the last takes the remainder"))


class ServiceInstallmentSchema(Schema):
    position = ma.fields.Integer(dump_only=True)
    due_date = ma.fields.Date(dump_only=True)
    amount = DecimalString(dump_only=True)


class ServiceInvoiceSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.Integer(dump_only=True)
    display_number = ma.fields.String(dump_only=True, metadata=_describe("e.g. NFS 000034"))
    order_id = ma.fields.Integer(dump_only=True)
    account_id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata=_describe("issued or cancelled"))
    issue_date = ma.fields.Date(dump_only=True)
    due_date = ma.fields.Date(dump_only=True)
    amount = DecimalString(dump_only=True)
    installments = ma.fields.List(ma.fields.Nested(ServiceInstallmentSchema), dump_only=True)
    issued_by_id = ma.fields.Integer(dump_only=True)
    issued_at = UtcDateTime(dump_only=True)
    cancelled_at = UtcDateTime(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True)


class ServiceInvoiceListArgsSchema(ListArgs):
    account_id = QueryId()
    order_id = QueryId()
    status = enum(INVOICE_STATUSES)


ServiceOrderPageSchema = page_schema(ServiceOrderSchema, "ServiceOrderPage")
ServiceInvoicePageSchema = page_schema(ServiceInvoiceSchema, "ServiceInvoicePage")
