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
    Seconds the whole request may take, connection and answer together (a total
    deadline: a provider trickling its answer byte by byte is cut off at it).
``CRM_CNPJ_LOOKUP_CACHE_DAYS`` (default ``30``)
    An answer younger than this is served from the cache without asking the registry.
``CRM_CNPJ_LOOKUP_PROVIDER_NAME`` (default ``"BrasilAPI"``)
    The provider's name as shown to the user ("data from BrasilAPI").

This file holds the providers: :class:`CompanyData`, the :class:`LookupProvider` protocol
with its :class:`BrasilAPIProvider`, :func:`get_provider` and the :class:`CnpjLookupError`
exceptions. Answers are cleaned as they are read (issue 19): repeated whitespace collapsed
in every text field, the registration status in one case (``ATIVA``, ``BAIXADA``...; shown
translated by :func:`status_label`), and an answer about another CNPJ than the one asked
refused (:class:`CnpjMismatch`). The service that asks them and keeps the answers,
:func:`lookup_cnpj`, is in ``services/lookup.py``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any, Protocol

import requests
from flask import current_app

from erp.validation import text

from .labels import REGISTRY_STATUS_LABELS

DEFAULT_URL = "https://brasilapi.com.br"
DEFAULT_TIMEOUT = 5.0
DEFAULT_PROVIDER_NAME = "BrasilAPI"
USER_AGENT = "MosaicERP/0.1"

MAX_ANSWER_BYTES = 1_000_000  # a company's record is a few KB; more is not an answer

_NOT_DIGIT = re.compile(r"\D")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")

# Registration status codes of the Receita Federal, for answers that carry only the code.
_STATUS_NAMES = {1: "NULA", 2: "ATIVA", 3: "SUSPENSA", 4: "INAPTA", 8: "BAIXADA"}
ACTIVE = "ATIVA"
# The statuses as people read them (the stored value is the code, in capitals).
STATUS_LABELS = REGISTRY_STATUS_LABELS


def clean_text(value: Any) -> str:
    """A provider's text: trimmed, every run of whitespace (inner ones too) one space."""
    return " ".join(text(value).split())


def normalize_status(value: Any) -> str:
    """One spelling per registration status: "Ativa", "ATIVA", " ativa " -> "ATIVA" (case
    and accents folded); "" when unknown."""
    cleaned = clean_text(value)
    folded = "".join(c for c in unicodedata.normalize("NFKD", cleaned)
                     if not unicodedata.combining(c)).upper()
    return folded if folded in STATUS_LABELS else cleaned.upper()


def status_label(value: Any) -> str:
    """A registration status in the user's language ("Ativa" in pt-BR, "Active" in
    English), whatever its case; an unknown one as it is."""
    code = normalize_status(value)
    label = STATUS_LABELS.get(code)
    return str(label) if label is not None else clean_text(value)


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
    status: str = ""  # registration status, one case: "ATIVA", "BAIXADA", ...
    opened_on: date | None = None
    phone: str = ""
    email: str = ""
    status_on: date | None = None  # since when the status is what it is

    @property
    def is_active(self) -> bool:
        """Not known to be closed: active, or no status given."""
        return not self.status or self.status == ACTIVE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, the dates as ISO strings (or None)."""
        data = asdict(self)
        for name in _DATE_FIELDS:
            value = getattr(self, name)
            data[name] = value.isoformat() if value else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompanyData:
        """The inverse of :meth:`to_dict`; unknown keys are ignored, missing ones left empty.
        Cleaned like a provider's answer (a cache row written before the cleaning is read
        clean)."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            if field.name in _DATE_FIELDS:
                values[field.name] = _parse_date(data.get(field.name))
            elif field.name == "status":
                values[field.name] = normalize_status(data.get(field.name))
            else:
                values[field.name] = clean_text(data.get(field.name))
        return cls(**values)


_DATE_FIELDS = ("opened_on", "status_on")


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


class CnpjMismatch(CnpjLookupError):
    """The answer is about another CNPJ than the one asked: nothing of it is used."""

    code = "mismatch"

    def __init__(self, message: str, answered: str = "") -> None:
        super().__init__(message)
        self.answered = answered


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
        status, headers, body = self._get(url)
        if status == 404:
            raise CompanyNotFound(f"{url}: 404")
        if status == 400:
            # BrasilAPI's answer for a CNPJ it does not accept; ours are already checked, so
            # this means the registry has no such company (e.g. an alphanumeric CNPJ it
            # cannot look up yet).
            raise CompanyNotFound(f"{url}: 400 {body[:200].decode('utf-8', 'replace')}")
        if status == 429:
            raise RateLimited(f"{url}: 429 (Retry-After: {headers.get('Retry-After')})")
        if status != 200:
            raise ProviderUnavailable(f"{url}: HTTP {status}")
        try:
            payload = json.loads(body)
        except ValueError as exc:  # UnicodeDecodeError included
            raise ProviderUnavailable(f"{url}: the answer is not JSON") from exc
        try:
            return parse_brasilapi(cnpj, payload)
        except (TypeError, ValueError, KeyError) as exc:
            raise ProviderUnavailable(f"{url}: unexpected answer: {exc}") from exc

    def _get(self, url: str) -> tuple[int, Any, bytes]:
        """(status, headers, body) of a GET of ``url``, all of it within ``timeout`` seconds
        from now: connection, headers and body together. The request runs in a worker
        thread, waited for until the deadline; past it, the worker is told to stop (it
        drops the connection at its next chunk) and :class:`ProviderTimeout` is raised.
        A per-read timeout alone lets a provider trickling a few bytes a second keep the
        lookup open for as long as it likes (issue 19)."""
        deadline = time.monotonic() + self.timeout
        outcome: dict[str, Any] = {}
        cancel = threading.Event()
        worker = threading.Thread(target=self._download, args=(url, cancel, outcome),
                                  name="cnpj-lookup", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            cancel.set()
            raise ProviderTimeout(f"no complete answer from {url} within {self.timeout}s")
        error = outcome.get("error")
        if error is not None:
            raise error
        return outcome["status"], outcome["headers"], outcome["body"]

    def _download(self, url: str, cancel: threading.Event, outcome: dict) -> None:
        """The worker: the request, its body read chunk by chunk until done or cancelled;
        the result (or the lookup error) left in ``outcome``."""
        http = self.session or requests
        try:
            response = http.get(
                url, timeout=self.timeout, stream=True,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
            with response:
                body = bytearray()
                for chunk in response.iter_content(chunk_size=4096):
                    if cancel.is_set():
                        return
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise ProviderUnavailable(f"{url}: the answer is too long")
            outcome.update(status=response.status_code, headers=response.headers,
                           body=bytes(body))
        except CnpjLookupError as exc:
            outcome["error"] = exc
        except requests.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
            outcome["error"] = ProviderTimeout(f"no answer from {url} within {self.timeout}s")
            outcome["error"].__cause__ = exc
        except requests.ConnectionError as exc:
            # A body that stops coming is reported as a connection error by requests.
            error_class = ProviderTimeout if _is_read_timeout(exc) else ProviderUnavailable
            outcome["error"] = error_class(f"cannot reach {url} or it stopped: {exc}")
            outcome["error"].__cause__ = exc
        except requests.RequestException as exc:
            outcome["error"] = ProviderUnavailable(f"request to {url} failed: {exc}")
            outcome["error"].__cause__ = exc


def parse_brasilapi(cnpj: str, payload: Any) -> CompanyData:
    """A BrasilAPI ``/api/cnpj/v1`` answer as :class:`CompanyData` (ValueError if unusable),
    cleaned: whitespace collapsed in every text, the status in one case; an answer whose
    own CNPJ is another than ``cnpj`` raises :class:`CnpjMismatch`."""
    if not isinstance(payload, dict):
        raise ValueError("the answer is not a JSON object")
    answered = _NOT_ALNUM.sub("", clean_text(payload.get("cnpj")).upper())
    if answered and answered != cnpj:
        raise CnpjMismatch(f"asked for {cnpj}, the answer is about {answered}", answered)
    legal_name = clean_text(payload.get("razao_social"))
    if not legal_name:
        raise ValueError("the answer has no razao_social")

    street_type = clean_text(
        payload.get("descricao_tipo_de_logradouro") or payload.get("descricao_tipo_logradouro")
    )
    street = clean_text(payload.get("logradouro"))
    if street_type and not street.upper().startswith(street_type.upper() + " "):
        street = f"{street_type} {street}".strip()

    status = normalize_status(payload.get("descricao_situacao_cadastral"))
    if not status and isinstance(payload.get("situacao_cadastral"), int):
        status = _STATUS_NAMES.get(payload["situacao_cadastral"], "")

    return CompanyData(
        cnpj=cnpj,
        legal_name=legal_name,
        trade_name=clean_text(payload.get("nome_fantasia")),
        street=street,
        number=clean_text(payload.get("numero")),
        complement=clean_text(payload.get("complemento")),
        district=clean_text(payload.get("bairro")),
        city=clean_text(payload.get("municipio")),
        state=clean_text(payload.get("uf")).upper(),
        cep=_cep(payload.get("cep")),
        main_activity=_activity(payload.get("cnae_fiscal"), payload.get("cnae_fiscal_descricao")),
        status=status,
        opened_on=_parse_date(payload.get("data_inicio_atividade")),
        phone=_phone(payload.get("ddd_telefone_1")),
        email=clean_text(payload.get("email")).lower(),
        status_on=_parse_date(payload.get("data_situacao_cadastral")),
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
    return " - ".join(part for part in (digits, clean_text(description)) if part)


def _phone(value: Any) -> str:
    """'1123851939' -> '(11) 2385-1939'; anything else as given."""
    digits = _NOT_DIGIT.sub("", text(value))
    if len(digits) == 10:
        return f"({digits[:2]}) {digits[2:6]}-{digits[6:]}"
    if len(digits) == 11:
        return f"({digits[:2]}) {digits[2:7]}-{digits[7:]}"
    return clean_text(value)
