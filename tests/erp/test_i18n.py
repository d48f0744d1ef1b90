"""Languages: per-user locale, Accept-Language, money and date formats, complete catalogs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from erp.auth.models import User
from erp.config import PROJECT_ROOT
from erp.db import db
from erp.i18n import EXTRACT_KEYWORDS, date_filter, datetime_filter, money
from tests.conftest import login_as

NBSP = "\xa0"


def test_anonymous_page_follows_accept_language(client):
    html = client.get("/auth/login", headers={"Accept-Language": "pt-BR,pt;q=0.9"}).get_data(
        as_text=True)
    assert "Entrar" in html and 'lang="pt-BR"' in html, "run `make translations` first"
    html = client.get("/auth/login", headers={"Accept-Language": "en-US,en"}).get_data(
        as_text=True)
    assert "Sign in" in html and 'lang="en"' in html


def test_user_locale_wins_over_the_browser(app, client, users):
    with app.app_context():
        db.session.get(User, users["rep_a"]).locale = "pt_BR"
        db.session.commit()
    login_as(client, users["rep_a"])
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Olá, Rep_A" in html and ">Vendas<" in html  # module catalogs merge with the host's


def test_preferences_change_the_language(client, users):
    from tests.conftest import csrf_token

    login_as(client, users["rep_a"])
    token = csrf_token(client, "/auth/preferences")
    response = client.post("/auth/preferences", data={"csrf_token": token, "locale": "pt_BR",
                                                      "timezone": "America/Manaus"})
    assert response.status_code == 302
    assert "Preferências salvas." in client.get("/auth/preferences").get_data(as_text=True)
    response = client.post("/auth/preferences", data={"csrf_token": token, "locale": "xx",
                                                      "timezone": ""})
    assert response.status_code == 200
    # WTForms' own messages are translated too, next to the field.
    html = response.get_data(as_text=True)
    assert '<div class="invalid-feedback">Escolha inválida.</div>' in html


@pytest.mark.parametrize(
    ("locale", "expected_money", "expected_date"),
    [
        ("pt_BR", f"R${NBSP}1.234,56", "31/12/2026"),
        ("en", "R$1,234.56", "12/31/2026"),
    ],
)
def test_money_and_date_filters(app, locale, expected_money, expected_date):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(locale):
        assert money(Decimal("1234.56")) == expected_money
        assert money(None) == ""
        assert date_filter(date(2026, 12, 31)) == expected_date


def test_datetimes_are_shown_in_the_users_time_zone(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("pt_BR"):
        # 01:30 UTC on 1 January is still 31 December in São Paulo (UTC-3).
        moment = datetime(2027, 1, 1, 1, 30, tzinfo=UTC)
        assert date_filter(moment) == "31/12/2026"
        assert datetime_filter(moment) == "31/12/2026 22:30"


def _catalog_dirs() -> list[tuple[Path, list[Path]]]:
    """The host's catalog; each module's is checked by the module contract, wherever the
    module is installed (erp.testing.contract, run by tests/erp/test_module_contract.py)."""
    return [(PROJECT_ROOT / "erp", [PROJECT_ROOT / "erp"])]  # erp/templates included


@pytest.mark.parametrize(("owner", "sources"), _catalog_dirs(),
                         ids=lambda value: getattr(value, "name", ""))
def test_every_string_is_translated_to_pt_br(owner, sources):
    """Every translatable string in the code has a pt-BR translation in its owner's catalog:
    each module translates with its own domain (its catalog, then the host's), so a string
    another module's catalog translates does not count (test_translation_domains.py)."""
    with open(PROJECT_ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for source in sources:
        for _file, _line, message, _comments, context in extract_from_dir(
            str(source), method_map, options_map, keywords=EXTRACT_KEYWORDS,
        ):
            found.add((message if isinstance(message, str) else message[0], context))
    po_file = owner / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.po"
    assert po_file.exists(), f"{owner.name} has strings but no pt_BR catalog"
    with open(po_file, "rb") as fh:
        catalog = read_po(fh)

    def translated(message, context) -> bool:
        entry = catalog.get(message, context=context)
        if entry is None:
            return False
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        return bool(strings) and all(strings) and not entry.fuzzy

    missing = sorted(f"{m} (context {c})" if c else m for m, c in found if not translated(m, c))
    assert not missing, f"untranslated in {po_file} (make extract-messages): {missing}"
