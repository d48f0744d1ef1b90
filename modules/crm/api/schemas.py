"""The CRM API's request and response bodies, and its list filters (marshmallow).

Conventions (also in the OpenAPI document): unknown fields are refused (422); ids are
JSON integers; dates are ISO strings (``2026-12-31``), date-times ISO 8601 written in UTC
(``2026-12-31T14:30:00+00:00``); money and quantities are decimal strings
(``"1234.50"``); optional fields take ``null`` to clear them. A schema checks only the
JSON types and sizes: the rules (a valid CNPJ, a customer's tax data, an account you
can see...) are the services', the same the web forms use.
"""

from __future__ import annotations

import marshmallow as ma

from erp.api.fields import Bool, DecimalString, Id, QueryId, Text, UtcDateTime, enum
from erp.api.fields import StrictSchema as Schema
from erp.api.fields import describe as _describe
from erp.api.paging import ListArgs, page_schema

from ..models import ACTION_KINDS, CONTACT_MEDIA, STATUSES
from ..models.account import LIFECYCLES
from ..services import accounts as account_rules
from ..services import actions as action_rules
from ..services import contacts as contact_rules
from ..services import opportunities as opportunity_rules
from ..services.external_refs import EXTERNAL_REF_MAX
from ..services.validation import PERSON_TYPES

A = account_rules.TEXT_FIELDS
C = contact_rules.TEXT_FIELDS
O = opportunity_rules.TEXT_FIELDS  # noqa: E741
SHORT = 60  # raw tax ids, phone numbers, CEPs: the services read and normalize them
# An account's or opportunity's code in the system it came from (issue 19).
EXTERNAL_REF = Text(EXTERNAL_REF_MAX, allow_none=True, metadata={"description": (
    "Its code in the system it came from (an export's Código or ID): a re-import finds "
    "the record by it. One line, trimmed; null or blank: none. Unique: another record "
    "with it is a 422")})
EXTERNAL_REF_FILTER = Text(EXTERNAL_REF_MAX, metadata={"description": (
    "Exactly this external reference")})


# --- accounts ---------------------------------------------------------------------------


class AccountFieldsSchema(Schema):
    """The fields a client may write (every one optional, as in a PATCH)."""

    person_type = enum(PERSON_TYPES, metadata=_describe(
        "PJ (company) or PF (person); guessed from the tax id when left out"))
    legal_name = Text(A["legal_name"], metadata=_describe("Razão social, or the person's name"))
    trade_name = Text(A["trade_name"], allow_none=True, metadata=_describe("Nome fantasia"))
    short_name = Text(A["short_name"], allow_none=True)
    tax_id = Text(SHORT, allow_none=True, metadata=_describe(
        "CNPJ (also alphanumeric) or CPF, with or without punctuation; stored without"))
    state_registration = Text(SHORT, allow_none=True, metadata=_describe(
        "Inscrição estadual, checked against `state`; or ISENTO"))
    lifecycle = enum(LIFECYCLES, metadata=_describe(
        "A customer needs its tax id (and a company its state registration)"))
    category_id = Id(allow_none=True)
    owner_id = Id(metadata=_describe("Someone whose records you see; default: you"))
    priority = Bool()
    phone = Text(SHORT, allow_none=True, metadata=_describe("Stored as E.164, e.g. +5511987654321"))
    mobile = Text(SHORT, allow_none=True)
    email = Text(255, allow_none=True)
    website = Text(A["website"], allow_none=True)
    cep = Text(SHORT, allow_none=True)
    street = Text(A["street"], allow_none=True)
    number = Text(A["number"], allow_none=True)
    complement = Text(A["complement"], allow_none=True)
    district = Text(A["district"], allow_none=True)
    city = Text(A["city"], allow_none=True)
    state = Text(SHORT, allow_none=True, metadata=_describe("UF, e.g. SP"))
    main_activity = Text(A["main_activity"], allow_none=True)
    registry_status = Text(A["registry_status"], allow_none=True)
    opened_on = ma.fields.Date(allow_none=True)
    notes = Text(A["notes"], allow_none=True)
    tag_ids = ma.fields.List(Id())
    external_ref = EXTERNAL_REF


CONFIRM_DUPLICATES = Bool(load_default=False, metadata=_describe(
    "Save even though similar accounts exist (same e-mail, phone or company root): "
    "send it again after a 409 `duplicate` whose `confirmable` is true"))


class AccountCreateSchema(AccountFieldsSchema):
    legal_name = Text(A["legal_name"], required=True)
    confirm_duplicates = CONFIRM_DUPLICATES


class AccountUpdateSchema(AccountFieldsSchema):
    version = Id(metadata=_describe(
        "The version you read; if the account changed since, 409 `stale_version`"))
    confirm_duplicates = CONFIRM_DUPLICATES


class AccountSchema(AccountFieldsSchema):
    id = ma.fields.Integer(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    person_type = ma.fields.String(dump_only=True)
    lifecycle = ma.fields.String(dump_only=True)
    tag_ids = ma.fields.Pluck("TagSchema", "id", many=True, attribute="tags", dump_only=True)
    archived = ma.fields.Boolean(dump_only=True)
    merged_into_id = ma.fields.Integer(dump_only=True, allow_none=True, metadata=_describe(
        "The account this one was merged into (it is then archived); null if none"))
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class AccountListArgsSchema(ListArgs):
    q = Text(200, metadata=_describe(
        "The atomic search: any part of a name, CNPJ/CPF, phone or e-mail"))
    lifecycle = enum(LIFECYCLES)
    owner_id = QueryId()
    category_id = QueryId()
    tag_id = QueryId()
    tax_id = Text(SHORT, metadata=_describe("Exactly this CNPJ/CPF (punctuation is ignored)"))
    external_ref = EXTERNAL_REF_FILTER
    archived = ma.fields.Boolean(load_default=False, metadata=_describe(
        "false (default): active accounts; true: archived ones"))


class DuplicateSchema(Schema):
    """A similar record. One outside the caller's scope comes with ``in_scope`` false and
    no id, name or owner: ask a manager."""

    id = ma.fields.Integer(required=True, allow_none=True)
    name = ma.fields.String(required=True, allow_none=True)
    reason = ma.fields.String(required=True, metadata=_describe(
        "tax_id (blocks saving), tax_id_root, email, phone or name (a similar name)"))
    blocking = ma.fields.Boolean(required=True)
    owner = ma.fields.String(required=True, allow_none=True)
    in_scope = ma.fields.Boolean(required=True, metadata=_describe(
        "false: the record is in another portfolio; id, name and owner are null"))


# --- contacts and their links to accounts ---------------------------------------------------


class ContactFieldsSchema(Schema):
    name = Text(C["name"])
    position = Text(C["position"], allow_none=True, metadata=_describe("Job title"))
    current_system = Text(C["current_system"], allow_none=True, metadata=_describe(
        "The system the person uses today (seed 002, Sistema atual)"))
    phone = Text(SHORT, allow_none=True)
    mobile = Text(SHORT, allow_none=True)
    email = Text(255, allow_none=True)
    notes = Text(C["notes"], allow_none=True)


CONFIRM_CONTACT_DUPLICATES = Bool(load_default=False, metadata=_describe(
    "Save even though contacts with the same e-mail or phone exist: send it again after "
    "a 409 `duplicate` (always confirmable: two people may share an office's phone)"))


class ContactCreateSchema(ContactFieldsSchema):
    name = Text(C["name"], required=True)
    confirm_duplicates = CONFIRM_CONTACT_DUPLICATES
    account_id = Id(metadata=_describe("Also link the new contact to this account"))
    role = Text(contact_rules.ROLE_MAX, allow_none=True, metadata=_describe(
        "The contact's role at `account_id`, e.g. Compras"))


class ContactUpdateSchema(ContactFieldsSchema):
    version = Id(metadata=_describe(
        "The version you read; if the contact changed since, 409 `stale_version`"))
    confirm_duplicates = CONFIRM_CONTACT_DUPLICATES


class ContactSchema(ContactFieldsSchema):
    id = ma.fields.Integer(dump_only=True)
    owner_id = ma.fields.Integer(dump_only=True)
    archived = ma.fields.Boolean(dump_only=True)
    merged_into_id = ma.fields.Integer(dump_only=True, allow_none=True, metadata=_describe(
        "The contact this one was merged into (it is then archived); null if none"))
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ContactListArgsSchema(ListArgs):
    q = Text(200, metadata=_describe("Any part of the name, phone or e-mail"))
    account_id = QueryId(metadata=_describe("Contacts linked to this account"))
    owner_id = QueryId()
    archived = ma.fields.Boolean(load_default=False)


class LinkListArgsSchema(ListArgs):
    archived = ma.fields.Boolean(load_default=False, metadata=_describe(
        "`true`: the account's archived contacts; by default those not archived"))


class LinkCreateSchema(Schema):
    contact_id = Id(required=True)
    role = Text(contact_rules.ROLE_MAX, allow_none=True)


class LinkUpdateSchema(Schema):
    role = Text(contact_rules.ROLE_MAX, required=True, allow_none=True)


class LinkSchema(Schema):
    account_id = ma.fields.Integer(dump_only=True)
    contact_id = ma.fields.Integer(dump_only=True)
    role = ma.fields.String(dump_only=True, allow_none=True)
    created_at = UtcDateTime(dump_only=True)
    contact = ma.fields.Nested(ContactSchema, dump_only=True)


# --- opportunities ------------------------------------------------------------------------


class ItemSchema(Schema):
    description = Text(255, required=True, validate=ma.validate.Length(min=1))
    quantity = DecimalString(3, metadata=_describe("Default 1"))
    unit_price = DecimalString(metadata=_describe("Default 0"))
    total = DecimalString(dump_only=True)


class OpportunityFieldsSchema(Schema):
    title = Text(O["title"])
    account_id = Id()
    contact_id = Id(allow_none=True, metadata=_describe("One of the account's contacts"))
    stage_id = Id(metadata=_describe("Default: the funnel's first stage"))
    owner_id = Id(metadata=_describe("Someone whose records you see; default: you"))
    next_contact_user_id = Id(allow_none=True)
    internal_contact_user_id = Id(allow_none=True)
    expected_close_on = ma.fields.Date(allow_none=True)
    next_contact_on = ma.fields.Date(allow_none=True)
    internal_contact_on = ma.fields.Date(allow_none=True)
    priority = Bool()
    contact_medium = enum(CONTACT_MEDIA, allow_none=True)
    subject_note = Text(O["subject_note"], allow_none=True)
    service_type_id = Id(allow_none=True, metadata=_describe(
        "The kind of attendance: an active one of GET /service-types (or the one it has)"))
    source_campaign = Text(O["source_campaign"], allow_none=True)
    items = ma.fields.List(ma.fields.Nested(ItemSchema),
                           validate=ma.validate.Length(max=opportunity_rules.MAX_ITEMS),
                           metadata=_describe("Replaces every item; the estimated value is "
                                              "their sum"))
    tag_ids = ma.fields.List(Id())
    watcher_ids = ma.fields.List(Id(), metadata=_describe(
        "Users told by e-mail of every change while it is open"))
    external_ref = EXTERNAL_REF


class OpportunityCreateSchema(OpportunityFieldsSchema):
    title = Text(O["title"], required=True)
    account_id = Id(required=True, metadata=_describe("An account you can see"))


class OpportunityUpdateSchema(OpportunityFieldsSchema):
    version = Id(metadata=_describe(
        "The version you read; if the opportunity changed since, 409 `stale_version`"))


class OpportunitySchema(OpportunityFieldsSchema):
    id = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata=_describe("open, won or lost"))
    loss_reason_id = ma.fields.Integer(dump_only=True, allow_none=True)
    loss_note = ma.fields.String(dump_only=True, allow_none=True)
    estimated_value = DecimalString(dump_only=True)
    tag_ids = ma.fields.Pluck("TagSchema", "id", many=True, attribute="tags", dump_only=True)
    watcher_ids = ma.fields.Pluck("UserRefSchema", "id", many=True, attribute="watchers",
                                  dump_only=True)
    archived = ma.fields.Boolean(dump_only=True)
    stage_entered_at = UtcDateTime(dump_only=True)
    closed_at = UtcDateTime(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class OpportunityListArgsSchema(ListArgs):
    account_id = QueryId()
    stage_id = QueryId()
    owner_id = QueryId()
    status = enum(STATUSES, metadata=_describe("Default: any"))
    external_ref = EXTERNAL_REF_FILTER
    archived = ma.fields.Boolean(load_default=False)


class LostSchema(Schema):
    loss_reason_id = Id(required=True, metadata=_describe("See GET /loss-reasons"))
    note = Text(5000, allow_none=True)


class StageMoveSchema(Schema):
    stage_id = Id(required=True, metadata=_describe("See GET /stages"))


# --- actions -------------------------------------------------------------------------------


class ActionFieldsSchema(Schema):
    account_id = Id(metadata=_describe("Default: the opportunity's account"))
    opportunity_id = Id(allow_none=True, metadata=_describe("An opportunity of the account"))
    kind = enum(ACTION_KINDS)
    at = ma.fields.DateTime(metadata=_describe(
        "When it was done or is planned for; ISO 8601, without an offset in your time zone; "
        "default: now"))
    contact_id = Id(allow_none=True, metadata=_describe("One of the account's contacts"))
    description = Text(action_rules.MAX_DESCRIPTION, allow_none=True)
    done = Bool(allow_none=True, metadata=_describe(
        "Default (or null): done if `at` is past, planned if it is to come"))
    user_id = Id(metadata=_describe("Whose action it is; default: you"))


class ActionCreateSchema(ActionFieldsSchema):
    kind = enum(ACTION_KINDS, required=True)


class ActionUpdateSchema(ActionFieldsSchema):
    pass


class ActionSchema(ActionFieldsSchema):
    id = ma.fields.Integer(dump_only=True)
    at = UtcDateTime(dump_only=True)
    done = ma.fields.Boolean(dump_only=True)
    description = ma.fields.String(dump_only=True)
    email_to = ma.fields.String(dump_only=True, allow_none=True)
    email_subject = ma.fields.String(dump_only=True, allow_none=True)
    archived = ma.fields.Boolean(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ActionListArgsSchema(ListArgs):
    account_id = QueryId()
    opportunity_id = QueryId()
    user_id = QueryId()
    done = ma.fields.Boolean()
    kind = enum(ACTION_KINDS)
    since = ma.fields.DateTime(metadata=_describe("At or after (ISO 8601)"))
    until = ma.fields.DateTime(metadata=_describe("Before (ISO 8601)"))
    archived = ma.fields.Boolean(load_default=False)


# --- the settings lists ---------------------------------------------------------------------


class NamedSchema(Schema):
    """An entry of a list, by id and name; each kind has its own name in the document."""

    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True)


class TagSchema(NamedSchema):
    pass


class UserRefSchema(NamedSchema):
    pass


class CategorySchema(NamedSchema):
    pass


class StageSchema(NamedSchema):
    sequence = ma.fields.Integer(dump_only=True)


class LossReasonSchema(NamedSchema):
    pass


class ServiceTypeSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True, metadata=_describe("As the company writes it"))
    active = ma.fields.Boolean(dump_only=True, metadata=_describe(
        "Only an active type may be given to an opportunity (one keeps its inactive type)"))
    position = ma.fields.Integer(dump_only=True)
    is_default = ma.fields.Boolean(dump_only=True, metadata=_describe(
        "The one suggested for a new opportunity (at most one)"))


AccountPageSchema = page_schema(AccountSchema, "AccountPage")
ContactPageSchema = page_schema(ContactSchema, "ContactPage")
LinkPageSchema = page_schema(LinkSchema, "AccountContactPage")
OpportunityPageSchema = page_schema(OpportunitySchema, "OpportunityPage")
ActionPageSchema = page_schema(ActionSchema, "ActionPage")
