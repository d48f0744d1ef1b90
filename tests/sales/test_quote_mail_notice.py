"""Sending a quote says what becomes of its e-mail: sent shortly, or kept in the outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from erp.auth.models import User
from erp.db import db
from erp.mail import QUEUED, SENT, OutboxMessage
from modules.crm.models import Account
from modules.sales import services
from tests.conftest import csrf_token, login_as
from tests.sales.support import users_today


def draft_quote(app, users, account, contact) -> int:
    with app.app_context():
        quote = services.create_quote(db.session.get(Account, account), {
            "valid_until": (users_today() + timedelta(days=30)).isoformat(),
            "contact_id": str(contact),
            "lines": [{"description": "Consultoria", "quantity": "1", "unit_price": "100"}],
        }, user=db.session.get(User, users["rep_a"]))
        quote_id = quote.id
        db.session.remove()
    return quote_id


def send(client, quote_id: int, contact: int):
    page = f"/sales/quotes/{quote_id}/send"
    return client.post(page, data={"csrf_token": csrf_token(client, page),
                                   "contact_id": str(contact)})


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_without_a_mail_server_the_quote_says_the_mail_waits(app, client, users, account,
                                                             contact, mail_config):
    mail_config(ERP_MAIL_SERVER=None, ERP_MAIL_DELIVER_ON_QUEUE=True)
    quote_id = draft_quote(app, users, account, contact)
    login_as(client, users["rep_a"])

    response = send(client, quote_id, contact)

    assert response.status_code == 303
    assert flashes(client) == [("warning", (
        "Quote marked as sent. The e-mail is kept in the outbox: no mail server is "
        "configured; an administrator can send it from Admin → Outbox once one is."))]
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage))
        assert (mail.status, mail.attempts) == (QUEUED, 0)
    page = client.get(f"/sales/quotes/{quote_id}").get_data(as_text=True)
    assert "on its way" not in page and "will be sent shortly" not in page


def test_without_a_mail_server_in_pt_br(app, client, users, account, contact, mail_config):
    mail_config(ERP_MAIL_SERVER=None)
    with app.app_context():
        db.session.execute(update(User).where(User.id == users["rep_a"]).values(locale="pt_BR"))
        db.session.commit()
    quote_id = draft_quote(app, users, account, contact)
    login_as(client, users["rep_a"])
    send(client, quote_id, contact)
    [(category, message)] = flashes(client)
    assert category == "warning"
    assert message.startswith("Proposta marcada como enviada. O e-mail fica guardado na caixa "
                              "de saída: nenhum servidor de e-mail está configurado")


def test_with_a_mail_server_the_quote_is_mailed_and_says_so(app, client, users, account,
                                                            contact, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port, ERP_MAIL_DELIVER_ON_QUEUE=True)
    quote_id = draft_quote(app, users, account, contact)
    login_as(client, users["rep_a"])

    response = send(client, quote_id, contact)

    assert response.status_code == 303
    assert flashes(client) == [("success",
                                "Quote marked as sent. The e-mail will be sent shortly.")]
    # The commit asked the worker for a pass (run at once in the suite): delivered.
    assert len(smtp.envelopes) == 1
    assert smtp.envelopes[0].rcpt_tos == ["ana@cliente.example"]
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.status)) == SENT
