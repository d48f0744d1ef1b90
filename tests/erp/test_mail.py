"""The e-mail outbox, against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from erp.auth.models import Team
from erp.db import db, utcnow
from erp.mail import (
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    OutboxMessage,
    _claim,
    backoff,
    deliver_due,
    queue_mail,
)
from tests.conftest import login_as


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def reload(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def queued(**fields) -> int:
    """Queue one message, commit, and return its id."""
    fields.setdefault("to", ["ana@example.com"])
    fields.setdefault("subject", "Hello")
    fields.setdefault("body_text", "Body")
    message = queue_mail(fields.pop("to"), fields.pop("subject"), fields.pop("body_text"),
                         **fields)
    db.session.commit()
    return message.id


# --- queueing -----------------------------------------------------------------------------


def test_queued_mail_rolls_back_and_commits_with_the_callers_change(ctx):
    db.session.add(Team(name="Rolled back"))
    message = queue_mail("ana@example.com", "Hi", "Text", source="crm.watchers")
    assert message in db.session.new
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0

    db.session.add(Team(name="Committed"))
    queue_mail(["Ana Souza <Ana@Example.com>", "bia@example.com", "João <joao@example.com>",
                "BIA@example.com"], "Hi", "Text",
               cc=["Bia <bia@example.com>", "caio@example.com"], reply_to="rep@example.com",
               source="crm.watchers")
    db.session.commit()
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.to == ["Ana Souza <Ana@example.com>", "bia@example.com", "João <joao@example.com>"]
    assert row.cc == ["caio@example.com"]  # already a "to"
    assert (row.status, row.attempts, row.source) == (QUEUED, 0, "crm.watchers")
    assert row.message_id.startswith("<") and row.message_id.endswith(">")
    assert db.session.scalar(select(Team.name)) == "Committed"


@pytest.mark.parametrize(("to", "subject", "extra"), [
    ([], "Hi", {}),
    (["not an address"], "Hi", {}),
    (["ana@example.com", "bad@"], "Hi", {}),
    (["ana@example.com\r\nBcc: evil@example.com"], "Hi", {}),
    (["ana@example.com"], "Hi", {"cc": ["nope"]}),
    (["ana@example.com"], "Hi", {"reply_to": "nope"}),
    (["ana@example.com"], "Hi\r\nBcc: evil@example.com", {}),
    (["ana@example.com"], "x" * 256, {}),
])
def test_queue_mail_rejects_bad_input_and_adds_nothing(ctx, to, subject, extra):
    with pytest.raises(ValueError):
        queue_mail(to, subject, "Text", **extra)
    assert not db.session.new


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(8) == backoff(30) == timedelta(hours=1)


# --- delivery -----------------------------------------------------------------------------


def test_delivers_accented_text_and_html(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    message_id = queued(
        to=["João Silva <joao@example.com>"], cc=["maria@example.com"],
        reply_to="vendas@example.com",
        subject="Proposta nº 12 — ação necessária até sexta",
        body_text="Olá, João!\nA reunião é às 14h. Atenção ao orçamento: R$ 1.234,56.",
        body_html="<p>Olá, <b>João</b>! Reunião às 14h.</p>", source="crm.contact_mail")

    report = deliver_due()

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    assert len(smtp.envelopes) == 1
    envelope = smtp.envelopes[0]
    assert envelope.mail_from == "erp@mosaic.example"
    assert envelope.rcpt_tos == ["joao@example.com", "maria@example.com"]
    received = smtp.handler.parsed()
    assert received["Subject"] == "Proposta nº 12 — ação necessária até sexta"
    assert received["From"] == "Mosaic ERP <erp@mosaic.example>"
    assert received["To"] == "João Silva <joao@example.com>"
    assert received["Cc"] == "maria@example.com"
    assert received["Reply-To"] == "vendas@example.com"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text.get_content().rstrip("\n") == (
        "Olá, João!\nA reunião é às 14h. Atenção ao orçamento: R$ 1.234,56.")
    assert html.get_content().rstrip("\n") == "<p>Olá, <b>João</b>! Reunião às 14h.</p>"
    assert all(b"\xc3" not in line for line in envelope.content.splitlines()), "7-bit on the wire"

    row = reload(message_id)
    assert (row.status, row.attempts, row.last_error) == (SENT, 1, None)
    assert row.sent_at is not None
    assert received["Message-ID"] == row.message_id
    # Sent is sent: a second pass sends nothing.
    assert deliver_due().sent == 0 and len(smtp.envelopes) == 1


def test_text_only_mail_is_a_single_part(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    queued(body_text="Só texto.")
    deliver_due()
    received = smtp.handler.parsed()
    assert received.get_content_type() == "text/plain"
    assert received.get_content().rstrip("\n") == "Só texto."


def test_server_down_keeps_mail_queued_then_sends_it_once_when_back(
        ctx, start_smtp, closed_port, mail_config):
    mail_config(ERP_MAIL_PORT=closed_port)
    message_id = queued(subject="Não perca")
    now = utcnow()

    report = deliver_due(now=now)

    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    row = reload(message_id)
    assert (row.status, row.attempts) == (QUEUED, 1)
    assert aware(row.next_attempt_at) > now
    assert aware(row.next_attempt_at) == now + timedelta(seconds=30)
    assert "cannot reach the SMTP server" in row.last_error
    # Not due yet: the next pass leaves it alone.
    assert deliver_due(now=now + timedelta(seconds=5)).retried == 0
    assert reload(message_id).attempts == 1

    server = start_smtp()
    mail_config(ERP_MAIL_PORT=server.port)
    later = now + timedelta(seconds=31)
    assert deliver_due(now=later).sent == 1
    assert deliver_due(now=later + timedelta(hours=2)).sent == 0
    assert len(server.envelopes) == 1
    assert server.handler.parsed()["Subject"] == "Não perca"
    row = reload(message_id)
    assert (row.status, row.attempts) == (SENT, 2)


def test_unreachable_server_costs_one_attempt_per_pass_not_per_message(
        ctx, closed_port, mail_config):
    mail_config(ERP_MAIL_PORT=closed_port)
    ids = [queued(subject=f"Message {n}") for n in range(3)]
    report = deliver_due()
    assert report.retried == 1
    assert [reload(i).attempts for i in ids] == [1, 0, 0]
    assert {reload(i).status for i in ids} == {QUEUED}


def test_a_claimed_message_cannot_be_claimed_again(ctx):
    message_id = queued()
    now = utcnow()
    assert _claim(message_id, now) is True
    assert _claim(message_id, now) is False
    assert reload(message_id).status == SENDING
    # A worker that picked the id before the claim finds nothing to send.
    assert deliver_due(now=now).sent == 0


def test_concurrent_workers_send_each_message_exactly_once(app, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    with app.app_context():
        ids = [queued(to=[f"user{n}@example.com"], subject=f"Message {n}") for n in range(12)]
        db.session.remove()
    reports, errors = [], []
    barrier = threading.Barrier(3)

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                reports.append(deliver_due())
            except Exception as exc:  # pragma: no cover - shown by the assert below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(report.sent for report in reports) == len(ids)
    subjects = sorted(smtp.handler.parsed(i)["Subject"] for i in range(len(smtp.envelopes)))
    assert subjects == sorted(f"Message {n}" for n in range(12))
    with app.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        assert statuses == [SENT] * len(ids)


def test_gives_up_after_max_attempts(ctx, closed_port, mail_config):
    mail_config(ERP_MAIL_PORT=closed_port, ERP_MAIL_MAX_ATTEMPTS=3)
    message_id = queued()
    now = utcnow()
    waits = []
    for _ in range(2):
        assert deliver_due(now=now).retried == 1
        row = reload(message_id)
        waits.append((aware(row.next_attempt_at) - now).total_seconds())
        now = aware(row.next_attempt_at)
    assert waits == [30, 60]
    report = deliver_due(now=now)
    assert (report.retried, report.failed) == (0, 1)
    row = reload(message_id)
    assert (row.status, row.attempts) == (FAILED, 3)
    assert row.last_error
    assert deliver_due(now=now + timedelta(days=1)).failed == 0


def test_every_recipient_refused_for_good_fails_at_once(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    smtp.handler.refuse = {"gone@example.com": "550 5.1.1 No such user"}
    message_id = queued(to=["gone@example.com"])
    assert deliver_due().failed == 1
    row = reload(message_id)
    assert (row.status, row.attempts) == (FAILED, 1)
    assert "550" in row.last_error and "No such user" in row.last_error
    assert smtp.envelopes == []


def test_temporary_refusal_is_retried(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    smtp.handler.refuse = {"busy@example.com": "450 4.2.1 Mailbox busy, try later"}
    message_id = queued(to=["busy@example.com"])
    now = utcnow()
    assert deliver_due(now=now).retried == 1
    row = reload(message_id)
    assert (row.status, row.attempts) == (QUEUED, 1) and "450" in row.last_error
    smtp.handler.refuse = {}
    assert deliver_due(now=now + timedelta(minutes=1)).sent == 1
    assert len(smtp.envelopes) == 1


def test_some_recipients_refused_still_sends_to_the_others(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    smtp.handler.refuse = {"gone@example.com": "550 5.1.1 No such user"}
    message_id = queued(to=["ana@example.com", "gone@example.com"])
    assert deliver_due().sent == 1
    assert smtp.envelopes[0].rcpt_tos == ["ana@example.com"]
    row = reload(message_id)
    assert row.status == SENT and "gone@example.com" in row.last_error


def test_logs_in_when_configured(ctx, start_smtp, mail_config):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and (auth_data.login, auth_data.password) == (b"erp", b"s3cret"))
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 / 535

    server = start_smtp(authenticator=authenticator, auth_require_tls=False)
    mail_config(ERP_MAIL_PORT=server.port, ERP_MAIL_USERNAME="erp", ERP_MAIL_PASSWORD="wrong")
    message_id = queued()
    now = utcnow()
    assert deliver_due(now=now).retried == 1
    assert "535" in reload(message_id).last_error
    mail_config(ERP_MAIL_PASSWORD="s3cret")
    assert deliver_due(now=now + timedelta(minutes=1)).sent == 1
    assert len(server.envelopes) == 1


def test_message_stuck_in_sending_is_queued_again(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    now = utcnow()
    crashed, busy = queued(subject="Crashed"), queued(subject="In hand")
    for message_id, claimed_at in ((crashed, now - timedelta(minutes=11)),
                                   (busy, now - timedelta(minutes=2))):
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                           .values(status=SENDING, next_attempt_at=claimed_at))
    db.session.commit()

    report = deliver_due(now=now)

    assert (report.recovered, report.sent) == (1, 1)
    assert [smtp.handler.parsed()["Subject"]] == ["Crashed"]
    row = reload(crashed)
    assert (row.status, row.attempts) == (SENT, 2)  # the lost attempt counts
    assert reload(busy).status == SENDING  # another worker is still on it


# --- the command and the admin --------------------------------------------------------------


def test_mail_worker_command_delivers_once(app, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    with app.app_context():
        message_id = queued(subject="Pelo comando")
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["mail-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(smtp.envelopes) == 1
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == SENT


def test_admin_sees_the_outbox_and_sales_reps_do_not(app, client, users):
    with app.app_context():
        queued(subject="Visible to the admin", source="crm.watchers")
        db.session.remove()
    login_as(client, users["admin"])
    response = client.get("/admin/outboxmessage/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Visible to the admin" in html and "crm.watchers" in html
    assert "/admin/outboxmessage/new/" not in html  # read-only

    login_as(client, users["rep_a"])
    assert client.get("/admin/outboxmessage/").status_code == 403
