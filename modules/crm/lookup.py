"""CRM's CNPJ lookup providers (a role of its own, beyond the module shape's fixed files):
fetch a company's public registry data to prefill the account form.

"Method 2" of registering an account: the user types a CNPJ, the service asks a public
registry (BrasilAPI by default) for the company's names, address, main activity and
registration status, and the form is filled in from the answer. Answers are kept in the
``crm_cnpj_lookup`` table, so asking again for the same company costs no request, and a
company seen before can still be prefilled (with a warning) when the registry is down.

Configuration (``current_app.config``):

``CRM_CNPJ_LOOKUP_ENABLED`` (default ``False``)
    Whether the service may reach the network at all. Off by default: the machine may be
    offline, and the form can always be filled in by hand.
``CRM_CNPJ_LOOKUP_URL`` (default ``"https://brasilapi.com.br"``)
    Base URL of the BrasilAPI-compatible service; ``/api/cnpj/v1/<cnpj>`` is appended.
``CRM_CNPJ_LOOKUP_TIMEOUT`` (default ``5``)
    Seconds to wait for the connection, and again for the answer.
``CRM_CNPJ_LOOKUP_CACHE_DAYS`` (default ``30``)
    An answer younger than this is served from the cache without asking the registry.
``CRM_CNPJ_LOOKUP_PROVIDER_NAME`` (default ``"BrasilAPI"``)
    The provider's name as shown to the user ("data from BrasilAPI").

Public API: :func:`lookup_cnpj` (the service), :func:`result_to_json` (a route's answer),
:class:`CompanyData`, :class:`LookupResult`, the :class:`LookupProvider` protocol with its
:class:`BrasilAPIProvider`, and the :class:`CnpjLookupError` exceptions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import requests
from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from erp.db import db, utcnow
from erp.validation import text

from .models.lookup_cache import CnpjLookup
from .services.validation import ValidationError, validate_tax_id

logger = logging.getLogger(__name__)

DEFAULT_URL = "https://brasilapi.com.br"
DEFAULT_TIMEOUT = 5.0
DEFAULT_CACHE_DAYS = 30
DEFAULT_PROVIDER_NAME = "BrasilAPI"
USER_AGENT = "MosaicERP/0.1"

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
    "invalid": _l("This is not a valid CNPJ. Check the number and try again."),
    "disabled": _l("The CNPJ lookup is switched off. Fill in the form by hand."),
}

# The HTTP status a route answers with, for each error code.
HTTP_STATUS = {
    "not_found": 404,
    "rate_limited": 429,
    "timeout": 504,
    "unavailable": 502,
    "invalid": 400,
    "disabled": 503,
}

_NOT_DIGIT = re.compile(r"\D")

# Registration status codes of the Receita Federal, for answers that carry only the code.
_STATUS_NAMES = {1: "NULA", 2: "ATIVA", 3: "SUSPENSA", 4: "INAPTA", 8: "BAIXADA"}


# --- Data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyData:
    """A company's public registry data, normalized; text fields are ``""`` when unknown."""

    cnpj: str
    legal_name: str
    trade_name: str = ""
    street: str = ""
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""  # UF, two letters
    cep: str = ""  # 8 digits
    main_activity: str = ""  # CNAE code and description: "6201-5/01 - Desenvolvimento ..."
    status: str = ""  # registration status: "ATIVA", "BAIXADA", ...
    opened_on: date | None = None
    phone: str = ""
    email: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, the opening date as an ISO string (or None)."""
        data = asdict(self)
        data["opened_on"] = self.opened_on.isoformat() if self.opened_on else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompanyData:
        """The inverse of :meth:`to_dict`; unknown keys are ignored, missing ones left empty."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            if field.name == "opened_on":
                values["opened_on"] = _parse_date(data.get("opened_on"))
            else:
                values[field.name] = text(data.get(field.name))
        return cls(**values)


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


# --- Providers ------------------------------------------------------------------------------


class CnpjLookupError(LookupError):
    """A provider could not answer; ``code`` is the error code of :class:`LookupResult`."""

    code = "unavailable"


class CompanyNotFound(CnpjLookupError):
    code = "not_found"


class RateLimited(CnpjLookupError):
    code = "rate_limited"


class ProviderTimeout(CnpjLookupError):
    code = "timeout"


class ProviderUnavailable(CnpjLookupError):
    """5xx answers, refused or broken connections, answers that are not the expected JSON."""

    code = "unavailable"


class LookupProvider(Protocol):
    """A source of registry data. ``fetch`` raises a :class:`CnpjLookupError` on failure."""

    name: str

    def fetch(self, cnpj: str) -> CompanyData: ...


class BrasilAPIProvider:
    """BrasilAPI's CNPJ endpoint: ``GET {base_url}/api/cnpj/v1/{cnpj}``."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        name: str = DEFAULT_PROVIDER_NAME,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.name = name
        self.session = session

    def url(self, cnpj: str) -> str:
        return f"{self.base_url}/api/cnpj/v1/{cnpj}"

    def fetch(self, cnpj: str) -> CompanyData:
        url = self.url(cnpj)
        http = self.session or requests
        try:
            response = http.get(
                url,
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            )
        except requests.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
            raise ProviderTimeout(f"no answer from {url} within {self.timeout}s") from exc
        except requests.ConnectionError as exc:
            # A body that stops coming is reported as a connection error by requests.
            if _is_read_timeout(exc):
                raise ProviderTimeout(f"{url} stopped answering: {exc}") from exc
            raise ProviderUnavailable(f"cannot reach {url}: {exc}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"request to {url} failed: {exc}") from exc

        status = response.status_code
        if status == 404:
            raise CompanyNotFound(f"{url}: 404")
        if status == 400:
            # BrasilAPI's answer for a CNPJ it does not accept; ours are already checked, so
            # this means the registry has no such company (e.g. an alphanumeric CNPJ it
            # cannot look up yet).
            raise CompanyNotFound(f"{url}: 400 {response.text[:200]}")
        if status == 429:
            raise RateLimited(f"{url}: 429 (Retry-After: {response.headers.get('Retry-After')})")
        if status != 200:
            raise ProviderUnavailable(f"{url}: HTTP {status}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"{url}: the answer is not JSON") from exc
        try:
            return parse_brasilapi(cnpj, payload)
        except (TypeError, ValueError, KeyError) as exc:
            raise ProviderUnavailable(f"{url}: unexpected answer: {exc}") from exc


def parse_brasilapi(cnpj: str, payload: Any) -> CompanyData:
    """A BrasilAPI ``/api/cnpj/v1`` answer as :class:`CompanyData` (ValueError if unusable)."""
    if not isinstance(payload, dict):
        raise ValueError("the answer is not a JSON object")
    legal_name = text(payload.get("razao_social"))
    if not legal_name:
        raise ValueError("the answer has no razao_social")

    street_type = text(
        payload.get("descricao_tipo_de_logradouro") or payload.get("descricao_tipo_logradouro")
    )
    street = text(payload.get("logradouro"))
    if street_type and not street.upper().startswith(street_type.upper() + " "):
        street = f"{street_type} {street}".strip()

    status = text(payload.get("descricao_situacao_cadastral"))
    if not status and isinstance(payload.get("situacao_cadastral"), int):
        status = _STATUS_NAMES.get(payload["situacao_cadastral"], "")

    return CompanyData(
        cnpj=cnpj,
        legal_name=legal_name,
        trade_name=text(payload.get("nome_fantasia")),
        street=street,
        number=text(payload.get("numero")),
        complement=text(payload.get("complemento")),
        district=text(payload.get("bairro")),
        city=text(payload.get("municipio")),
        state=text(payload.get("uf")).upper(),
        cep=_cep(payload.get("cep")),
        main_activity=_activity(payload.get("cnae_fiscal"), payload.get("cnae_fiscal_descricao")),
        status=status,
        opened_on=_parse_date(payload.get("data_inicio_atividade")),
        phone=_phone(payload.get("ddd_telefone_1")),
        email=text(payload.get("email")).lower(),
    )


def get_provider() -> LookupProvider:
    """The provider the configuration asks for."""
    config = current_app.config
    return BrasilAPIProvider(
        config.get("CRM_CNPJ_LOOKUP_URL", DEFAULT_URL) or DEFAULT_URL,
        timeout=float(config.get("CRM_CNPJ_LOOKUP_TIMEOUT", DEFAULT_TIMEOUT)),
        name=_provider_name(),
    )


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
        return _failure("invalid", _provider_name(), now)
    if not _config_bool("CRM_CNPJ_LOOKUP_ENABLED", False):
        return _failure("disabled", _provider_name(), now)

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
        }, 200
    code = result.error_code or "unavailable"
    message = result.error if result.error is not None else MESSAGES.get(code, "")
    return {"error": {"code": code, "message": str(message)}}, HTTP_STATUS.get(code, 502)


# --- Helpers --------------------------------------------------------------------------------


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


def _provider_name() -> str:
    return str(current_app.config.get("CRM_CNPJ_LOOKUP_PROVIDER_NAME", DEFAULT_PROVIDER_NAME))


def _config_bool(key: str, default: bool) -> bool:
    value = current_app.config.get(key, default)
    if isinstance(value, str):  # e.g. straight from an environment variable
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _is_read_timeout(exc: requests.ConnectionError) -> bool:
    from urllib3.exceptions import ReadTimeoutError

    return any(isinstance(arg, ReadTimeoutError) for arg in exc.args)


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(text(value)[:10])
    except ValueError:
        return None


def _cep(value: Any) -> str:
    if isinstance(value, int):  # some answers lose the leading zero
        return f"{value:08d}"
    return _NOT_DIGIT.sub("", text(value))


def _activity(code: Any, description: Any) -> str:
    digits = _NOT_DIGIT.sub("", text(code))
    if digits:
        digits = digits.zfill(7)
        digits = f"{digits[:4]}-{digits[4]}/{digits[5:]}" if len(digits) == 7 else digits
    return " - ".join(part for part in (digits, text(description)) if part)


def _phone(value: Any) -> str:
    """'1123851939' -> '(11) 2385-1939'; anything else as given."""
    digits = _NOT_DIGIT.sub("", text(value))
    if len(digits) == 10:
        return f"({digits[:2]}) {digits[2:6]}-{digits[6:]}"
    if len(digits) == 11:
        return f"({digits[:2]}) {digits[2:7]}-{digits[7:]}"
    return text(value)
