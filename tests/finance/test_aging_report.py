"""The receivables aging report: overdue by account in 0–30 / 31–60 / 61–90 / 90+ days,
scope, paging, chart, CSV, permissions and cost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp.db import db
from modules.finance.models import Payment, Receivable
from tests.conftest import login_as
from tests.reporting import by_class, csv_rows, html_table, queries_for, same_figures, svgs

AS_OF = "2026-11-23"
ON = {"as_of": AS_OF}


def owe(app, account_id: int, due: date, amount: str, *, paid: str | None = None,
        cancelled: bool = False) -> int:
    with app.app_context():
        receivable = Receivable(account_id=account_id, document=f"NF {due:%d%m}",
                                issue_date=date(2025, 1, 1), due_date=due,
                                amount=Decimal(amount), cancelled=cancelled)
        db.session.add(receivable)
        db.session.flush()
        if paid:
            db.session.add(Payment(receivable_id=receivable.id, account_id=account_id,
                                   date=due, amount=Decimal(paid), method="pix"))
        db.session.commit()
        return receivable.id


@pytest.fixture
def receivables(app, users, make_account):
    """On 23/11/2026. A1 (rep_a): 100 due yesterday and 200 due 30 days ago (0–30: 300),
    400 due 31 days ago (31–60), 50 due 90 days ago (61–90), 1000 due 91 days ago with 250
    paid (90+: 750); not overdue: 999 due today; cancelled: 5000. A2 (rep_a): only
    something not yet due. B1 (rep_b, same team): 80, 22 days. C1 (rep_c): 60, 326 days."""
    a1 = make_account(owner="rep_a", legal_name="Alfa Ltda.")
    a2 = make_account(owner="rep_a", legal_name="Alfa Dois Ltda.")
    b1 = make_account(owner="rep_b", legal_name="Beta Ltda.")
    c1 = make_account(owner="rep_c", legal_name="Gama Ltda.")
    owe(app, a1, date(2026, 11, 22), "100")
    owe(app, a1, date(2026, 10, 24), "200")
    owe(app, a1, date(2026, 10, 23), "400")
    owe(app, a1, date(2026, 8, 25), "50")
    owe(app, a1, date(2026, 8, 24), "1000", paid="250")
    owe(app, a1, date(2026, 11, 23), "999")
    owe(app, a1, date(2026, 9, 1), "5000", cancelled=True)
    owe(app, a1, date(2026, 9, 2), "70", paid="70")  # paid in full
    owe(app, a2, date(2026, 12, 1), "10")
    owe(app, b1, date(2026, 11, 1), "80")
    owe(app, c1, date(2026, 1, 1), "60")
    return {"a1": a1, "b1": b1, "c1": c1}


HEADER = ["Account", "0–30 days", "31–60 days", "61–90 days", "Over 90 days", "Total overdue"]
ALFA = ["Alfa Ltda.", "R$300.00", "R$400.00", "R$50.00", "R$750.00", "R$1,500.00"]
BETA = ["Beta Ltda.", "R$80.00", "R$0.00", "R$0.00", "R$0.00", "R$80.00"]
GAMA = ["Gama Ltda.", "R$0.00", "R$0.00", "R$0.00", "R$60.00", "R$60.00"]


def test_finance_sees_every_account_in_the_right_buckets(app, client, users, receivables):
    login_as(client, users["finance"])
    response = client.get("/finance/reports/aging", query_string=ON)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html_table(html, "aging-report") == [
        HEADER, ALFA, BETA, GAMA,
        ["Total", "R$380.00", "R$400.00", "R$50.00", "R$810.00", "R$1,640.00"]]
    # Each account links to its overdue receivables.
    assert f'href="/finance/?account_id={receivables["a1"]}&amp;status=overdue"' in html
    (chart,) = svgs(html)
    assert chart.get("role") == "img"
    bars = by_class(chart, "rect", "bar")
    assert len(bars) == 4  # one per bucket
    heights = [float(b.get("height")) for b in bars]
    assert heights[3] == max(heights)  # 810 over 90 days
    assert heights[1] == pytest.approx(heights[3] * 400 / 810, abs=0.1)


def test_scope_manager_sees_the_team_and_a_rep_has_no_access(app, client, users, receivables):
    login_as(client, users["manager"])  # finance.read, team scope
    table = html_table(client.get("/finance/reports/aging", query_string=ON)
                       .get_data(as_text=True), "aging-report")
    assert table[1:3] == [ALFA, BETA] and table[3][0] == "Total" and len(table) == 4
    assert table[3][-1] == "R$1,580.00"
    only_b = client.get("/finance/reports/aging",
                        query_string={**ON, "owner": users["rep_b"]}).get_data(as_text=True)
    assert html_table(only_b, "aging-report")[1] == BETA
    # An owner outside the team is no choice: a clear 400.
    response = client.get("/finance/reports/aging", query_string={**ON, "owner": users["rep_c"]})
    assert response.status_code == 400
    login_as(client, users["rep_a"])  # no finance.read
    assert client.get("/finance/reports/aging").status_code == 403


def test_csv_is_the_whole_table_across_pages(app, client, users, receivables, monkeypatch):
    login_as(client, users["finance"])
    whole = html_table(client.get("/finance/reports/aging", query_string=ON)
                       .get_data(as_text=True), "aging-report")
    export = client.get("/finance/reports/aging", query_string={**ON, "format": "csv"})
    same_figures(whole, csv_rows(export))
    assert csv_rows(export)[1] == ["Alfa Ltda.", "300.00", "400.00", "50.00", "750.00",
                                   "1500.00"]
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", 2)
    second = client.get("/finance/reports/aging", query_string={**ON, "page": 2})
    table = html_table(second.get_data(as_text=True), "aging-report")
    assert table[1] == GAMA and table[-1][0] == "Total"  # totals are over every page
    assert table[-1][-1] == "R$1,640.00"
    exported = csv_rows(client.get("/finance/reports/aging",
                                   query_string={**ON, "format": "csv", "page": 2}))
    assert [row[0] for row in exported[1:]] == ["Alfa Ltda.", "Beta Ltda.", "Gama Ltda.",
                                                "Total"]


def test_pt_br_csv_uses_semicolons_and_decimal_commas(app, client, users, receivables):
    from erp.auth.models import User

    with app.app_context():
        db.session.get(User, users["finance"]).locale = "pt_BR"
        db.session.commit()
    login_as(client, users["finance"])
    text = client.get("/finance/reports/aging", query_string={**ON, "format": "csv"}
                      ).get_data(as_text=True)
    assert text.startswith("\ufeffConta;")
    assert "\r\nAlfa Ltda.;300,00;400,00;50,00;750,00;1500,00\r\n" in text


def test_empty_state_and_bad_date(app, client, users, receivables):
    login_as(client, users["finance"])
    html = client.get("/finance/reports/aging", query_string={"as_of": "2020-01-01"}
                      ).get_data(as_text=True)
    assert "Nothing is overdue." in html and "<svg" not in html
    response = client.get("/finance/reports/aging", query_string={"as_of": "31/02/2026"})
    assert response.status_code == 400
    assert "Use a date such as 31/12/2026." in response.get_data(as_text=True)


def test_permission_and_login(app, client, users):
    login_as(client, users["nobody"])
    assert client.get("/finance/reports/aging").status_code == 403
    response = app.test_client().get("/finance/reports/aging")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_query_count_does_not_grow_with_the_accounts(app, client, users, make_account):
    login_as(client, users["finance"])
    for index in range(2):
        owe(app, make_account(owner="rep_a", legal_name=f"Conta {index}"),
            date(2026, 10, 1), "10")
    urls = ["/finance/reports/aging?as_of=2026-11-23",
            "/finance/reports/aging?as_of=2026-11-23&format=csv"]
    small = [queries_for(app, client, url) for url in urls]
    for index in range(2, 20):
        account = make_account(owner=("rep_a", "rep_b", "rep_c")[index % 3],
                               legal_name=f"Conta {index}")
        owe(app, account, date(2026, 10, 1), "10", paid="3")
        owe(app, account, date(2026, 1, 1), "20")
    assert [queries_for(app, client, url) for url in urls] == small


def test_two_accounts_with_the_same_trade_name_are_told_apart(app, client, users,
                                                               make_account):
    """Issue 17: the report showed only the trade name, so two "Silva Comércio de Peças"
    looked the same; now the legal name follows a trade name that differs from it."""
    first = make_account(owner="rep_a", legal_name="Silva Comércio de Peças Ltda.",
                         trade_name="Silva Peças")
    second = make_account(owner="rep_b", legal_name="J. Silva e Filhos ME",
                          trade_name="Silva Peças")
    plain = make_account(owner="rep_b", legal_name="Sem Fantasia Ltda.",
                         trade_name="Sem Fantasia Ltda.")
    for account, amount in ((first, "300"), (second, "200"), (plain, "100")):
        owe(app, account, date(2026, 11, 1), amount)
    login_as(client, users["finance"])
    page = html_table(client.get("/finance/reports/aging", query_string=ON)
                      .get_data(as_text=True), "aging-report")
    export = csv_rows(client.get("/finance/reports/aging",
                                 query_string={**ON, "format": "csv"}))
    expected = ["Silva Peças — Silva Comércio de Peças Ltda.",
                "Silva Peças — J. Silva e Filhos ME", "Sem Fantasia Ltda."]
    assert [row[0] for row in page[1:4]] == expected
    assert [row[0] for row in export[1:4]] == expected
