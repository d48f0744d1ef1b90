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

This file holds the providers: :class:`CompanyData`, the :class:`LookupProvider` protocol
with its :class:`BrasilAPIProvider`, :func:`get_provider` and the :class:`CnpjLookupError`
exceptions. The service that asks them and keeps the answers, :func:`lookup_cnpj`, is in
``services/lookup.py``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any, Protocol

import requests
from flask import current_app

from erp.validation import text

DEFAULT_URL = "https://brasilapi.com.br"
DEFAULT_TIMEOUT = 5.0
DEFAULT_PROVIDER_NAME = "BrasilAPI"
USER_AGENT = "MosaicERP/0.1"

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


# --- Providers ------------------------------------------------------------------------------


class CnpjLookupError(LookupError):
    """A provider could not answer; ``code`` is the error code of the service's ``LookupResult``."""

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


def provider_name() -> str:
    """The provider's name as shown to the user ("data from BrasilAPI")."""
    return str(current_app.config.get("CRM_CNPJ_LOOKUP_PROVIDER_NAME", DEFAULT_PROVIDER_NAME))


def get_provider() -> LookupProvider:
    """The provider the configuration asks for."""
    config = current_app.config
    return BrasilAPIProvider(
        config.get("CRM_CNPJ_LOOKUP_URL", DEFAULT_URL) or DEFAULT_URL,
        timeout=float(config.get("CRM_CNPJ_LOOKUP_TIMEOUT", DEFAULT_TIMEOUT)),
        name=provider_name(),
    )


# --- Helpers --------------------------------------------------------------------------------


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
