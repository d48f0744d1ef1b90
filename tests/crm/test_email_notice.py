"""An e-mail written from the CRM says what becomes of it: sent shortly, or kept in the outbox."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login_as


@pytest.mark.parametrize(("server", "category", "notice"), [
    (None, "warning", "The e-mail is kept in the outbox: no mail server is configured"),
    ("127.0.0.1", "success", "The e-mail will be sent shortly."),
])
def test_email_flash_tells_whether_the_mail_can_leave(client, users, make_account,
                                                      make_contact, mail_config, server,
                                                      category, notice):
    mail_config(ERP_MAIL_SERVER=server)
    account = make_account(legal_name="Aviso Ltda.")
    make_contact(account_id=account, name="Ana Aviso", email="ana@aviso.example")
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{account}/email"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "to": ["ana@aviso.example"], "subject": "Oi",
                                      "body": "Texto."})
    assert response.status_code == 303
    with client.session_transaction() as session:
        [(flashed_category, message)] = session["_flashes"]
    assert flashed_category == category
    assert message.startswith("E-mail queued and logged as an action. " + notice)
