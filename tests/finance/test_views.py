"""The finance pages and what finance adds to the account page: permissions, record
scope, forms (CSRF, 422 with nothing written), the tab, stats, Create entry, timeline."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp.db import db
from erp.registry import TimelineSource
from erp.timeline import Cursor
from modules.finance.models import Payment, Receivable
from tests.conftest import csrf_token, login_as
from tests.finance.conftest import issue
from tests.reporting import html_table

LONG_AGO = date(2020, 1, 1)


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def account(make_account):
    return make_account(owner="rep_a", legal_name="Cliente Financeiro Ltda.")


@pytest.fixture
def overdue_and_open(account, make_receivables, pay):
    """One overdue receivable (partly paid) and one open, due in the future."""
    (late,) = make_receivables(account, document="Atrasado", amount="100",
                               due_date=date.today() - timedelta(days=40), today=LONG_AGO)
    (later,) = make_receivables(account, document="Futuro", amount="250",
                                due_date=date.today() + timedelta(days=10))
    pay(late, "30", on=date.today(), today=date.today())
    return late, later


ROUTES = ["/finance/", "/finance/reports/aging", "/finance/receivables/{late}",
          "/finance/receivables/new?account_id={account}"]


@pytest.mark.parametrize("who, expected", [
    ("rep_a", [403, 403, 403, 403]),  # a sales rep has no finance.read by default
    ("service", [403, 403, 403, 403]),
    ("nobody", [403, 403, 403, 403]),
    ("manager", [200, 200, 200, 403]),  # reads, does not write
    ("finance", [200, 200, 200, 200]),
    ("admin", [200, 200, 200, 200]),
])
def test_permissions_on_every_page(app, client, users, account, overdue_and_open, who, expected):
    late, _later = overdue_and_open
    login_as(client, users[who])
    got = [client.get(url.format(late=late, account=account)).status_code for url in ROUTES]
    assert got == expected
    posts = [f"/finance/receivables/{late}/payments", f"/finance/receivables/{late}/cancel",
             f"/finance/receivables/new?account_id={account}"]
    token = csrf_token(client, "/auth/preferences")
    for url in posts:
        status = client.post(url, data={"csrf_token": token}).status_code
        writes = who in ("finance", "admin")
        assert status in ((303, 422) if writes else (403,)), (url, status)
    with app.app_context():  # the cancel was refused (it has a payment): nothing changed
        assert not db.session.get(Receivable, late).cancelled
        assert count(Receivable) == 2 and count(Payment) == 1


def test_anonymous_goes_to_the_login_page(client, account):
    response = client.get("/finance/")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_record_scope_is_a_404(client, users, make_account, make_receivables):
    theirs = make_account(owner="rep_c", legal_name="Outro Time")
    (rid,) = make_receivables(theirs, document="Invisível")
    login_as(client, users["manager"])  # team scope: rep_c is in another team
    assert client.get(f"/finance/receivables/{rid}").status_code == 404
    assert "Invisível" not in client.get("/finance/").get_data(as_text=True)
    assert "Outro Time" not in client.get("/finance/reports/aging").get_data(as_text=True)
    assert client.get(f"/finance/?account_id={theirs}").status_code == 404
    login_as(client, users["finance"])  # finance sees every account
    assert client.get(f"/finance/receivables/{rid}").status_code == 200


def test_list_filters_paging_and_totals(app, client, users, account, make_receivables,
                                        overdue_and_open):
    make_receivables(account, document="Muitas", amount="30", installments="30",
                     due_date=date.today() + timedelta(days=100))
    login_as(client, users["finance"])
    html = client.get("/finance/").get_data(as_text=True)
    assert html.count('class="receivable') == app.config["ERP_PAGE_SIZE"]
    assert "32 records" in html
    assert 'rel="next"' in html
    page2 = client.get("/finance/?page=2").get_data(as_text=True)
    assert page2.count('class="receivable') == 32 - app.config["ERP_PAGE_SIZE"]
    overdue = client.get("/finance/?status=overdue").get_data(as_text=True)
    assert re.findall(r'data-status="([a-z]+)"', overdue) == ["overdue"]
    assert "table-danger" in overdue and "Atrasado" in overdue
    assert 'data-total="outstanding">R$70.00' in overdue
    assert "Futuro" in client.get("/finance/?q=futu").get_data(as_text=True)
    assert "No receivables found" in client.get("/finance/?q=zzz").get_data(as_text=True)
    assert client.get("/finance/?page=abc&status=<x>&account_id=x").status_code == 200


def test_record_a_payment_through_the_form(client, users, overdue_and_open):
    late, _later = overdue_and_open
    login_as(client, users["finance"])
    url = f"/finance/receivables/{late}"
    token = csrf_token(client, url)
    response = client.post(f"{url}/payments", data={
        "csrf_token": token, "amount": "70,00", "date": "", "method": "boleto"})
    assert response.status_code == 303 and response.location.endswith(url)
    html = client.get(url).get_data(as_text=True)
    assert 'data-status="paid"' in html and 'id="payment-form"' not in html


def _input(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


@pytest.mark.parametrize("locale, shown", [("pt_BR", "2.750,00"), ("en", "2,750.00")])
def test_payment_amount_prefilled_in_the_users_locale_and_read_back(
        app, client, users, account, make_receivables, locale, shown):
    """The amount to pay was prefilled "2750.00" whatever the language: now as the user writes
    money ("2.750,00" in pt-BR), and posting it as shown pays the receivable (issue 17)."""
    from erp.auth.models import User

    (rid,) = make_receivables(account, document="Grande", amount="2750")
    with app.app_context():
        db.session.get(User, users["finance"]).locale = locale
        db.session.commit()
    login_as(client, users["finance"])
    url = f"/finance/receivables/{rid}"
    html = client.get(url).get_data(as_text=True)
    assert f'value="{shown}"' in _input(html, "amount")
    response = client.post(f"{url}/payments", data={
        "csrf_token": csrf_token(client, url), "amount": shown, "date": "", "method": "pix"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Receivable, rid).outstanding == Decimal("0.00")


def test_date_fields_are_date_inputs_not_filled_looking_placeholders(client, users, account,
                                                                     make_receivables):
    """The receivable form's date placeholders ("31/12/2026") looked like filled-in values:
    date inputs now, as in the other forms (the browser shows dd/mm/aaaa; issue 17)."""
    (rid,) = make_receivables(account)
    login_as(client, users["finance"])
    new = client.get(f"/finance/receivables/new?account_id={account}").get_data(as_text=True)
    payment = client.get(f"/finance/receivables/{rid}").get_data(as_text=True)
    for html, name in ((new, "issue_date"), (new, "due_date"), (payment, "date")):
        tag = _input(html, name)
        assert 'type="date"' in tag and "placeholder" not in tag, tag
    # What a date input posts (ISO) and what people type (pt-BR) are both read.
    url = f"/finance/receivables/new?account_id={account}"
    later = date.today() + timedelta(days=60)
    for due in (later.isoformat(), later.strftime("%d/%m/%Y")):
        response = client.post(url, data={
            "csrf_token": csrf_token(client, url), "document": f"D-{due}",
            "issue_date": "", "due_date": due, "amount": "100,00", "installments": "1"})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("data", [
    {"amount": "70,01", "method": "pix"},
    {"amount": "0", "method": "pix"},
    {"amount": "abc", "method": "pix"},
    {"amount": "10", "method": "pix", "date": "32/13/2026"},
    {"amount": "10", "method": "nope"},
])
def test_bad_payment_is_a_422_with_nothing_written(app, client, users, overdue_and_open,
                                                   data):
    late, _later = overdue_and_open
    login_as(client, users["finance"])
    url = f"/finance/receivables/{late}"
    response = client.post(f"{url}/payments", data={"csrf_token": csrf_token(client, url),
                                                    **data})
    assert response.status_code == 422
    assert "invalid-feedback" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Payment) == 1  # the fixture's


def test_a_payment_without_csrf_token_is_refused(app, client, users, overdue_and_open):
    late, _later = overdue_and_open
    login_as(client, users["finance"])
    response = client.post(f"/finance/receivables/{late}/payments",
                           data={"amount": "1", "method": "pix"})
    assert response.status_code in (400, 422)
    with app.app_context():
        assert count(Payment) == 1


def test_create_entry_saves_and_goes_back_to_a_safe_next(app, client, users, account):
    login_as(client, users["finance"])
    page = f"/crm/accounts/{account}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-create="finance.new_receivable"' in html
    form = f"/finance/receivables/new?account_id={account}&next={page}%3Ftab%3Dfinance"
    token = csrf_token(client, form)
    response = client.post(form, data={"csrf_token": token, "document": "Contrato 1",
                                       "due_date": "10/01/2030", "amount": "1.200,00",
                                       "installments": "2"})
    assert response.status_code == 303 and response.location.endswith(f"{page}?tab=finance")
    with app.app_context():
        assert [(r.document, r.amount, r.due_date) for r in db.session.scalars(
            select(Receivable).order_by(Receivable.id))] == [
            ("Contrato 1 1/2", Decimal("600.00"), date(2030, 1, 10)),
            ("Contrato 1 2/2", Decimal("600.00"), date(2030, 2, 10))]
    evil = f"/finance/receivables/new?account_id={account}&next=https://evil.example/"
    response = client.post(evil, data={"csrf_token": token, "document": "Contrato 2",
                                       "due_date": "10/01/2030", "amount": "5"})
    assert response.status_code == 303 and "evil" not in response.location
    assert response.location.startswith("/finance/receivables/")


def test_bad_receivable_is_a_422_with_nothing_written(app, client, users, account,
                                                      make_account):
    login_as(client, users["finance"])
    form = f"/finance/receivables/new?account_id={account}"
    token = csrf_token(client, form)
    response = client.post(form, data={"csrf_token": token, "document": "",
                                       "due_date": "ontem", "amount": "-1",
                                       "installments": "500"})
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("invalid-feedback") >= 4
    with app.app_context():
        assert count(Receivable) == 0
    assert client.get("/finance/receivables/new?account_id=abc").status_code == 404
    assert client.get("/finance/receivables/new?account_id=999999").status_code == 404


def test_cancel_by_hand(app, client, users, account, make_receivables):
    (rid,) = make_receivables(account)
    login_as(client, users["finance"])
    url = f"/finance/receivables/{rid}"
    response = client.post(f"{url}/cancel", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 303
    assert 'data-status="cancelled"' in client.get(url).get_data(as_text=True)


def test_one_aging_page_the_old_address_redirects_with_its_filters(client, users, account,
                                                                  overdue_and_open):
    """Two aging pages (/finance/aging without chart or CSV, the report with both): the
    report is the one left; the old address sends there with the same filters, and the
    receivables list links to it (issue 17)."""
    login_as(client, users["manager"])
    response = client.get("/finance/aging?owner=3&page=2")
    assert response.status_code in (301, 302)
    assert response.location.startswith("/finance/reports/aging?")
    assert "owner=3" in response.location and "page=2" in response.location
    html = client.get("/finance/aging", follow_redirects=True).get_data(as_text=True)
    assert 'id="aging-report"' in html and "format=csv" in html
    table = html_table(html, "aging-report")
    assert table[1][1:] == ["R$0.00", "R$70.00", "R$0.00", "R$0.00", "R$70.00"]
    listing = client.get("/finance/").get_data(as_text=True)
    assert re.search(r'id="aging-link"', listing)
    assert 'href="/finance/reports/aging"' in listing and 'href="/finance/aging"' not in listing


# --- the account page ----------------------------------------------------------------------


def test_tab_stats_and_count_on_the_account_page(client, users, account, overdue_and_open,
                                                 make_receivables, pay):
    (done,) = make_receivables(account, document="Quitado", amount="5")
    pay(done, "5")
    login_as(client, users["finance"])
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert 'data-tab="finance"' in page
    assert 'data-stat="finance.open_receivables"' in page
    assert 'data-stat="finance.overdue"' in page
    tab = client.get(f"/crm/accounts/{account}/tabs/finance").get_data(as_text=True)
    assert 'data-count="2"' in tab  # open receivables: the paid one is not counted
    assert client.get(f"/crm/accounts/{account}/tabs/finance/count").get_json() == {"count": 2}
    assert re.findall(r'data-status="(\w+)"', tab) == ["overdue", "open"]
    assert 'class="receivable table-danger"' in tab
    assert 'data-total="open">R$320.00' in tab and 'data-total="overdue">R$70.00' in tab
    assert tab.count('class="payment"') == 2
    full = client.get(f"/crm/accounts/{account}?tab=finance").get_data(as_text=True)
    assert 'id="panel-finance"' in full and "R$320.00" in full and "R$70.00" in full


def test_a_sales_rep_sees_no_finance_on_the_account_page(client, users, account,
                                                          overdue_and_open):
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert 'data-tab="finance"' not in page and 'data-stat="finance.' not in page
    assert 'data-create="finance.' not in page
    assert client.get(f"/crm/accounts/{account}/tabs/finance").status_code == 404
    assert "finance.payment" not in client.get(
        f"/crm/accounts/{account}/tabs/timeline").get_data(as_text=True)
    login_as(client, users["manager"])  # reads finance, does not write it
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert 'data-tab="finance"' in page and 'data-create="finance.' not in page


def test_timeline_events_with_links(client, users, account, overdue_and_open):
    late, later = overdue_and_open
    login_as(client, users["finance"])
    html = client.get(f"/crm/accounts/{account}/tabs/timeline").get_data(as_text=True)
    kinds = re.findall(r'data-kind="(finance\.\w+)"', html)
    assert sorted(kinds) == ["finance.overdue", "finance.payment", "finance.receivable",
                             "finance.receivable"]
    assert f"/finance/receivables/{late}" in html and f"/finance/receivables/{later}" in html
    only = client.get(f"/crm/accounts/{account}/tabs/timeline?kind=finance.overdue")
    assert re.findall(r'data-kind="(finance\.\w+)"', only.get_data(as_text=True)) == [
        "finance.overdue"]


def test_overdue_events_follow_the_keyset_contract(app, account, make_receivables, pay):
    """Many overdue receivables on a few due dates: walking by cursor gives each once."""
    for days in (3, 3, 3, 10, 10, 45):
        make_receivables(account, document=f"d{days}", amount="10",
                         due_date=date.today() - timedelta(days=days), today=LONG_AGO)
    (paid_late,) = make_receivables(account, document="late", amount="10",
                                    due_date=date.today() - timedelta(days=5), today=LONG_AGO)
    (paid_early,) = make_receivables(account, document="early", amount="10",
                                     due_date=date.today() - timedelta(days=5),
                                     today=LONG_AGO)
    pay(paid_late, "10", on=date.today(), today=date.today())  # was overdue: still an event
    pay(paid_early, "10", on=date.today() - timedelta(days=6), today=date.today())
    with app.app_context(), app.test_request_context():
        source = app.extensions["erp"].get(TimelineSource, "finance.overdue")
        everything = source.fetch(account, None, 100, ["finance.overdue"])
        assert len(everything) == 7 and paid_early not in [e.id for e in everything]
        keys = [(e.at, e.id) for e in everything]
        assert keys == sorted(keys, reverse=True)
        for position, event in enumerate(everything):
            for source_key in ("finance.overdue", "a", "z"):
                cursor = Cursor(event.at, source_key, event.id)
                after = [e.id for e in source.fetch(account, cursor, 100, ["finance.overdue"])]
                if source_key == "finance.overdue":
                    expected = [e.id for e in everything[position + 1:]]
                elif source_key == "a":  # "finance.overdue" > "a": its ties came earlier
                    expected = [e.id for e in everything if e.at < event.at]
                else:
                    expected = [e.id for e in everything if e.at <= event.at]
                assert after == expected, (position, source_key)
            # A cursor between two instants.
            cursor = Cursor(event.at - timedelta(seconds=1), "x", 0)
            assert [e.id for e in source.fetch(account, cursor, 100, ["finance.overdue"])] \
                == [e.id for e in everything if e.at < event.at]
        assert len(source.fetch(account, None, 2, ["finance.overdue"])) == 2


def test_receivables_from_a_signal_show_on_the_page(app, client, users, account):
    with app.app_context():
        issue(account_id=account, installments=((date(2030, 1, 1), "10"),
                                                (date(2030, 2, 1), "20")))
        db.session.commit()
        db.session.remove()
    login_as(client, users["finance"])
    tab = client.get(f"/crm/accounts/{account}/tabs/finance").get_data(as_text=True)
    assert 'data-count="2"' in tab and "NF 000123 1/2" in tab and "NF 000123 2/2" in tab


def test_the_list_costs_the_same_for_few_or_many_payments(app, client, users, account,
                                                          make_receivables, pay):
    from tests.reporting import queries_for

    ids = make_receivables(account, amount="100", installments="10",
                           due_date=date.today() + timedelta(days=1))
    login_as(client, users["finance"])
    pay(ids[0], "1")
    few = queries_for(app, client, "/finance/")
    for rid in ids[1:]:
        pay(rid, "1")
        pay(rid, "2")
    assert queries_for(app, client, "/finance/") == few
