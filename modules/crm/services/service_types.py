"""The company's list of service types (seed 002, "Tipo de atendimento"; crm 0020,
issue 17): which ones a form offers, the default it suggests, a name read from an import,
and the rules an administrator's change must follow (admin.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select, update

from erp.db import db
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.validation import Invalid, integer, record_id, text

from ..models import Opportunity, ServiceType
from ..models.search_text import fold

_l = module_i18n(__name__).lazy_gettext

NAME_MAX = 80
# The list a new database starts with (crm 0020 inserts the same): company data, so
# named in the company's language (pt-BR), not translated; the first is the default.
DEFAULT_SERVICE_TYPES = ("Acompanhamento de vendas", "Primeiro contato", "Demonstração",
                         "Visita", "Proposta", "Negociação", "Pós-venda", "Outro")


def ensure_defaults() -> None:
    """The built-in list, for a database that has no service type (tests, demo)."""
    if db.session.scalar(select(ServiceType.id).limit(1)) is None:
        db.session.add_all(ServiceType(name=name, position=10 * (i + 1), active=True,
                                       is_default=i == 0)
                           for i, name in enumerate(DEFAULT_SERVICE_TYPES))
        db.session.flush()


def service_types() -> list[ServiceType]:
    """Every type, active or not, in the list's order."""
    return list(db.session.scalars(
        select(ServiceType).order_by(ServiceType.position, ServiceType.name, ServiceType.id)))


def choosable(current_id: int | None = None) -> list[ServiceType]:
    """What a form offers: the active types, and the one an opportunity has already even
    if it was deactivated since (editing it does not lose it)."""
    return [t for t in service_types() if t.active or t.id == current_id]


def default_id() -> int | None:
    """The type suggested on a new opportunity ("padrão para vendas"), if one is active."""
    return db.session.scalar(select(ServiceType.id).where(ServiceType.is_default.is_(True),
                                                          ServiceType.active.is_(True)))


def by_name(name: Any) -> ServiceType | None:
    """The type named so, case and accents aside ("demonstracao" is "Demonstração")."""
    typed = fold(text(name))
    if not typed:
        return None
    return next((t for t in service_types() if fold(t.name) == typed), None)


def service_type_id(value: Any, *, current_id: int | None = None) -> int | None:
    """A parser (erp.validation style): the id of an active type, or the one the record
    has already; None when blank. Invalid otherwise."""
    message = _l("Choose an active service type from the list.")
    chosen = record_id(value, message=message)
    if chosen is None:
        return None
    found = db.session.get(ServiceType, chosen)
    if found is None or not (found.active or chosen == current_id):
        raise Invalid(message)
    return chosen


def in_use(service_type: ServiceType) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Opportunity.service_type_id == service_type.id))))


def check(service_type: ServiceType) -> None:
    """An administrator's change (admin.py), before it is saved: a name that is new (case
    and accents aside), a position, a default that is active and the only one. Raises
    InvalidInput with the messages per field. (Flask-Admin has added a new one to the
    session already: nothing is flushed before the rules are met.)"""
    with db.session.no_autoflush:
        _check(service_type)


def _check(service_type: ServiceType) -> None:
    errors: dict[str, list] = {}
    try:
        name = text(service_type.name, required=True, max_length=NAME_MAX,
                    message=_l("Give the service type a name, at most %(n)d characters.",
                               n=NAME_MAX))
    except Invalid as error:
        errors["name"] = [error.message]
    else:
        service_type.name = name
        others = [t for t in service_types() if t is not service_type]
        if any(fold(t.name) == fold(name) for t in others):
            errors["name"] = [_l("There is already a service type named %(name)s.",
                                 name=name)]
    try:
        service_type.position = integer(
            service_type.position if service_type.position is not None else 0,
            minimum=0, maximum=100000, message=_l("Use a whole number from 0 to 100000."))
    except Invalid as error:
        errors["position"] = [error.message]
    service_type.active = bool(service_type.active)
    service_type.is_default = bool(service_type.is_default)
    if service_type.is_default and not service_type.active:
        errors["is_default"] = [_l("The default service type must be active.")]
    if errors:
        raise InvalidInput(errors)
    if service_type.is_default:  # the one default: the others stop being it
        statement = update(ServiceType).where(ServiceType.is_default.is_(True))
        if service_type.id is not None:
            statement = statement.where(ServiceType.id != service_type.id)
        db.session.execute(statement.values(is_default=False),
                           execution_options={"synchronize_session": "fetch"})
