"""Languages, time zones and the money/date filters every template uses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import (
    Babel,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    get_translations,
)
from flask_login import current_user

babel = Babel()


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
    return format_currency(value, currency or current_app.config["ERP_CURRENCY"])


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
    if isinstance(value, datetime):  # format_datetime moves it to the user's time zone
        return format_datetime(value, _date_pattern(fmt))
    return format_date(value, _date_pattern(fmt))


def _date_pattern(fmt: str) -> str:
    # Babel's "short" date has a two-digit year in English (12/31/26); a business
    # document wants four digits in every language.
    if fmt != "short":
        return fmt
    return "dd/MM/yyyy" if str(get_locale()).startswith("pt") else "MM/dd/yyyy"


def datetime_filter(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
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


def init_app(app, translation_dirs: list[str]) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # The templates' _() and friends, as Flask-Babel installs them but through translations().
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters.update(
        money=money, number=number, date=date_filter, datetime=datetime_filter
    )
