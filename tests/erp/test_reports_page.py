"""The host's Reports page, its menu entry, the CSV helper and the SQL day arithmetic."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import DateTime, literal, select

from erp.db import db
from erp.reports import (
    INTEGER,
    MONEY,
    PERCENT,
    Column,
    ReportTable,
    Row,
    csv_response,
    days_between,
)
from tests.conftest import login_as

REPORT_LINK = re.compile(r'data-report="([\w.]+)"')


def listed(client) -> list[str]:
    response = client.get("/reports")
    assert response.status_code == 200
    return REPORT_LINK.findall(response.get_data(as_text=True))


def has_menu_entry(client) -> bool:
    return 'data-menu="reports"' in client.get("/").get_data(as_text=True)


def test_the_page_lists_the_reports_each_user_may_open(app, client, users):
    login_as(client, users["admin"])
    assert listed(client) == ["crm.actions", "crm.funnel", "crm.losses", "finance.aging"]
    assert has_menu_entry(client)
    login_as(client, users["rep_a"])  # CRM, not finance
    assert listed(client) == ["crm.actions", "crm.funnel", "crm.losses"]
    assert has_menu_entry(client)
    login_as(client, users["nobody"])
    assert listed(client) == []
    assert "No report for you yet." in client.get("/reports").get_data(as_text=True)
    assert not has_menu_entry(client)


def test_anonymous_users_are_sent_to_log_in(app, client):
    response = client.get("/reports")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("modules,expected", [
    ([], []),
    (["crm"], ["crm.actions", "crm.funnel", "crm.losses"]),
    (["crm", "finance"], ["crm.actions", "crm.funnel", "crm.losses", "finance.aging"]),
])
def test_only_installed_modules_contribute_reports(app, make_app, users, modules, expected):
    subset = make_app(ERP_MODULES=modules)
    client = subset.test_client()
    login_as(client, users["admin"])
    assert listed(client) == expected
    assert has_menu_entry(client) == bool(expected)
    if "finance" not in modules:
        assert client.get("/finance/reports/aging").status_code == 404


TABLE = ReportTable(
    [Column("name", "Name"), Column("n", "Count", INTEGER), Column("v", "Value", MONEY),
     Column("p", "Share", PERCENT)],
    [Row(("Ação; \"aspas\"", 3, Decimal("1234.5"), Decimal("66.67"))),
     Row(("Sem valor", 0, Decimal("0"), None))],
    Row(("Total", 3, Decimal("1234.5"), Decimal("100"))))


def test_csv_response_streams_the_table_with_a_bom(app):
    with app.test_request_context(), force_locale("en"):
        response = csv_response("my report/2026", TABLE)
        assert response.is_streamed
        body = response.get_data(as_text=True)
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-report-2026.csv"'
    assert response.mimetype == "text/csv"
    assert body == ('\ufeffName,Count,Value,Share\r\n'
                    '"Ação; ""aspas""",3,1234.50,66.7\r\n'
                    "Sem valor,0,0.00,\r\n"
                    "Total,3,1234.50,100.0\r\n")


def test_csv_response_in_portuguese_uses_semicolons_and_commas(app):
    with app.test_request_context(), force_locale("pt_BR"):
        body = csv_response("r", TABLE).get_data(as_text=True)
    assert body.splitlines()[1] == '"Ação; ""aspas""";3;1234,50;66,7'


def test_days_between_in_sql(app, ctx):
    start = datetime(2026, 1, 1, 6, tzinfo=UTC)
    end = datetime(2026, 1, 3, 18, tzinfo=UTC)
    value = db.session.scalar(select(days_between(literal(start, DateTime(timezone=True)),
                                                  literal(end, DateTime(timezone=True)))))
    assert value == pytest.approx(2.5)
