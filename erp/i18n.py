"""Languages, time zones, the money/date filters every template uses, and each module's
own catalog.

Every module translates with its own domain: its catalog first, then the host's
(``erp/translations``), never another module's — service's "Order" is "OS" and sales'
"Pedido" in one app. Its Python code asks :func:`module_i18n` for its translator
(``_ = module_i18n(__name__).gettext``); its templates need nothing: a template found in
a module's folder is compiled with that module's domain (:class:`DomainI18n`). The host's
own code and templates keep Flask-Babel's default domain, the host's catalog alone.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from babel import numbers
from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import (
    Babel,
    Domain,
    LazyString,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    format_timedelta,
    get_locale,
    get_timezone,
    get_translations,
)
from flask_babel import format_number as _format_number
from flask_babel import format_percent as _format_percent
from flask_babel import format_scientific as _format_scientific
from flask_login import current_user
from jinja2 import nodes, pass_context
from jinja2.ext import InternationalizationExtension
from jinja2.lexer import Token
from markupsafe import Markup

# The templates' translation calls are installed by DomainI18n below, not by Flask-Babel.
babel = Babel(configure_jinja=False)
HOST_TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """The user's chosen language; for anonymous pages, the browser's."""
    languages = list(current_app.config["ERP_LANGUAGES"])
    if has_request_context():
        if current_user.is_authenticated and current_user.locale in languages:
            return current_user.locale
        best = request.accept_languages.best_match([lang.replace("_", "-") for lang in languages])
        if best:
            return best.replace("-", "_")
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def money(value: Decimal | float | int | None, currency: str | None = None) -> str:
    """``R$ 1.234,56`` in pt-BR, ``R$1,234.56`` in English; empty for None."""
    if value is None:
        return ""
    currency = currency or current_app.config["ERP_CURRENCY"]
    locale = get_locale()
    if locale is not None:
        shown = money_format(locale, currency).format(value)
        if shown is not None:
            return shown
    return format_currency(value, currency)


class MoneyFormat:
    """A locale's standard currency format for one currency, worked out once per process
    (:func:`money_format`): the pattern's prefix and suffix with the currency's symbol,
    the separators, the grouping and the currency's digits. :meth:`format` then does what
    Babel's ``NumberPattern.apply`` does for it, step for step (the same text), without
    looking up the locale's data, the currency's digits and symbol and the separators
    again for every amount: a list of 50 rows showed 50 amounts, 26 µs each (issue 15's
    throughput). ``format`` answers None for what it does not cover (not finite, or a
    pattern it does not handle): the caller then asks Babel."""

    def __init__(self, locale, currency: str):
        pattern = locale.currency_formats["standard"]
        affixes = "".join((*pattern.prefix, *pattern.suffix))
        self.usable = (not pattern.scale and not pattern.exp_prec and "@" not in pattern.pattern
                       and pattern.number_pattern != "" and "¤¤¤" not in affixes)
        symbol = numbers.get_currency_symbol(currency, locale)

        def filled(text: str) -> str:  # as apply() fills the whole text: ¤¤ first, then ¤
            return text.replace("¤¤", currency.upper()).replace("¤", symbol)

        self.prefix = tuple(filled(text) for text in pattern.prefix)
        self.suffix = tuple(filled(text) for text in pattern.suffix)
        self.digits = numbers.get_currency_precision(currency)
        self.quantum = numbers.get_decimal_quantum(self.digits)
        self.int_min = pattern.int_prec[0]
        self.grouping = pattern.grouping
        self.group = numbers.get_group_symbol(locale, numbering_system="latn")
        self.decimal = numbers.get_decimal_symbol(locale, numbering_system="latn")

    def format(self, value) -> str | None:
        if not self.usable:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        if not value.is_finite():
            return None
        value = value.scaleb(0)
        negative = int(value.is_signed())
        rounded = abs(value).normalize().quantize(self.quantum)
        whole, _sep, fraction = f"{rounded:f}".partition(".")
        if len(whole) < self.int_min:
            whole = "0" * (self.int_min - len(whole)) + whole
        size, grouped = self.grouping[0], ""
        while len(whole) > size:
            grouped = self.group + whole[-size:] + grouped
            whole = whole[:-size]
            size = self.grouping[1]
        number = whole + grouped
        if self.digits:
            fraction = fraction or "0"
            if len(fraction) < self.digits:
                fraction += "0" * (self.digits - len(fraction))
            while len(fraction) > self.digits and fraction[-1] == "0":
                fraction = fraction[:-1]
            number += self.decimal + fraction
        shown = self.prefix[negative] + number + self.suffix[negative]
        if "'" in shown:  # quoted literal text, as apply() unquotes it
            shown = re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", shown)
        return shown


_money_formats: dict[tuple[str, str], MoneyFormat] = {}


def money_format(locale, currency: str) -> MoneyFormat:
    """The :class:`MoneyFormat` of ``locale`` (a Babel Locale) and ``currency``, made once."""
    key = (str(locale), currency)
    found = _money_formats.get(key)
    if found is None:
        found = _money_formats.setdefault(key, MoneyFormat(locale, currency))
    return found


def number(value, digits: int | None = None) -> str:
    if value is None:
        return ""
    if digits is None:
        return format_decimal(value)
    return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")


def date_filter(value: date | datetime | None, fmt: str = "short") -> str:
    """31/12/2026 in pt-BR; a datetime is first moved to the user's time zone."""
    if value is None:
        return ""
    if fmt == "short" and isinstance(value, date):
        return _short(value, with_time=False)
    if isinstance(value, datetime):  # format_datetime moves it to the user's time zone
        return format_datetime(value, _date_pattern(fmt))
    return format_date(value, _date_pattern(fmt))


def _short(value: date | datetime, *, with_time: bool) -> str:
    """The "short" format (dd/MM/yyyy or MM/dd/yyyy, then HH:mm), as Babel writes those
    patterns (each field zero-padded to its letters' count), a datetime first moved to the
    user's time zone as Flask-Babel's format_datetime moves it (naive is UTC). Every list
    row shows a date or two: Babel's formatter took 17-30 µs for one (issue 15's
    throughput), as much as the rest of the row."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        zone = get_timezone()
        if zone is not None:
            value = value.astimezone(zone)
            if hasattr(zone, "normalize"):  # pytz
                value = zone.normalize(value)
    if _day_first():
        shown = f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    else:
        shown = f"{value.month:02d}/{value.day:02d}/{value.year:04d}"
    if with_time:
        shown += f" {value.hour:02d}:{value.minute:02d}"
    return shown


def _date_pattern(fmt: str) -> str:
    # Babel's "short" date has a two-digit year in English (12/31/26); a business
    # document wants four digits in every language.
    if fmt != "short":
        return fmt
    return "dd/MM/yyyy" if _day_first() else "MM/dd/yyyy"


def _day_first() -> bool:
    """Whether the user's language writes the day before the month (Portuguese)."""
    return str(get_locale()).startswith("pt")


def datetime_filter(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    if fmt == "short" and isinstance(value, date):
        if not isinstance(value, datetime):  # as Babel takes a date: its midnight, in UTC
            value = datetime.combine(value, time())
        return _short(value, with_time=True)
    if fmt == "short":
        return format_datetime(value, _date_pattern("short") + " HH:mm")
    return format_datetime(value, fmt)


def translations():
    """``flask_babel.get_translations()``, remembered for the request's locale and domain.

    Flask-Babel looks the catalogue up again for every string (the request context three
    times, the locale's name built anew): some 10 µs, and a page translates a hundred or
    more strings in its templates. The catalogue found is kept beside Flask-Babel's own
    per-request state, with the locale and domain objects it was found for; a
    ``force_locale`` block or ``refresh()`` replaces those objects, and the catalogue is
    then looked up again."""
    state = g.get("_flask_babel") if has_app_context() else None
    if state is not None:
        known = state.__dict__.get("erp_translations")
        if (known is not None and known[0] is state.__dict__.get("babel_locale")
                and known[1] is state.__dict__.get("babel_domain")):
            return known[2]
    found = get_translations()
    state = g.get("_flask_babel") if has_app_context() else None
    if state is not None and "babel_locale" in state.__dict__:
        state.erp_translations = (state.babel_locale, state.__dict__.get("babel_domain"),
                                  found)
    return found


class ModuleDomain(Domain):
    """One module's strings: its catalog merged over the host's, so that the module's own
    translation wins and a string it does not translate falls back to the host's (never
    to another module's). One per catalog folder in the process (:func:`module_domain`);
    Flask-Babel keeps the merged catalogue per locale, and :meth:`get_translations`
    remembers it for the request as :func:`translations` does for the host's."""

    def __init__(self, name: str, directory: Path | None):
        folders = [str(HOST_TRANSLATIONS)]
        if directory is not None and directory.resolve() != HOST_TRANSLATIONS:
            folders.append(str(directory))  # merged last: the module's translation wins
        super().__init__(folders)
        self.name = name
        self.directory = directory

    def __repr__(self):
        return f"<ModuleDomain {self.name!r} {self.directory}>"

    def get_translations(self):
        state = g.get("_flask_babel") if has_app_context() else None
        if state is not None:
            known = state.__dict__.get("erp_module_translations")
            if known is not None:
                entry = known.get(self)
                if entry is not None and entry[0] is state.__dict__.get("babel_locale"):
                    return entry[1]
        found = super().get_translations()
        state = g.get("_flask_babel") if has_app_context() else None
        if state is not None and "babel_locale" in state.__dict__:
            state.__dict__.setdefault("erp_module_translations", {})[self] = (
                state.babel_locale, found)
        return found


_domains: dict[str, ModuleDomain] = {}


def module_domain(name: str, directory: Path | None) -> ModuleDomain:
    """The domain of the module ``name`` whose catalogs are in ``directory`` (its
    ``translations`` folder), made once per folder."""
    key = os.path.realpath(directory) if directory is not None else f"<{name}>"
    found = _domains.get(key)
    if found is None:
        found = _domains.setdefault(key, ModuleDomain(name, directory))
    return found


def _owning_module(dotted: str):
    """The module package (the one with a ``manifest``) that contains ``dotted``."""
    from .modules import Manifest

    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        package = sys.modules.get(".".join(parts[:end]))
        if isinstance(getattr(package, "manifest", None), Manifest):
            return package
    raise RuntimeError(f"module_i18n({dotted!r}): no module (a package with a manifest) "
                       "contains it; pass the __name__ of a file inside a module")


class Translator:
    """A module's gettext and friends, in the module's own domain (:func:`module_i18n`).

    The domain is found on first use, from the name given: the package with a
    ``manifest`` that contains it, and that package's ``translations`` folder."""

    def __init__(self, dotted: str):
        self.dotted = dotted
        self._domain: ModuleDomain | None = None

    def __repr__(self):
        return f"<Translator {self.dotted!r}>"

    @property
    def domain(self) -> ModuleDomain:
        if self._domain is None:
            package = _owning_module(self.dotted)
            self._domain = module_domain(
                package.manifest.name, Path(package.__file__).resolve().parent / "translations")
        return self._domain

    def gettext(self, string: str, **variables) -> str:
        s = self.domain.get_translations().ugettext(string)
        return s % variables if variables else s

    def ngettext(self, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        s = self.domain.get_translations().ungettext(singular, plural, num)
        return s % variables

    def pgettext(self, context: str, string: str, **variables) -> str:
        s = self.domain.get_translations().upgettext(context, string)
        return s % variables if variables else s

    def npgettext(self, context: str, singular: str, plural: str, num: int,
                  **variables) -> str:
        variables.setdefault("num", num)
        s = self.domain.get_translations().unpgettext(context, singular, plural, num)
        return s % variables

    def lazy_gettext(self, string: str, **variables) -> LazyString:
        return LazyString(self.gettext, string, **variables)

    def lazy_ngettext(self, singular: str, plural: str, num: int, **variables) -> LazyString:
        return LazyString(self.ngettext, singular, plural, num, **variables)

    def lazy_pgettext(self, context: str, string: str, **variables) -> LazyString:
        return LazyString(self.pgettext, context, string, **variables)


_translators: dict[str, Translator] = {}

# What code calls to translate, for extracting a catalog (Babel's keywords: `pybabel extract
# -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2` beside its defaults):
# the names of a module's translator's functions (module_i18n) and Flask-Babel's.
EXTRACT_KEYWORDS = {
    "_": None, "gettext": None, "_l": None, "lazy_gettext": None,
    "ngettext": (1, 2), "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3),
}


def module_i18n(name: str) -> Translator:
    """The translator of the module that contains the Python module ``name``: in a module,
    ``_ = module_i18n(__name__).gettext``, ``_l = module_i18n(__name__).lazy_gettext``
    (also ``ngettext``, ``pgettext``, ``npgettext``, ``lazy_ngettext``, ``lazy_pgettext``).
    Its strings come from the module's catalog, else from the host's."""
    found = _translators.get(name)
    if found is None:
        found = _translators.setdefault(name, Translator(name))
    return found


# The templates. A template compiled from a file inside a module's folder translates with
# that module's domain: DomainI18n rewrites its _(), gettext(), ngettext(), pgettext() and
# npgettext() calls, and the calls {% trans %} blocks compile to, into calls of the
# erp_*gettext globals below with the module's name as first argument. That is settled
# when the template is compiled, so a module's tab included in CRM's account page, or a
# module's macro imported by a host template, keeps its own module's strings.
_TEMPLATE_CALLS = {
    "_": "erp_gettext",
    "gettext": "erp_gettext",
    "ngettext": "erp_ngettext",
    "pgettext": "erp_pgettext",
    "npgettext": "erp_npgettext",
}


class DomainI18n(InternationalizationExtension):
    """Jinja's i18n extension (``{% trans %}``, ``_()``, newstyle gettext), plus each
    module template's calls bound at compile time to its module's domain."""

    def _template_domain(self, filename: str | None) -> str | None:
        if not filename:
            return None
        path = os.path.realpath(filename)
        found, length = None, 0
        for folder, name in getattr(self.environment, "erp_template_domains", ()):
            if path.startswith(folder) and len(folder) > length:
                found, length = name, len(folder)
        return found

    def filter_stream(self, stream):
        domain = self._template_domain(stream.filename)
        if domain is None:
            return stream
        return self._bind_calls(stream, domain)

    @staticmethod
    def _bind_calls(stream, domain: str):
        before = pending = None
        for token in stream:
            if pending is not None:
                if token.type == "lparen":
                    yield Token(pending.lineno, "name", _TEMPLATE_CALLS[pending.value])
                    yield token
                    yield Token(token.lineno, "string", domain)
                    yield Token(token.lineno, "comma", ",")
                    pending, before = None, token
                    continue
                yield pending
                before, pending = pending, None
            if (token.type == "name" and token.value in _TEMPLATE_CALLS
                    and (before is None or before.type != "dot")):
                pending = token
                continue
            yield token
            before = token
        if pending is not None:
            yield pending

    def parse(self, parser):
        node = super().parse(parser)
        domain = self._template_domain(parser.filename)
        if domain is not None:
            for call in node.find_all(nodes.Call):
                if isinstance(call.node, nodes.Name) and call.node.name in _TEMPLATE_CALLS:
                    call.node = nodes.Name(_TEMPLATE_CALLS[call.node.name], "load")
                    call.args.insert(0, nodes.Const(domain))
        return node


def _domain_callables(domains: dict[str, ModuleDomain]) -> dict:
    """The erp_*gettext template globals: Jinja's newstyle gettext, in a module's domain."""

    def done(context, text, variables):
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704 (the catalog's text: Jinja's gettext)
        return text % variables  # always a format string, as Jinja's newstyle gettext

    @pass_context
    def erp_gettext(__context, __domain, __string, **variables):
        return done(__context, domains[__domain].get_translations().ugettext(__string),
                    variables)

    @pass_context
    def erp_ngettext(__context, __domain, __singular, __plural, __num, **variables):
        variables.setdefault("num", __num)
        text = domains[__domain].get_translations().ungettext(__singular, __plural, __num)
        return done(__context, text, variables)

    @pass_context
    def erp_pgettext(__context, __domain, __string_ctx, __string, **variables):
        variables.setdefault("context", __string_ctx)
        text = domains[__domain].get_translations().upgettext(__string_ctx, __string)
        return done(__context, text, variables)

    @pass_context
    def erp_npgettext(__context, __domain, __string_ctx, __singular, __plural, __num,
                      **variables):
        variables.setdefault("context", __string_ctx)
        variables.setdefault("num", __num)
        text = domains[__domain].get_translations().unpgettext(
            __string_ctx, __singular, __plural, __num)
        return done(__context, text, variables)

    return {"erp_gettext": erp_gettext, "erp_ngettext": erp_ngettext,
            "erp_pgettext": erp_pgettext, "erp_npgettext": erp_npgettext}


def init_app(app, modules=()) -> None:
    """Languages for ``app``: the host's catalog for the host's strings, and for each of
    ``modules`` (the enabled ones, :class:`erp.modules.LoadedModule`) its own domain."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(HOST_TRANSLATIONS)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    env = app.jinja_env
    # What Flask-Babel's configure_jinja adds, with DomainI18n instead of jinja2.ext.i18n.
    env.filters.update(
        datetimeformat=format_datetime, dateformat=format_date, timeformat=format_time,
        timedeltaformat=format_timedelta, numberformat=_format_number,
        decimalformat=format_decimal, currencyformat=format_currency,
        percentformat=_format_percent, scientificformat=_format_scientific,
    )
    env.add_extension(DomainI18n)
    domains = {}
    template_folders = []
    for module in modules:
        domains[module.name] = module_domain(module.name, module.path / "translations")
        template_folders.append((os.path.realpath(module.path) + os.sep, module.name))
    env.erp_template_domains = tuple(template_folders)
    env.globals.update(_domain_callables(domains))
    # The host templates' _() and friends, as Flask-Babel installs them but through
    # translations().
    env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    env.globals["get_locale"] = get_locale
    env.filters.update(
        money=money, number=number, date=date_filter, datetime=datetime_filter
    )
