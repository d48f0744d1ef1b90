"""One way to validate input in every service: an :class:`Errors` collector and parsers.

A parser takes what the user sent (text from a form, JSON from the API, a spreadsheet
cell) and returns the clean value, ``None`` for a blank optional value, or raises
:class:`Invalid` with the message to show next to the field. :meth:`Errors.clean` runs a
parser for one field and keeps its message, so a ``clean_*`` service reads as a list of
fields and the rules between them, and reports every problem at once::

    errors = Errors()
    amount = errors.clean("amount", money, data.get("amount"), required=True)
    due = errors.clean("due_date", date, data.get("due_date"), required=True)
    if amount is not None and amount == 0:
        errors.add("amount", _l("Use an amount greater than zero."))
    errors.raise_if_any()          # InvalidInput({"amount": [...], ...})

The parsers: :func:`text`, :func:`choice`, :func:`integer`, :func:`money`,
:func:`quantity`, :func:`date`, :func:`record_id` and :func:`record` (the row itself).
Every one strips text, treats blank input (``None``, ``""``, spaces) as absent (``None``,
or :class:`Invalid` with ``required=True``) and takes a ``message`` to say instead of its
own. A module's own rule is a parser too: any function that raises :class:`Invalid` (CRM's
CNPJ, phone and e-mail validators do). :func:`clean_field` checks a lone value and refuses
at once; :func:`like` builds a LIKE pattern that matches the user's text literally.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from .db import MAX_ID, db
from .errors import Duplicate, InvalidInput
from .formats import parse_date, parse_decimal
from .money import CENT, MAX_MONEY, MAX_QUANTITY, QUANTITY_STEP
from .params import parse_int

__all__ = ["Errors", "Invalid", "LIKE_ESCAPE", "choice", "clean_field", "date", "integer",
           "like", "money", "pure", "quantity", "record", "record_id", "remembering", "text"]

# The escape character of the patterns :func:`like` builds: ``column.ilike(p, escape=LIKE_ESCAPE)``.
LIKE_ESCAPE = "\\"


class Invalid(ValueError):
    """One field's value is wrong; ``message`` says why, in the user's words."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


class Errors:
    """Messages per field (``"__all__"`` for the whole record), raised together."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[Any]] = {}

    def add(self, field: str, message: Any) -> None:
        self.by_field.setdefault(field, []).append(message)

    __call__ = add  # an Errors is also the ``fail(field, message)`` callback of older code

    def clean(self, field: str, parser: Callable[..., Any], value: Any, **options: Any) -> Any:
        """``parser(value, **options)``; on :class:`Invalid`, the message goes to ``field``
        and the result is ``None``."""
        try:
            return parser(value, **options)
        except Invalid as error:
            self.add(field, error.message)
            return None

    def unknown(self, data: Any, known: Any) -> None:
        """"Unknown field." for every key of ``data`` (an API body) not in ``known``."""
        for field in sorted(set(data) - set(known)):
            self.add(field, _l("Unknown field."))

    def texts(self, data: Any, limits: dict[str, int]) -> dict[str, str | None]:
        """The text fields of ``limits`` (field → maximum length) that ``data`` has, by
        :func:`text`, ``None`` when blank. One too long is reported and kept as typed,
        so the rules between fields still see what the user wrote."""
        out: dict[str, str | None] = {}
        for field, limit in limits.items():
            if field in data:
                out[field] = text(data[field]) or None
                if out[field] and len(out[field]) > limit:
                    self.add(field, _l("At most %(n)d characters.", n=limit))
        return out

    def __contains__(self, field: str) -> bool:
        return field in self.by_field

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def raise_if_any(self, duplicates: list[Duplicate] | None = None) -> None:
        """Raise :class:`InvalidInput` with every message (as text), if there is any."""
        if self.by_field or duplicates:
            raise InvalidInput({field: [str(m) for m in messages]
                                for field, messages in self.by_field.items()}, duplicates)


def _default(message: Any, default: Any) -> Any:
    """The caller's message, else the parser's. Never ``message or default``: the truth
    value of a lazy string translates it, choosing the request's locale before its time."""
    return default if message is None else message


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any, *, max_length: int | None = None, required: bool = False,
         message: Any = None) -> str:
    """Text, stripped; ``""`` when blank. A number or other scalar is read as its text."""
    cleaned = "" if value is None else str(value).strip()
    if not cleaned and required:
        raise Invalid(_default(message, _l("This field is required.")))
    if max_length is not None and len(cleaned) > max_length:
        raise Invalid(_l("At most %(n)d characters.", n=max_length))
    return cleaned


def choice(value: Any, *, choices: Any, required: bool = False,
           message: Any = None) -> str | None:
    """One of ``choices`` (the text, stripped); ``None`` when blank and optional."""
    message = _default(message, _l("Choose one of the options."))
    cleaned = text(value)
    if not cleaned:
        if required:
            raise Invalid(message)
        return None
    if cleaned not in choices:
        raise Invalid(message)
    return cleaned


def integer(value: Any, *, minimum: int | None = None, maximum: int | None = None,
            required: bool = False, message: Any = None) -> int | None:
    """A whole number (``12``, ``"12"``) within ``[minimum, maximum]`` (by default, what an
    INTEGER column holds); ``None`` when blank and optional."""
    message = _default(message, _l("Use a whole number."))
    if _blank(value):
        if required:
            raise Invalid(message)
        return None
    number = parse_int(value, None, min=-MAX_ID - 1 if minimum is None else minimum,
                       max=MAX_ID if maximum is None else maximum)
    if number is None:
        raise Invalid(message)
    return number


def _decimal(value: Any, message: Any) -> Decimal:
    try:
        number = parse_decimal(value)
    except (ValueError, ArithmeticError, TypeError):
        raise Invalid(message) from None
    if number is None or not number.is_finite():
        raise Invalid(message)
    return number


def money(value: Any, *, required: bool = False, minimum: Decimal = Decimal(0),
          maximum: Decimal = MAX_MONEY, message: Any = None) -> Decimal | None:
    """An amount (``1.234,56``, ``1234.56``, a number), rounded half-up to the cent, within
    ``[minimum, maximum)`` as typed and once rounded (``-0,001`` is not a price, nor
    ``999999999999,995`` one that fits); ``None`` when blank and optional."""
    message = _default(message, _l("Use an amount such as 1.234,56."))
    if _blank(value):
        if required:
            raise Invalid(message)
        return None
    typed = _decimal(value, message)
    number = typed.quantize(CENT, rounding=ROUND_HALF_UP)
    if not (minimum <= typed < maximum and minimum <= number < maximum):
        raise Invalid(message)
    return number


def quantity(value: Any, *, required: bool = False, maximum: Decimal = MAX_QUANTITY,
             message: Any = None) -> Decimal | None:
    """A quantity greater than zero, rounded half-up to 0.001; ``None`` when blank and
    optional."""
    message = _default(message, _l("Use a quantity greater than zero."))
    if _blank(value):
        if required:
            raise Invalid(message)
        return None
    number = _decimal(value, message).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)
    if not 0 < number < maximum:
        raise Invalid(message)
    return number


def record_id(value: Any, *, required: bool = False, message: Any = None) -> int | None:
    """A record id (1..MAX_ID) as an int; ``None`` when blank (``""``, ``None``, or the
    ``"__None"`` of an empty select) and optional. Anything else is :class:`Invalid`:
    there is no "never an id" sentinel to test for."""
    message = _default(message, _l("Choose a valid record."))
    if _blank(value) or value == "__None":
        if required:
            raise Invalid(message)
        return None
    number = parse_int(value, None, min=1, max=MAX_ID)
    if number is None:
        raise Invalid(message)
    return number


def record(value: Any, *, model: Any, required: bool = False, message: Any = None) -> Any:
    """The ``model`` row whose id is ``value`` (read by :func:`record_id`); ``None`` when
    blank and optional; :class:`Invalid` when no such row exists. Whether the user may
    see it is the caller's rule."""
    number = record_id(value, required=required, message=message)
    if number is None:
        return None
    found = db.session.get(model, number)
    if found is None:
        raise Invalid(_default(message, _l("Choose a valid record.")))
    return found


def date(value: Any, *, required: bool = False, message: Any = None) -> _dt.date | None:
    """A date (``31/12/2026``, ``2026-12-31``, a date); ``None`` when blank and optional."""
    message = _default(message, _l("Use a date such as 31/12/2026."))
    if _blank(value):
        if required:
            raise Invalid(message)
        return None
    try:
        return parse_date(value)
    except (ValueError, TypeError, OverflowError):
        raise Invalid(message) from None


def clean_field(field: str, parser: Callable[..., Any], value: Any, **options: Any) -> Any:
    """``parser(value, **options)`` for a lone value (an action's one argument): on
    :class:`Invalid`, raise :class:`InvalidInput` for ``field`` at once."""
    errors = Errors()
    result = errors.clean(field, parser, value, **options)
    errors.raise_if_any()
    return result


def like(term: str, *, prefix: bool = False) -> str:
    """A LIKE pattern matching ``term`` literally (``%`` and ``_`` escaped with
    :data:`LIKE_ESCAPE`): anywhere in the text, or at its start with ``prefix=True``."""
    escaped = (term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
               .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))
    return escaped + "%" if prefix else "%" + escaped + "%"


# --- pure parsers' results, remembered within one piece of work ------------------------------
#
# An import checks every row twice, the same cells through the same service: once before
# anything is written (all or nothing) and again, batch by batch, in the write
# transaction (the database may have changed meanwhile). A parser whose result depends on
# its arguments only (a CNPJ's check digits, a phone number's E.164 form, an e-mail's
# syntax: no database, user, clock or locale) gives the same answer the second time;
# within :func:`remembering` it is worked out once per distinct input. Only successful
# results are kept (a refusal is worked out again, its message in the current locale),
# and they must be immutable (text). Outside :func:`remembering` nothing changes.

_remembered: ContextVar[_Memo | None] = ContextVar("erp_remembered", default=None)
# Results kept at most: about 60 MB of short texts (3 per row of 100,000 accounts); past
# it, later inputs are worked out every time.
REMEMBERED_MAX = 300_000


class _Memo:
    """Per parser, its results by input: the lone argument itself when it has no other
    (the usual case: no tuple per entry), else their number, the arguments and the
    options as one flat tuple. Texts and tuples of texts are nothing the garbage
    collector walks: 300,000 results are not 300,000 more objects for each full
    collection to visit."""

    __slots__ = ("by_parser", "size")

    def __init__(self) -> None:
        self.by_parser: dict[tuple[Callable[..., Any], bool], dict] = {}
        self.size = 0


@contextmanager
def remembering() -> Iterator[None]:
    """Within: the results of :func:`pure` parsers are kept by their arguments."""
    token = _remembered.set(_Memo())
    try:
        yield
    finally:
        _remembered.reset(token)


def pure(parser: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a parser whose result depends on its arguments only, and is immutable."""
    lone = (parser, True)
    several = (parser, False)

    @functools.wraps(parser)
    def remembered(*args: Any, **options: Any) -> Any:
        memo = _remembered.get()
        if memo is None:
            return parser(*args, **options)
        if len(args) == 1 and not options:
            kind, key = lone, args[0]
        else:
            kind, key = several, (len(args), *args, *(part for item in sorted(
                options.items()) for part in item))
        results = memo.by_parser.get(kind)
        if results is None:
            results = memo.by_parser[kind] = {}
        try:
            return results[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable argument: not remembered
            return parser(*args, **options)
        result = parser(*args, **options)
        if memo.size < REMEMBERED_MAX:
            results[key] = result
            memo.size += 1
        return result

    return remembered
