"""The account page's Contacts tab is paged (issue 15): a whale account's hundreds of
contacts come CONTACTS_SHOWN at a time by name, "More contacts" leads to the next page by
keyset (name, id), and the tab runs the same queries whatever the number of contacts."""

from __future__ import annotations

import re

import pytest

from modules.crm import account_page
from tests.conftest import login_as
from tests.reporting import queries_for

SHOWN = 5


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(account_page, "CONTACTS_SHOWN", SHOWN, raising=False)


def _contact_ids(html: str) -> list[int]:
    table = html[html.index('id="account-contacts"'):]
    table = table[:table.index("</table>")]
    return [int(i) for i in re.findall(r'href="/crm/contacts/(\d+)"', table)]


def _more(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" id="contacts-more"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_a_whale_shows_one_page_of_contacts_and_more_leads_through_all(
        client, users, make_account, make_contact, small_pages):
    whale = make_account(legal_name="Baleia S.A.")
    # Pairs of namesakes, one pair across the first page's end: the keyset breaks ties by id.
    contacts = [(name, make_contact(name=name, account_id=whale))
                for name in (f"Contato {n // 2:02d}" for n in reversed(range(12)))]
    login_as(client, users["rep_a"])

    html = client.get(f"/crm/accounts/{whale}?tab=contacts").get_data(as_text=True)
    assert len(_contact_ids(html)) == SHOWN
    assert 'data-count="12"' in html  # the tab still says how many there are
    seen, url = [], f"/crm/accounts/{whale}?tab=contacts"
    while url:
        html = client.get(url).get_data(as_text=True)
        page = _contact_ids(html)
        assert 1 <= len(page) <= SHOWN
        seen += page
        url = _more(html)
        if url:
            assert 'id="contacts-first"' in client.get(url).get_data(as_text=True)
    # Every contact once, by name then id: as the unpaged tab listed them.
    assert seen == [contact_id for _name, contact_id in sorted(contacts)]
    assert len(set(seen)) == 12


def test_the_contacts_tab_runs_the_same_queries_for_few_and_many_contacts(
        app, client, users, make_account, make_contact, small_pages):
    few = make_account(legal_name="Pequena Ltda.")
    many = make_account(legal_name="Baleia S.A.")
    for n in range(SHOWN + 1):
        make_contact(name=f"Pessoa {n:02d}", account_id=few)
    for n in range(4 * SHOWN):
        make_contact(name=f"Pessoa {n:02d}", account_id=many)
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{many}?tab=contacts").get_data(as_text=True)
    assert len(_contact_ids(html)) == SHOWN and _more(html)
    counts = {account: queries_for(app, client, f"/crm/accounts/{account}?tab=contacts")
              for account in (few, many)}
    assert counts[few] == counts[many], counts
