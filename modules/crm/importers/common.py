"""What the three importers share: cell readers (flags, users by login, dates), the
message of a refused row, and the accounts that contacts and opportunities refer to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select

from erp.auth.models import User
from erp.db import db, one_of
from erp.errors import InvalidInput
from erp.formats import parse_date
from erp.i18n import module_i18n
from erp.imports import ImportField, RowError, cell_text
from erp.imports.cells import padded_tax_id
from erp.imports.reading import normalize_header

from ..models import (
    Account,
)
from ..services import validation as v
from ..services.scope import account_scope

_ = module_i18n(__name__).gettext

YES = {"1", "x", "s", "sim", "y", "yes", "true", "verdadeiro", "v"}
NO = {"", "0", "n", "nao", "no", "false", "falso", "f"}


def _field(name: str, label, *aliases: str, required: bool = False, help="", choices=None,
           guess=None):
    return ImportField(name, label, required, aliases, help, choices, guess)


# --- enumerations: what the mapping step offers for each value found (issue 19) ---------

STATE_NAMES = {
    "acre": "AC", "alagoas": "AL", "amazonas": "AM", "amapa": "AP", "bahia": "BA",
    "ceara": "CE", "distrito federal": "DF", "espirito santo": "ES", "goias": "GO",
    "maranhao": "MA", "minas gerais": "MG", "mato grosso do sul": "MS", "mato grosso": "MT",
    "para": "PA", "paraiba": "PB", "pernambuco": "PE", "piaui": "PI", "parana": "PR",
    "rio de janeiro": "RJ", "rio grande do norte": "RN", "rondonia": "RO", "roraima": "RR",
    "rio grande do sul": "RS", "santa catarina": "SC", "sergipe": "SE", "sao paulo": "SP",
    "tocantins": "TO"}


def state_choices() -> list[tuple[str, Any]]:
    return [(uf, uf) for uf in v.BR_STATES]


def guess_state(text: str) -> str | None:
    """"sp", "São Paulo", "SAO PAULO" -> "SP"."""
    key = _key(text)
    if key.upper() in v.BR_STATES:
        return key.upper()
    return STATE_NAMES.get(key)


def owner_choices() -> list[tuple[str, Any]]:
    """The active users, by login."""
    return [(user.username, f"{user.name} ({user.username})") for user in db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.name, User.id))]


def guess_owner(text: str) -> str | None:
    """A user by login, e-mail or name (without case or accents)."""
    wanted = _key(text)
    if not wanted:
        return None
    lowered = (text or "").strip().lower()
    user = db.session.scalar(select(User).where(
        User.active.is_(True),
        or_(func.lower(User.username) == lowered, func.lower(User.email) == lowered)))
    if user is not None:
        return user.username
    found = [u for u in db.session.scalars(select(User).where(User.active.is_(True)))
             if _key(u.name) == wanted]
    return found[0].username if len(found) == 1 else None


def _text(values: dict, name: str) -> str:
    return cell_text(values.get(name))


def _key(text: str) -> str:
    """How names are compared: no case, accents or punctuation."""
    return normalize_header(text)


def _flag(values: dict, name: str, label) -> bool | None:
    if name not in values:
        return None
    text = _key(_text(values, name))
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowError(_("%(field)s: use yes or no (sim/não).", field=label))


def _message(error: InvalidInput, labels: dict[str, Any]) -> str:
    """A service's per-field errors as one line: "CNPJ/CPF: Invalid CNPJ...; E-mail: ..."."""
    parts = []
    for name, messages in error.errors.items():
        label = labels.get(name) or labels.get(name.split("-")[0]) or name
        parts.append(f"{label}: " + " ".join(str(m) for m in messages))
    return " ".join(parts) or _("This record looks like an existing one.")


def _users_by_login(logins: set[str]) -> dict[str, User]:
    lowered = {login.strip().lower() for login in logins if login.strip()}
    if not lowered:
        return {}
    found: dict[str, User] = {}
    for user in db.session.scalars(select(User).where(
            or_(func.lower(User.email).in_(lowered), func.lower(User.username).in_(lowered)))):
        found[user.email.lower()] = found[user.username.lower()] = user
    return found


def _user_id(values: dict, name: str, users: dict[str, User], label) -> int | None:
    login = _text(values, name).lower()
    if not login:
        return None
    user = users.get(login)
    if user is None or not user.is_active:
        raise RowError(_("%(field)s: no active user with the login or e-mail %(login)s.",
                         field=label, login=login))
    return user.id


def _date(values: dict, name: str, label):
    try:
        return parse_date(values[name])
    except (TypeError, ValueError):
        raise RowError(_("%(field)s: use a date such as 31/12/2026.", field=label)) from None


# --- accounts referred to by contacts and opportunities ----------------------------------


def _as_tax_id(text: str) -> str | None:
    number = v.normalize_tax_id(padded_tax_id(text))
    return number if v.guess_person_type(number) else None


@dataclass
class AccountRefs:
    """Accounts the user sees, by normalized CNPJ/CPF and by name (legal or trade)."""

    by_tax_id: dict[str, Account] = field(default_factory=dict)
    by_name: dict[str, list[Account]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, refs: set[str], user) -> AccountRefs:
        found = cls()
        tax_ids = {t for t in (_as_tax_id(r) for r in refs) if t}
        if tax_ids:
            for account in db.session.scalars(select(Account).where(
                    one_of(Account.tax_id, tax_ids), account_scope(user))):
                found.by_tax_id[account.tax_id] = account
        names = {r for r in refs if r}
        if names:
            lowered = {n.lower() for n in names}
            statement = select(Account).where(account_scope(user), or_(
                one_of(Account.legal_name, names), one_of(Account.trade_name, names),
                one_of(func.lower(Account.legal_name), lowered),
                one_of(func.lower(Account.trade_name), lowered)))
            wanted = {_key(n) for n in names}
            for account in db.session.scalars(statement):
                for name in {account.legal_name, account.trade_name} - {None}:
                    if _key(name) in wanted and account not in found.by_name[_key(name)]:
                        found.by_name[_key(name)].append(account)
        return found

    def find(self, ref: str, label) -> Account:
        tax_id = _as_tax_id(ref)
        if tax_id and tax_id in self.by_tax_id:
            return self.by_tax_id[tax_id]
        matches = self.by_name.get(_key(ref), [])
        active = [a for a in matches if not a.archived]
        if len(active) == 1 or len(matches) == 1:
            return (active or matches)[0]
        if matches:
            raise RowError(_("%(field)s: %(n)d accounts are named %(name)s; use the CNPJ/CPF.",
                             field=label, n=len(matches), name=ref))
        raise RowError(_("%(field)s: no account %(ref)s among those you can see.",
                         field=label, ref=ref))

def _email_key(text: str) -> str | None:
    """The stored form of an address for looking it up: ``normalize_email`` lower-cases the
    domain. Cheaper than validating it (done once, by the service): 100,000 rows."""
    local, at, domain = (text or "").strip().rpartition("@")
    return f"{local}@{domain.lower()}" if at and local and domain else None
