"""Creating, editing and archiving accounts; the prospect → customer rule; duplicates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select, union

from erp.auth import in_scope
from erp.auth.models import User
from erp.db import db, utcnow
from erp.errors import Conflict, Duplicate, InvalidInput
from erp.i18n import module_i18n
from erp.params import parse_int
from erp.validation import Errors, Invalid, choice, record, record_id, text

from ..lookup import normalize_status
from ..models import LIFECYCLE_CUSTOMER, LIFECYCLE_PROSPECT, Account, AccountEvent, Category, Tag
from ..models.duplicates import name_key
from ..models.events import EVENT_CREATED
from . import validation as v
from .duplicates import name_duplicates
from .external_refs import clean_external_ref

_l = module_i18n(__name__).lazy_gettext

TEXT_FIELDS = {  # field -> maximum length
    "legal_name": 200, "trade_name": 200, "short_name": 60, "website": 255, "street": 200,
    "number": 20, "complement": 100, "district": 100, "city": 100, "main_activity": 255,
    "registry_status": 40, "notes": 20_000,
}
FIELDS = (*TEXT_FIELDS, "person_type", "tax_id", "state_registration", "state", "cep", "phone",
          "mobile", "email", "category_id", "owner_id", "priority", "opened_on", "tag_ids",
          "lifecycle", "external_ref")
LIFECYCLES = (LIFECYCLE_PROSPECT, LIFECYCLE_CUSTOMER)
TAX_ID_TAKEN = _l("This CNPJ/CPF is already registered.")
# The same tax id on an account outside the user's scope: neither its name nor its owner.
TAX_ID_TAKEN_ELSEWHERE = _l("An account with this CNPJ/CPF already exists in another "
                            "portfolio; ask a manager.")
# The external reference (issue 19) of another account: named if the user sees it.
EXTERNAL_REF_TAKEN_ELSEWHERE = _l("Another account, in another portfolio, already has "
                                  "this external reference; ask a manager.")


def _external_ref_taken(account: Account) -> str:
    return _l("Another account already has this external reference (%(name)s).",
              name=account.display_name)


def clean_account(data: Mapping[str, Any], *, user, current: Account | None = None
                  ) -> dict[str, Any]:
    """Validate and normalize account input; raises :class:`InvalidInput` with per-field errors.

    Only the keys present in ``data`` are cleaned (an update may send a subset);
    the rules that involve several fields look at the merged result.
    """
    errors = Errors()
    errors.unknown(data, FIELDS)
    out: dict[str, Any] = errors.texts(data, TEXT_FIELDS)
    if out.get("registry_status"):  # "Ativa" or "ATIVA": one value (issue 19)
        out["registry_status"] = normalize_status(out["registry_status"])
    _clean_identity(data, current, out, errors)
    _clean_address(data, current, out, errors)
    _clean_channels(data, out, errors)
    _clean_details(data, out, errors)
    _clean_owner(data, user, current, out, errors)
    clean_external_ref(data, out, errors, model=Account, current=current, user=user,
                       taken=_external_ref_taken, taken_elsewhere=EXTERNAL_REF_TAKEN_ELSEWHERE)
    _check_required(out, current, errors)
    errors.raise_if_any()
    if out.get("tax_id"):
        out["tax_id_root"] = v.cnpj_root(out["tax_id"])
    elif "tax_id" in out:
        out["tax_id_root"] = None
    return out


def _merged(out: dict, current: Account | None, field: str) -> Any:
    """The value after the change: the input's if given, else the account's."""
    return out[field] if field in out else getattr(current, field, None)


def _given_id(value: Any) -> Any:
    """A form's or a spreadsheet's 0 for "none" is no id."""
    return None if value in (0, "0") else value


def _clean_identity(data: Mapping, current: Account | None, out: dict, errors: Errors) -> None:
    """The person type (guessed from the tax id), the lifecycle and the CNPJ/CPF."""
    if "person_type" in data or current is None:
        out["person_type"] = (text(data.get("person_type")) or v.guess_person_type(
            v.normalize_tax_id(data.get("tax_id"))) or "PJ").upper()
        if out["person_type"] not in v.PERSON_TYPES:
            errors.add("person_type", _l("Choose company (PJ) or person (PF)."))
    if "lifecycle" in data or current is None:
        out["lifecycle"] = errors.clean(
            "lifecycle", choice, data.get("lifecycle"), choices=LIFECYCLES,
            message=_l("Choose prospect or customer.")) or LIFECYCLE_PROSPECT
    if "tax_id" in data or ("person_type" in data and current is not None):
        out["tax_id"] = errors.clean(
            "tax_id", v.validate_tax_id, data.get("tax_id", getattr(current, "tax_id", None)),
            person_type=_merged(out, current, "person_type")) or None


def _clean_address(data: Mapping, current: Account | None, out: dict, errors: Errors) -> None:
    """The state (UF), the state registration (valid for that state) and the CEP."""
    if "state" in data:
        out["state"] = text(data["state"]).upper() or None
        if out["state"] and out["state"] not in v.BR_STATES:
            errors.add("state", _l("Choose a Brazilian state (UF)."))
    if "state_registration" in data or "state" in data:
        raw = data.get("state_registration", getattr(current, "state_registration", None))
        out["state_registration"] = errors.clean(
            "state_registration", v.validate_state_registration, raw,
            state=_merged(out, current, "state")) or None
    if "cep" in data:
        out["cep"] = errors.clean("cep", v.validate_cep, text(data["cep"])) or None


def _clean_channels(data: Mapping, out: dict, errors: Errors) -> None:
    """Phones in E.164, the e-mail normalized, the website with its scheme."""
    for field, parser in (("phone", v.normalize_phone), ("mobile", v.normalize_phone),
                          ("email", v.normalize_email)):
        if field in data:
            out[field] = errors.clean(field, parser, text(data[field])) or None
    website = out.get("website")
    if website and " " in website:
        errors.add("website", _l("A web address has no spaces."))
    elif website and "://" not in website:
        out["website"] = "https://" + website


def _iso_date(value: Any) -> date | None:
    """The API's date, ``2026-12-31`` (or a date); anything else is no date."""
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise Invalid(_l("Use a date such as 2026-12-31.")) from None
    return value if isinstance(value, date) else None


def _clean_details(data: Mapping, out: dict, errors: Errors) -> None:
    """Priority, opening date, category and tags."""
    if "priority" in data:
        out["priority"] = bool(data["priority"])
    if "opened_on" in data:
        out["opened_on"] = errors.clean("opened_on", _iso_date, data["opened_on"])
    if "category_id" in data:
        category = errors.clean("category_id", record, _given_id(data["category_id"]),
                                model=Category, message=_l("Choose an existing category."))
        out["category_id"] = category.id if category is not None else None
    if "tag_ids" in data:
        ids = {n for t in data["tag_ids"] or () if (n := parse_int(t, min=1)) is not None}
        tags = list(db.session.scalars(select(Tag).where(Tag.id.in_(ids)))) if ids else []
        if len(tags) != len(ids):
            errors.add("tag_ids", _l("Choose existing tags."))
        out["tags"] = tags


def _clean_owner(data: Mapping, user, current: Account | None, out: dict,
                 errors: Errors) -> None:
    """An active user whose records ``user`` sees (the user by default)."""
    if "owner_id" not in data and current is not None:
        return
    message = _l("Choose an active user.")
    owner_id = errors.clean("owner_id", record_id, _given_id(data.get("owner_id")),
                            message=message)
    if "owner_id" in errors:
        return
    owner_id = owner_id or user.id
    # The user themself needs no look-up (an import checks 100,000 rows, twice).
    owner = user if owner_id == user.id and isinstance(user, User) else (
        db.session.get(User, owner_id))
    if owner is None or not owner.is_active:
        errors.add("owner_id", message)
    elif owner_id != getattr(current, "owner_id", None) and not in_scope(owner_id, user):
        errors.add("owner_id", _l("You may only assign accounts to people whose records "
                                  "you see."))
    out["owner_id"] = owner_id


def _check_required(out: dict, current: Account | None, errors: Errors) -> None:
    """A prospect needs only a name; a customer needs its tax data (seed 002)."""
    if not _merged(out, current, "legal_name"):
        errors.add("legal_name", _l("The name is required."))
    if _merged(out, current, "lifecycle") != LIFECYCLE_CUSTOMER:
        return
    if not _merged(out, current, "tax_id") and "tax_id" not in errors:
        errors.add("tax_id", _l("A customer needs a CNPJ or CPF."))
    if (_merged(out, current, "person_type") == "PJ"
            and not _merged(out, current, "state_registration")
            and "state_registration" not in errors):
        errors.add("state_registration",
                   _l("A company customer needs its state registration, or ISENTO."))


def duplicate_checks(values: Mapping[str, Any], exclude_id: int | None = None) -> list:
    """The SELECTs behind :func:`find_duplicates`: ``(reason, statement, blocking)``, the
    strongest reason first; each reads an index, whatever the table's size."""
    conditions = []
    if values.get("tax_id"):
        conditions.append(("tax_id", Account.tax_id == values["tax_id"], True))
    if values.get("tax_id_root"):
        conditions.append(("tax_id_root", Account.tax_id_root == values["tax_id_root"], False))
    if values.get("email"):
        conditions.append(("email", Account.email == values["email"], False))
    statements = [(reason, select(Account).where(condition), blocking)
                  for reason, condition, blocking in conditions]
    phones = [p for p in (values.get("phone"), values.get("mobile")) if p]
    if phones:
        # The accounts joined to a UNION of the two indexed lookups: "phone IN … OR
        # mobile IN …", or "id IN (the union)", may read the whole table in id order.
        either = union(select(Account.id).where(Account.phone.in_(phones)),
                       select(Account.id).where(Account.mobile.in_(phones))).subquery()
        statements.append(("phone", select(Account).join(either, Account.id == either.c.id),
                           False))
    checks = []
    for reason, statement, blocking in statements:
        statement = statement.order_by(Account.id).limit(5)
        if exclude_id is not None:
            statement = statement.where(Account.id != exclude_id)
        checks.append((reason, statement, blocking))
    return checks


def find_duplicates(values: Mapping[str, Any], exclude_id: int | None = None,
                    user=None) -> list[Duplicate]:
    """Existing accounts with the same tax id (blocking), CNPJ root, e-mail or phone.

    With ``user``, each says whether it is within the user's scope: one outside it is
    reported without its name, owner or link (``Duplicate.visible``), else any rep could
    look up who holds any CNPJ in the company by trying to register it.
    """
    found: dict[int, Duplicate] = {}
    for reason, statement, blocking in duplicate_checks(values, exclude_id):
        for account in db.session.scalars(statement):
            if account.id not in found:  # the strongest reason wins (checked first)
                visible = user is None or in_scope(account.owner_id, user)
                found[account.id] = Duplicate(account, reason, blocking, visible)
    if values.get("legal_name") or values.get("trade_name"):  # a similar name (issue 17)
        found.update((d.record.id, d) for d in name_duplicates(values, exclude_id, user,
                                                                set(found)))
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


def create_account(data: Mapping[str, Any], *, user, confirm_duplicates: bool = False,
                   source: str = "web") -> Account:
    """A new account, with its "account created" timeline event (``source``: "web",
    "api"; an import writes its events in bulk: importers/accounts.py)."""
    values = clean_account(data, user=user)
    _check_duplicates(values, None, confirm_duplicates, user)
    account = Account(**values)
    db.session.add(account)
    db.session.flush()
    db.session.add(AccountEvent(account_id=account.id, kind=EVENT_CREATED,
                                user_id=getattr(user, "id", None), source=source))
    db.session.commit()
    return account


def record_created_events(account_ids: list[int], user, source: str) -> None:
    """The "account created" events of accounts an import inserted in bulk: one
    executemany, in the import's transaction (undoing the import deletes the accounts,
    and their events with them)."""
    if not account_ids:
        return
    at, user_id = utcnow(), getattr(user, "id", None)
    db.session.connection().execute(AccountEvent.__table__.insert(), [
        {"account_id": ident, "at": at, "kind": EVENT_CREATED, "user_id": user_id,
         "source": source} for ident in account_ids])


def update_account(account: Account, data: Mapping[str, Any], *, user,
                   expected_version: int | None = None,
                   confirm_duplicates: bool = False) -> Account:
    """Apply ``data`` unless someone else saved the account since ``expected_version``."""
    if expected_version is not None and expected_version != account.version:
        raise Conflict(current_version=account.version)
    values = clean_account(data, user=user, current=account)
    changed_identity = {k: values[k] for k in ("tax_id", "tax_id_root", "email", "phone",
                                               "mobile") if k in values}
    # A name is compared when it changes (else each edit would ask again about its likes).
    for name in ("legal_name", "trade_name"):
        if name in values and name_key(values[name]) != name_key(getattr(account, name)):
            changed_identity[name] = values[name]
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
