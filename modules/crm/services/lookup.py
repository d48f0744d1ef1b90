"""CRM's CNPJ lookup service: registry data for a CNPJ, from the cache
(``crm_cnpj_lookup``) when young enough, else from the configured provider (``lookup.py``),
never raising for a provider's failure. See ``lookup.py`` for the configuration keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import LazyString
from sqlalchemy.exc import IntegrityError

from erp.db import db, utcnow
from erp.i18n import date_filter, module_i18n

from ..lookup import (
    CnpjLookupError,
    CompanyData,
    LookupProvider,
    get_provider,
    provider_name,
    status_label,
)
from ..models.lookup_cache import CnpjLookup
from .validation import ValidationError, validate_tax_id

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

logger = logging.getLogger(__name__)

DEFAULT_CACHE_DAYS = 30

# The messages the user sees, one per error code (English source text, translated lazily).
MESSAGES: dict[str, LazyString] = {
    "not_found": _l(
        "No company with this CNPJ was found in the public registry. "
        "Check the number, or fill in the form by hand."
    ),
    "rate_limited": _l(
        "The CNPJ service received too many requests. "
        "Wait a minute and try again, or fill in the form by hand."
    ),
    "timeout": _l(
        "The CNPJ service did not answer in time. Try again, or fill in the form by hand."
    ),
    "unavailable": _l(
        "The CNPJ service is not available at the moment. "
        "Try again later, or fill in the form by hand."
    ),
    "mismatch": _l(
        "The CNPJ service answered with another company's data than the CNPJ asked for: "
        "nothing was filled in. Try again, or fill in the form by hand."
    ),
    "invalid": _l("This is not a valid CNPJ. Check the number and try again."),
    "disabled": _l("The CNPJ lookup is switched off. Fill in the form by hand."),
}

# The HTTP status a route answers with, for each error code.
HTTP_STATUS = {
    "not_found": 404,
    "rate_limited": 429,
    "timeout": 504,
    "unavailable": 502,
    "mismatch": 502,
    "invalid": 400,
    "disabled": 503,
}

@dataclass(frozen=True)
class LookupResult:
    """What :func:`lookup_cnpj` found.

    ``data`` is None when nothing can be shown; ``error`` (a lazily translated message for
    the user) and ``error_code`` are set on failure, and also when stale cached data is
    returned because the provider failed (``data`` and ``error`` both set).
    """

    data: CompanyData | None
    provider: str
    fetched_at: datetime
    from_cache: bool = False
    error: str | LazyString | None = None
    error_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None and self.error_code is None

    @property
    def status_warning(self) -> str | None:
        """For a company whose registration is not active (closed, unfit, suspended,
        void): a warning naming the status, translated, and since when; else None."""
        return status_warning(self.data)


def status_warning(data: CompanyData | None) -> str | None:
    """The warning a company not active deserves (see :attr:`LookupResult.status_warning`)."""
    if data is None or data.is_active:
        return None
    label = status_label(data.status)
    if data.status_on is not None:
        return _("The Receita Federal lists this company as %(status)s since %(date)s: "
                 "check before doing business with it.",
                 status=label, date=date_filter(data.status_on))
    return _("The Receita Federal lists this company as %(status)s: check before doing "
             "business with it.", status=label)


# --- The service ----------------------------------------------------------------------------


def lookup_cnpj(
    cnpj: str, *, refresh: bool = False, provider: LookupProvider | None = None
) -> LookupResult:
    """Registry data for ``cnpj``, from the cache when young enough, else from the provider.

    Never raises for a provider failure: the result carries the error code and message
    (and the cached data, even stale, when there is some). Commits the session when it
    stores an answer. ``provider`` replaces the configured one (for tests and other sources).
    """
    now = utcnow()
    try:
        number = validate_tax_id(cnpj, "PJ")
    except ValidationError:
        number = ""
    if not number:
        return _failure("invalid", provider_name(), now)
    if not _config_bool("CRM_CNPJ_LOOKUP_ENABLED", False):
        return _failure("disabled", provider_name(), now)

    provider = provider or get_provider()
    cached = db.session.get(CnpjLookup, number)
    if cached is not None and not refresh and _is_fresh(cached, now):
        return _from_cache(cached)

    try:
        data = provider.fetch(number)
    except CnpjLookupError as exc:
        logger.warning(
            "CNPJ lookup of %s at %s failed (%s): %s", number, provider.name, exc.code, exc
        )
        if cached is not None:
            return _from_cache(cached, error_code=exc.code)
        return _failure(exc.code, provider.name, now)

    _store(number, provider.name, data, now)
    return LookupResult(data=data, provider=provider.name, fetched_at=now, from_cache=False)


def result_to_json(result: LookupResult) -> tuple[dict[str, Any], int]:
    """The JSON body and HTTP status a route answers with."""
    if result.data is not None:
        return {
            "data": result.data.to_dict(),
            "provider": result.provider,
            "fetched_at": _aware(result.fetched_at).isoformat(),
            "from_cache": result.from_cache,
            "warning": str(result.error) if result.error is not None else None,
            # The registration status in the user's language, and the warning for a
            # company not active (shown in amber, not as a success).
            "status_label": status_label(result.data.status) if result.data.status else None,
            "status_warning": result.status_warning,
        }, 200
    code = result.error_code or "unavailable"
    message = result.error if result.error is not None else MESSAGES.get(code, "")
    return {"error": {"code": code, "message": str(message)}}, HTTP_STATUS.get(code, 502)


# --- Helpers ------------------------------------------------------------------------------


def _failure(code: str, provider: str, now: datetime) -> LookupResult:
    return LookupResult(
        data=None, provider=provider, fetched_at=now, from_cache=False,
        error=MESSAGES[code], error_code=code,
    )


def _from_cache(row: CnpjLookup, error_code: str | None = None) -> LookupResult:
    return LookupResult(
        data=CompanyData.from_dict(row.payload or {}),
        provider=row.provider,
        fetched_at=_aware(row.fetched_at),
        from_cache=True,
        error=MESSAGES[error_code] if error_code else None,
        error_code=error_code,
    )


def _is_fresh(row: CnpjLookup, now: datetime) -> bool:
    days = float(current_app.config.get("CRM_CNPJ_LOOKUP_CACHE_DAYS", DEFAULT_CACHE_DAYS))
    return now - _aware(row.fetched_at) < timedelta(days=days)


def _store(number: str, provider: str, data: CompanyData, now: datetime) -> None:
    """Insert or update the cache row, and commit; a concurrent insert of the same CNPJ wins."""
    row = db.session.get(CnpjLookup, number)
    if row is None:
        row = CnpjLookup(cnpj=number)
        db.session.add(row)
    row.provider = provider[:40]
    row.payload = data.to_dict()
    row.fetched_at = now
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        logger.info("CNPJ %s was cached by a concurrent lookup", number)


def _config_bool(key: str, default: bool) -> bool:
    value = current_app.config.get(key, default)
    if isinstance(value, str):  # e.g. straight from an environment variable
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
