"""Creating, editing and archiving accounts; the prospect → customer rule; duplicates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from erp.auth import in_scope
from erp.auth.models import User
from erp.db import db
from erp.params import parse_int

from .. import validation as v
from ..models import LIFECYCLE_CUSTOMER, LIFECYCLE_PROSPECT, Account, Category, Tag
from .errors import Conflict, Duplicate, InvalidInput

TEXT_FIELDS = {  # field -> maximum length
    "legal_name": 200, "trade_name": 200, "short_name": 60, "website": 255, "street": 200,
    "number": 20, "complement": 100, "district": 100, "city": 100, "main_activity": 255,
    "registry_status": 40, "notes": 20_000,
}
FIELDS = (*TEXT_FIELDS, "person_type", "tax_id", "state_registration", "state", "cep", "phone",
          "mobile", "email", "category_id", "owner_id", "priority", "opened_on", "tag_ids",
          "lifecycle")
TAX_ID_TAKEN = _l("This CNPJ/CPF is already registered.")
# The same tax id on an account outside the user's scope: neither its name nor its owner.
TAX_ID_TAKEN_ELSEWHERE = _l("An account with this CNPJ/CPF already exists in another "
                            "portfolio; ask a manager.")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def clean_account(data: Mapping[str, Any], *, user, current: Account | None = None
                  ) -> dict[str, Any]:
    """Validate and normalize account input; raises :class:`InvalidInput` with per-field errors.

    Only the keys present in ``data`` are cleaned (an update may send a subset);
    the rules that involve several fields look at the merged result.
    """
    errors: dict[str, list] = {}
    out: dict[str, Any] = {}

    def fail(field: str, message) -> None:
        errors.setdefault(field, []).append(message)

    unknown = set(data) - set(FIELDS)
    for field in sorted(unknown):
        fail(field, _l("Unknown field."))

    for field, limit in TEXT_FIELDS.items():
        if field in data:
            out[field] = _text(data[field])
            if out[field] and len(out[field]) > limit:
                fail(field, _l("At most %(n)d characters.", n=limit))

    def merged(field: str) -> Any:
        if field in out:
            return out[field]
        return getattr(current, field, None) if current is not None else None

    if "person_type" in data or current is None:
        person_type = _text(data.get("person_type")) or (
            v.guess_person_type(v.normalize_tax_id(data.get("tax_id"))) or "PJ")
        out["person_type"] = person_type.upper()
        if out["person_type"] not in v.PERSON_TYPES:
            fail("person_type", _l("Choose company (PJ) or person (PF)."))
    person_type = merged("person_type")

    if "lifecycle" in data or current is None:
        out["lifecycle"] = _text(data.get("lifecycle")) or LIFECYCLE_PROSPECT
        if out["lifecycle"] not in (LIFECYCLE_PROSPECT, LIFECYCLE_CUSTOMER):
            fail("lifecycle", _l("Choose prospect or customer."))

    if "tax_id" in data or ("person_type" in data and current is not None):
        raw = data.get("tax_id", getattr(current, "tax_id", None))
        try:
            out["tax_id"] = v.validate_tax_id(raw, person_type) or None
        except v.ValidationError as error:
            fail("tax_id", error.message)

    if "state" in data:
        out["state"] = (_text(data["state"]) or "").upper() or None
        if out["state"] and out["state"] not in v.BR_STATES:
            fail("state", _l("Choose a Brazilian state (UF)."))
    if "state_registration" in data or "state" in data:
        raw = data.get("state_registration", getattr(current, "state_registration", None))
        try:
            out["state_registration"] = v.validate_state_registration(raw, merged("state")) or None
        except v.ValidationError as error:
            fail("state_registration", error.message)

    for field, clean in (("phone", v.normalize_phone), ("mobile", v.normalize_phone),
                         ("email", v.normalize_email), ("cep", v.validate_cep)):
        if field in data:
            try:
                out[field] = clean(_text(data[field])) or None
            except v.ValidationError as error:
                fail(field, error.message)

    if out.get("website") and " " in out["website"]:
        fail("website", _l("A web address has no spaces."))
    elif out.get("website") and "://" not in out["website"]:
        out["website"] = "https://" + out["website"]

    if "priority" in data:
        out["priority"] = bool(data["priority"])

    if "opened_on" in data:
        value = data["opened_on"]
        if isinstance(value, str) and value.strip():
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                fail("opened_on", _l("Use a date such as 2026-12-31."))
        out["opened_on"] = value if isinstance(value, date) else None

    if "category_id" in data:
        out["category_id"] = _int_or_none(data["category_id"])
        if out["category_id"] and db.session.get(Category, out["category_id"]) is None:
            fail("category_id", _l("Choose an existing category."))

    if "owner_id" in data or current is None:
        owner_id = _int_or_none(data.get("owner_id")) or user.id
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.is_active:
            fail("owner_id", _l("Choose an active user."))
        elif owner_id != getattr(current, "owner_id", None) and not in_scope(owner_id, user):
            fail("owner_id", _l("You may only assign accounts to people whose records you see."))
        out["owner_id"] = owner_id

    if "tag_ids" in data:
        ids = {n for t in data["tag_ids"] or () if (n := parse_int(t, min=1)) is not None}
        tags = list(db.session.scalars(select(Tag).where(Tag.id.in_(ids)))) if ids else []
        if len(tags) != len(ids):
            fail("tag_ids", _l("Choose existing tags."))
        out["tags"] = tags

    if not merged("legal_name"):
        fail("legal_name", _l("The name is required."))
    if merged("lifecycle") == LIFECYCLE_CUSTOMER:
        # A prospect needs only a name; a customer needs its tax data (seed 002).
        if not merged("tax_id") and "tax_id" not in errors:
            fail("tax_id", _l("A customer needs a CNPJ or CPF."))
        if (person_type == "PJ" and not merged("state_registration")
                and "state_registration" not in errors):
            fail("state_registration",
                 _l("A company customer needs its state registration, or ISENTO."))

    if errors:
        raise InvalidInput(errors)
    if out.get("tax_id"):
        out["tax_id_root"] = v.cnpj_root(out["tax_id"])
    elif "tax_id" in out:
        out["tax_id_root"] = None
    return out


def _int_or_none(value: Any) -> int | None:
    if value in (None, "", 0, "0", "__None"):
        return None
    return parse_int(value, -1)  # -1, never an id: reported as "choose an existing ..."


def find_duplicates(values: Mapping[str, Any], exclude_id: int | None = None,
                    user=None) -> list[Duplicate]:
    """Existing accounts with the same tax id (blocking), CNPJ root, e-mail or phone.

    With ``user``, each says whether it is within the user's scope: one outside it is
    reported without its name, owner or link (``Duplicate.visible``), else any rep could
    look up who holds any CNPJ in the company by trying to register it.
    """
    checks = []
    if values.get("tax_id"):
        checks.append(("tax_id", Account.tax_id == values["tax_id"], True))
    if values.get("tax_id_root"):
        checks.append(("tax_id_root", Account.tax_id_root == values["tax_id_root"], False))
    if values.get("email"):
        checks.append(("email", Account.email == values["email"], False))
    phones = [p for p in (values.get("phone"), values.get("mobile")) if p]
    if phones:
        checks.append(("phone", or_(Account.phone.in_(phones), Account.mobile.in_(phones)),
                       False))
    found: dict[int, Duplicate] = {}
    for reason, condition, blocking in checks:
        statement = select(Account).where(condition).order_by(Account.id).limit(5)
        if exclude_id is not None:
            statement = statement.where(Account.id != exclude_id)
        for account in db.session.scalars(statement):
            if account.id not in found:  # the strongest reason wins (checked first)
                visible = user is None or in_scope(account.owner_id, user)
                found[account.id] = Duplicate(account, reason, blocking, visible)
    return list(found.values())


def _check_duplicates(values: dict, exclude_id: int | None, confirmed: bool, user) -> None:
    duplicates = find_duplicates(values, exclude_id, user)
    blocking = [d for d in duplicates if d.blocking]
    if blocking:
        message = (TAX_ID_TAKEN if any(d.visible for d in blocking)
                   else TAX_ID_TAKEN_ELSEWHERE)
        raise InvalidInput({"tax_id": [message]}, duplicates)
    if duplicates and not confirmed:
        raise InvalidInput({}, duplicates)


def create_account(data: Mapping[str, Any], *, user, confirm_duplicates: bool = False) -> Account:
    values = clean_account(data, user=user)
    _check_duplicates(values, None, confirm_duplicates, user)
    account = Account(**values)
    db.session.add(account)
    db.session.commit()
    return account


def update_account(account: Account, data: Mapping[str, Any], *, user,
                   expected_version: int | None = None,
                   confirm_duplicates: bool = False) -> Account:
    """Apply ``data`` unless someone else saved the account since ``expected_version``."""
    if expected_version is not None and expected_version != account.version:
        raise Conflict(current_version=account.version)
    values = clean_account(data, user=user, current=account)
    changed_identity = {k: values[k] for k in ("tax_id", "tax_id_root", "email", "phone",
                                               "mobile") if k in values}
    if changed_identity:
        _check_duplicates(changed_identity, account.id, confirm_duplicates, user)
    for key, value in values.items():
        setattr(account, key, value)
    db.session.commit()
    return account


def set_archived(account: Account, archived: bool) -> None:
    account.archived = archived
    db.session.commit()


def promote_to_customer(account: Account) -> bool:
    """The lifecycle rule: a prospect becomes a customer when it is won or invoiced.

    Called by other modules (a won opportunity, an issued invoice). Returns True if
    the account changed. The caller commits, as part of its own transaction.
    """
    if account.lifecycle == LIFECYCLE_CUSTOMER:
        return False
    account.lifecycle = LIFECYCLE_CUSTOMER
    return True
