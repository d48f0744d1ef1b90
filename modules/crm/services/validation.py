"""Validation and normalization of Brazilian account data (CNPJ/CPF, IE, phone, e-mail, CEP).

The one place used by the web form, the JSON API and the spreadsheet import. Every
``validate_*``/``normalize_*`` function returns the value in its stored form, returns ""
for empty input (whether a field is required is decided elsewhere) and raises
:class:`ValidationError`, whose ``message`` is a lazy (translatable) string.

Alphanumeric CNPJ: from July 2026 the Receita Federal issues CNPJs whose first 12
characters (8 for the company root, 4 for the branch) may be letters A-Z or digits; the
last 2 are still numeric check digits, computed with each character's ``ord(c) - 48``.
Old numeric CNPJs remain valid unchanged. ``stdnum.br.cnpj`` (python-stdnum >= 2.1)
implements this; we store the CNPJ upper-case without punctuation ("12ABC34501DE35").
CPFs stay numeric (11 digits). python-stdnum accepts repeated-digit CPFs such as
111.111.111-11 (their check digits happen to match), so they are rejected here.

State registration (IE) pitfalls of ``erpbrasil.base.fiscal.ie.validar(uf, ie)``:

* the state must be lower-case: an unknown key, such as "SP", makes it return True for
  any input at all;
* an empty string raises IndexError for SP, and is *valid* for RJ, PR, RS, ... because
  the table-driven states left-pad the input with zeros (so "0" passes for RJ too);
* SP rural producers ("P-01100424.3/002") are recognised only by an upper-case leading P.

So we validate the state ourselves, never pass an empty or all-zero number, upper-case
the input, keep only the digits (plus the leading P for SP) and pad with the zeros that
erpbrasil would have assumed, so the stored IE is complete.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from erpbrasil.base.fiscal import ie
from flask_babel import LazyString
from stdnum import exceptions as stdnum_errors
from stdnum.br import cnpj, cpf

from erp.i18n import module_i18n
from erp.validation import Invalid, pure

_l = module_i18n(__name__).lazy_gettext

PERSON_TYPES = ("PJ", "PF")
BR_STATES = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)
EXEMPT = "ISENTO"


class ValidationError(Invalid):
    """Invalid user data; ``message`` is a lazy string, ready to show or translate. An
    :class:`erp.validation.Invalid`: each validator is a parser of the host's kit
    (``errors.clean("tax_id", validate_tax_id, value, person_type="PJ")``)."""

    def __init__(self, message: LazyString | str):
        super().__init__(message)


# --- CNPJ / CPF -------------------------------------------------------------------------

_CNPJ_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")


_NOT_TAX_ID = re.compile(r"[^0-9A-Z]")


def normalize_tax_id(value: str | None) -> str:
    """Upper-case and keep only [0-9A-Z]: "12.abc.345/01de-35" -> "12ABC34501DE35"."""
    if value and value.isascii() and value.isalnum():  # already bare (an import: ~12 a row)
        return value.upper()
    return _NOT_TAX_ID.sub("", (value or "").upper())


def guess_person_type(value: str | None) -> str | None:
    """"PF" for an 11-digit id, "PJ" for a 14-character one, else None."""
    number = normalize_tax_id(value)
    if len(number) == 11 and number.isdigit():
        return "PF"
    if len(number) == 14:
        return "PJ"
    return None


@pure  # an import checks each cell twice (erp.validation.remembering)
def validate_tax_id(value: str | None, person_type: str | None) -> str:
    """A valid CNPJ (PJ) or CPF (PF), normalized; "" for empty input."""
    number = normalize_tax_id(value)
    if not number:
        return ""
    kind = (person_type or "").strip().upper()
    if kind == "PJ":
        return _validate_cnpj(number)
    if kind == "PF":
        return _validate_cpf(number)
    raise ValidationError(_l("Choose the person type: PJ (company) or PF (individual)."))


def _validate_cnpj(number: str) -> str:
    if len(number) != 14:
        raise ValidationError(_l("Invalid CNPJ: expected 14 characters, got %(count)d.",
                                 count=len(number)))
    if not number[-2:].isdigit():
        raise ValidationError(_l("Invalid CNPJ: the last two characters (check digits) "
                                 "must be numbers."))
    if len(set(number)) == 1:
        raise ValidationError(_l("Invalid CNPJ: a number with all digits equal is not valid."))
    return _stdnum_validate(cnpj, number, _l("Invalid CNPJ: check digits do not match."),
                            _l("Invalid CNPJ."))


def _validate_cpf(number: str) -> str:
    if not number.isdigit():
        raise ValidationError(_l("Invalid CPF: use digits only (letters are allowed only "
                                 "in a CNPJ)."))
    if len(number) != 11:
        raise ValidationError(_l("Invalid CPF: expected 11 digits, got %(count)d.",
                                 count=len(number)))
    if len(set(number)) == 1:
        raise ValidationError(_l("Invalid CPF: a number with all digits equal is not valid."))
    return _stdnum_validate(cpf, number, _l("Invalid CPF: check digits do not match."),
                            _l("Invalid CPF."))


def _stdnum_validate(module, number: str, checksum_message, other_message) -> str:
    try:
        return module.validate(number)
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(checksum_message) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(other_message) from None


def format_tax_id(normalized: str) -> str:
    """"11.222.333/0001-81", "12.ABC.345/01DE-35", "529.982.247-25"; else unchanged."""
    number = normalize_tax_id(normalized)
    if _CNPJ_RE.fullmatch(number):
        return cnpj.format(number)
    if len(number) == 11 and number.isdigit():
        return cpf.format(number)
    return normalized


def cnpj_root(normalized: str | None) -> str | None:
    """The company part (first 8 characters) of a CNPJ; None for a CPF or empty value."""
    number = normalize_tax_id(normalized)
    return number[:8] if len(number) == 14 else None


# --- State registration (inscrição estadual) --------------------------------------------

def validate_state_registration(value: str | None, state: str | None) -> str:
    """A valid IE for ``state`` as digits (SP rural producers keep their leading P), or
    "ISENTO" for an exempt company; "" for empty input."""
    text = (value or "").strip().upper()
    if not text:
        return ""
    if text == EXEMPT:
        return EXEMPT
    uf = (state or "").strip().upper()
    if not uf:
        raise ValidationError(_l("Choose the state (UF) to validate the state registration."))
    if uf not in BR_STATES:
        raise ValidationError(_l("Unknown state %(state)s: use a two-letter code such as "
                                 "SP or RJ.", state=uf))
    prefix = "P" if uf == "SP" and text.startswith("P") else ""
    if re.search(r"[^0-9 ./-]", text[len(prefix):]):
        raise ValidationError(_l("Invalid state registration: use digits only, or ISENTO "
                                 "if the company is exempt."))
    digits = re.sub(r"[^0-9]", "", text).zfill(_padded_length(uf.lower()))
    number = prefix + digits
    if digits.strip("0") and _erpbrasil_valid(uf.lower(), number):
        return number
    raise ValidationError(_l("Invalid state registration for %(state)s: check the number "
                             "and the state.", state=uf))


def _padded_length(uf: str) -> int:
    """The length erpbrasil left-pads with zeros to (table-driven states only), else 0."""
    if hasattr(ie, f"validar_{uf}"):
        return 0
    return int(ie.PARAMETERS.get(uf, {}).get("tam", 0))


def _erpbrasil_valid(uf: str, number: str) -> bool:
    try:
        return bool(ie.validar(uf, number))
    except (IndexError, ValueError):  # erpbrasil indexes into the string without checks
        return False


# --- Phone --------------------------------------------------------------------------------

@pure  # an import checks each cell twice (erp.validation.remembering)
def normalize_phone(value: str | None, region: str = "BR") -> str:
    """E.164 ("+5511987654321"); numbers without "+" are read as ``region`` numbers."""
    text = (value or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise ValidationError(_l("Invalid phone number: unknown country code (foreign "
                                     "numbers start with + and the country code).")) from None
        raise ValidationError(_l("Invalid phone number: enter the area code and number, "
                                 "e.g. (11) 98765-4321.")) from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in (phonenumbers.ValidationResult.TOO_SHORT,
                  phonenumbers.ValidationResult.INVALID_LENGTH):
        raise ValidationError(_l("Invalid phone number: too short; include the area code, "
                                 "e.g. (11) 98765-4321."))
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        raise ValidationError(_l("Invalid phone number: too many digits."))
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_l("Invalid phone number: check the area code and the digits "
                                 "(mobile numbers have 9 digits after the area code)."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_stored_phone(e164: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(e164 or "", "BR")
    except phonenumbers.NumberParseException:
        return None


def format_phone(e164: str) -> str:
    """"(11) 98765-4321" for Brazilian numbers, "+1 650-253-0000" for others."""
    national = _brazilian_national(e164)
    if national is not None:
        template = _national_template(national)
        if template is not None:
            return template.format(*national)
    number = _parse_stored_phone(e164)
    if number is None:
        return e164
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 55
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def phone_search_keys(e164: str) -> list[str]:
    """The digit strings a user may type to find this number: with area code
    ("11987654321"), with country code ("5511987654321") and local ("987654321")."""
    national = _brazilian_national(e164)
    if national is not None:  # what parsing it would give, without parsing it
        area_length = _brazilian_area_length(national)
        country_code = 55
    else:
        number = _parse_stored_phone(e164)
        if number is None:
            digits = re.sub(r"[^0-9]", "", e164 or "")
            return [digits] if digits else []
        national = phonenumbers.national_significant_number(number)
        area_length = phonenumbers.length_of_national_destination_code(number)
        country_code = number.country_code
    keys = [national, f"{country_code}{national}"]
    if area_length:
        keys.append(national[area_length:])
    return list(dict.fromkeys(keys))


# Every account saved (100,000 imported) gets its phones' search keys: parsing the stored
# E.164 again and formatting it to find the area code's length took longer than checking
# the number. A Brazilian number in E.164 is "+55" and its national digits, which parsing
# keeps as they are unless they start with a national prefix (0, 90); the area code's
# length comes from the international format, which Brazil's numbering plan chooses by the
# first digits (at most 5) and the length: worked out once per such shape.
_BRAZILIAN_E164 = re.compile(r"\+55([1-8][0-9]|9[1-9])[0-9]{8,9}")
_AREA_LENGTHS: dict[tuple[str, int], int] = {}
_AREA_SHAPE_DIGITS = 5


def _brazilian_national(e164: str | None) -> str | None:
    if e164 and _BRAZILIAN_E164.fullmatch(e164):
        return e164[3:]
    return None


def _brazilian_area_length(national: str) -> int:
    shape = (national[:_AREA_SHAPE_DIGITS], len(national))
    length = _AREA_LENGTHS.get(shape)
    if length is None:
        number = phonenumbers.PhoneNumber(country_code=55, national_number=int(national))
        length = phonenumbers.length_of_national_destination_code(number)
        if len(_AREA_LENGTHS) < 200_000:  # every shape there is: about 2 MB
            _AREA_LENGTHS[shape] = length
    return length


# Every phone a page shows is formatted (issue 15's throughput): parsing the stored E.164
# again and formatting it took 35 µs a phone. A Brazilian number's national format is the
# one its first digits (at most 5, as for the area code above) and its length choose, so it
# is worked out once per such shape, as a template the national digits fill in; None when
# the format is more than those digits in order (the template would not hold), and that
# shape is formatted the long way.
_NATIONAL_TEMPLATES: dict[tuple[str, int], str | None] = {}


def _national_template(national: str) -> str | None:
    shape = (national[:_AREA_SHAPE_DIGITS], len(national))
    try:
        return _NATIONAL_TEMPLATES[shape]
    except KeyError:
        pass
    shown = phonenumbers.format_number(
        phonenumbers.PhoneNumber(country_code=55, national_number=int(national)),
        phonenumbers.PhoneNumberFormat.NATIONAL)
    template = None
    if re.sub(r"[^0-9]", "", shown) == national and not re.search(r"[{}]", shown):
        template = re.sub(r"[0-9]", "{}", shown)
    if len(_NATIONAL_TEMPLATES) < 200_000:  # every shape there is
        _NATIONAL_TEMPLATES[shape] = template
    return template


# --- E-mail and CEP -----------------------------------------------------------------------

@pure  # an import checks each cell twice (erp.validation.remembering)
def normalize_email(value: str | None) -> str:
    """The normalized address (domain lower-cased); syntax only, no DNS look-up."""
    text = (value or "").strip()
    if not text:
        return ""
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        # The library's reason is English-only; the form says what is expected instead.
        raise ValidationError(
            _l("Invalid e-mail address: expected the form name@company.com.br.")) from None


_CEP_SEPARATORS = re.compile(r"[-. ]")
_CEP = re.compile(r"[0-9]{8}")


def validate_cep(value: str | None) -> str:
    """8 digits: "01310-100" -> "01310100"; "" for empty input."""
    text = (value or "").strip()
    if not text:
        return ""
    digits = _CEP_SEPARATORS.sub("", text)
    if not _CEP.fullmatch(digits) or digits == "00000000":
        raise ValidationError(_l("Invalid CEP: expected 8 digits, e.g. 01310-100."))
    return digits


def format_cep(value: str) -> str:
    """"01310100" -> "01310-100"; anything else unchanged."""
    if re.fullmatch(r"[0-9]{8}", value or ""):
        return f"{value[:5]}-{value[5:]}"
    return value
