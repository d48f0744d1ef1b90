"""The e-mail outbox, against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from erp.auth.models import Team, User
from erp.db import db, utcnow
from erp.mail import (
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    OutboxMessage,
    backoff,
    deliver_due,
    deliver_mail,
    deliver_mail_periodically,
    deliver_pending,
    delivery_notice,
    mail_configured,
    queue_mail,
    send_again,
    status_label,
)
from erp.outbox import claim
from tests.conftest import csrf_token, login_as


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
    assert claim(OutboxMessage, message_id, now) is True
    assert claim(OutboxMessage, message_id, now) is False
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


def test_mail_worker_command_without_a_server_sends_nothing(app, mail_config):
    mail_config(ERP_MAIL_SERVER=None)
    with app.app_context():
        message_id = queued()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["mail-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "no mail server configured (ERP_MAIL_SERVER): 1 message(s) kept" in result.output
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        assert (row.status, row.attempts, row.last_error) == (QUEUED, 0, None)


# --- no mail server configured ---------------------------------------------------------------


def test_no_server_is_configured_by_default(tmp_path, monkeypatch):
    from erp.config import default_config

    monkeypatch.delenv("ERP_MAIL_SERVER", raising=False)
    assert default_config(tmp_path)["ERP_MAIL_SERVER"] is None
    monkeypatch.setenv("ERP_MAIL_SERVER", "smtp.example.com")
    assert default_config(tmp_path)["ERP_MAIL_SERVER"] == "smtp.example.com"


@pytest.mark.parametrize("server", [None, "", "  "])
def test_without_a_server_nothing_is_attempted_and_mail_waits(ctx, mail_config, server):
    mail_config(ERP_MAIL_SERVER=server)
    assert not mail_configured()
    ids = [queued(subject=f"Message {n}") for n in range(2)]

    report = deliver_due()

    assert report.not_configured and (report.sent, report.retried, report.waiting) == (0, 0, 2)
    assert "no mail server configured" in str(report)
    for message_id in ids:
        row = reload(message_id)
        assert (row.status, row.attempts, row.last_error) == (QUEUED, 0, None)
    assert status_label(QUEUED) == "Not sent: no mail server configured"
    assert delivery_notice().startswith("The e-mail is kept in the outbox: no mail server")


def test_once_a_server_is_configured_the_waiting_mail_goes_out(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_SERVER=None)
    message_id = queued(subject="Esperou")
    assert deliver_due().not_configured
    mail_config(ERP_MAIL_SERVER="127.0.0.1", ERP_MAIL_PORT=smtp.port)
    assert mail_configured()
    assert delivery_notice() == "The e-mail will be sent shortly."
    assert status_label(QUEUED) == "Queued"
    assert deliver_due().sent == 1
    assert smtp.handler.parsed()["Subject"] == "Esperou"
    assert (reload(message_id).status, reload(message_id).attempts) == (SENT, 1)


# --- delivery asked for on commit ----------------------------------------------------------


def test_commit_that_queued_mail_asks_for_delivery(ctx, smtp, mail_config):
    """With ERP_MAIL_DELIVER_ON_QUEUE (off in the suite), the commit enqueues deliver_mail;
    the suite's TASKS_IMMEDIATE runs it at once, as the worker would."""
    mail_config(ERP_MAIL_PORT=smtp.port, ERP_MAIL_DELIVER_ON_QUEUE=True)
    queue_mail("ana@example.com", "Rolled back", "Body")
    db.session.rollback()
    assert smtp.envelopes == []

    first = queue_mail("ana@example.com", "One", "Body").message_id
    second = queue_mail("bia@example.com", "Two", "Body").message_id
    db.session.commit()

    assert sorted(smtp.handler.parsed(i)["Message-ID"] for i in range(len(smtp.envelopes))) \
        == sorted([first, second])
    assert set(db.session.scalars(select(OutboxMessage.status))) == {SENT}


def test_commit_without_a_server_asks_for_nothing(ctx, mail_config, monkeypatch):
    import erp.mail

    asked = []
    monkeypatch.setattr(erp.mail, "enqueue_after_commit", lambda *args: asked.append(args))
    mail_config(ERP_MAIL_SERVER=None, ERP_MAIL_DELIVER_ON_QUEUE=True)
    queued()
    assert asked == []
    mail_config(ERP_MAIL_SERVER="127.0.0.1", ERP_MAIL_DELIVER_ON_QUEUE=False)
    queued()
    assert asked == []
    mail_config(ERP_MAIL_DELIVER_ON_QUEUE=True)
    queued()
    assert asked == [(erp.mail.deliver_mail,)]


def test_worker_tasks_are_declared_and_periodic_every_minute(app):
    from erp.tasks import queue

    wrappers = queue(app).wrappers
    assert {deliver_mail.name, deliver_mail_periodically.name} <= set(wrappers)
    assert deliver_mail_periodically.every_minutes == 1
    assert deliver_mail.every_minutes is None


def test_deliver_pending_runs_passes_until_the_queue_is_empty(ctx, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    for n in range(5):
        queued(to=[f"user{n}@example.com"], subject=f"Message {n}")
    report = deliver_pending(limit=2)  # three passes: 2 + 2 + 1
    assert report.sent == 5 and len(smtp.envelopes) == 5


# --- sending again -----------------------------------------------------------------------------


def test_send_again_requeues_failed_and_waiting_mail_only(ctx, mail_config):
    mail_config(ERP_MAIL_SERVER=None)
    later = utcnow() + timedelta(hours=1)
    failed, waiting, sent, sending = (queued(subject=s) for s in ("F", "W", "S", "X"))
    for message_id, status, attempts in ((failed, FAILED, 8), (waiting, QUEUED, 3),
                                         (sent, SENT, 1), (sending, SENDING, 1)):
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
            status=status, attempts=attempts, next_attempt_at=later, last_error="boom"))
    db.session.commit()

    assert send_again(failed) and send_again(waiting)
    assert not send_again(sent) and not send_again(sending) and not send_again(999_999)

    for message_id in (failed, waiting):
        row = reload(message_id)
        assert (row.status, row.attempts, row.last_error) == (QUEUED, 0, "boom")
        assert aware(row.next_attempt_at) <= utcnow()
    assert (reload(sent).status, reload(sending).status) == (SENT, SENDING)


# --- the admin's outbox page ---------------------------------------------------------------------

OUTBOX = "/admin/outbox/"


def outbox_rows(app, **fields_by_subject) -> dict[str, int]:
    """Queue a message per subject, then set the given columns; returns subject -> id."""
    ids = {}
    with app.app_context():
        for subject, values in fields_by_subject.items():
            ids[subject] = queued(subject=subject, to=["Ana <ana@example.com>"],
                                  cc=["bia@example.com"], source="crm.watchers")
            if values:
                db.session.execute(update(OutboxMessage)
                                   .where(OutboxMessage.id == ids[subject]).values(**values))
        db.session.commit()
        db.session.remove()
    return ids


def as_admin_in_pt_br(app, client, users) -> None:
    with app.app_context():
        admin = db.session.get(User, users["admin"])
        admin.locale, admin.timezone = "pt_BR", "America/Sao_Paulo"
        db.session.commit()
        db.session.remove()
    login_as(client, users["admin"])


def test_outbox_page_in_pt_br_with_dates_in_the_users_time_zone(app, client, users,
                                                                mail_config):
    mail_config(ERP_MAIL_SERVER="127.0.0.1")
    created = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # 12:30 in São Paulo
    outbox_rows(app, **{
        "Enviada": {"status": SENT, "attempts": 1, "created_at": created - timedelta(days=1),
                    "sent_at": created - timedelta(days=1)},
        "Falhou de vez": {"status": FAILED, "attempts": 8, "created_at": created,
                          "last_error": "SMTPRecipientsRefused: 550 No such user"},
        "Na espera": {"attempts": 2, "created_at": created + timedelta(days=1),
                      "next_attempt_at": created + timedelta(days=1, minutes=2),
                      "last_error": "cannot reach the SMTP server: refused"},
    })
    as_admin_in_pt_br(app, client, users)

    response = client.get(OUTBOX)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for header in ("Criação", "Situação", "Tentativas", "Destinatários", "Assunto", "Origem",
                   "Último erro", "Caixa de saída de e-mail"):
        assert header in html
    assert "10/03/2026 12:30" in html and "11/03/2026 12:32" in html  # próxima tentativa
    assert ">Enviado<" in html and ">Falhou<" in html and ">Na fila<" in html
    assert "próxima tentativa 11/03/2026 12:32" in html
    assert "SMTPRecipientsRefused: 550 No such user" in html
    assert "Ana &lt;ana@example.com&gt;" in html and "Cc: bia@example.com" in html
    assert "crm.watchers" in html
    # Newest first; "Enviar novamente" for the failed and the waiting one, not the sent one.
    table = html[html.index('id="outbox"'):]
    assert table.index("Na espera") < table.index("Falhou de vez") < table.index("Enviada")
    assert table.count(">Enviar novamente<") == 2
    assert 'data-confirm="Enviar este e-mail novamente para Ana &lt;ana@example.com&gt;?"' \
        in table
    assert 'id="outbox-not-configured"' not in html


def test_outbox_page_without_a_server_says_not_sent(app, client, users, mail_config):
    mail_config(ERP_MAIL_SERVER=None)
    outbox_rows(app, **{"Nunca saiu": {}})
    as_admin_in_pt_br(app, client, users)
    html = client.get(OUTBOX).get_data(as_text=True)
    assert "Não enviado: nenhum servidor de e-mail configurado" in html
    assert 'id="outbox-not-configured"' in html and "Nenhum servidor de e-mail" in html

    login_as(client, users["admin"])
    with app.app_context():
        db.session.execute(update(User).where(User.id == users["admin"])
                           .values(locale="en", timezone=None))
        db.session.commit()
    html = client.get(OUTBOX).get_data(as_text=True)
    assert "Not sent: no mail server configured" in html and "Attempts" in html


def test_outbox_page_filters_by_state_and_pages(app, client, users, mail_config):
    mail_config(ERP_MAIL_SERVER="127.0.0.1")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = {f"Mensagem {n:02d}": {"created_at": start + timedelta(minutes=n)}
            for n in range(52)}
    rows["Mensagem 07"]["status"] = FAILED
    outbox_rows(app, **rows)
    login_as(client, users["admin"])

    html = client.get(OUTBOX + "?state=failed").get_data(as_text=True)
    assert "Mensagem 07" in html and "Mensagem 08" not in html
    assert '<option value="failed" selected>Failed</option>' in html
    html = client.get(OUTBOX + "?state=sent").get_data(as_text=True)
    assert 'id="outbox-empty"' in html

    first = client.get(OUTBOX).get_data(as_text=True)
    assert "Mensagem 51" in first and "Mensagem 02" in first and "Mensagem 01" not in first
    assert "52 records" in first and "page=2" in first
    second = client.get(OUTBOX + "?page=2").get_data(as_text=True)
    assert "Mensagem 01" in second and "Mensagem 00" in second and "Mensagem 51" not in second
    assert client.get(OUTBOX + "?page=99&state=bogus").status_code == 200


@pytest.mark.parametrize("who", ["rep_a", "manager", "nobody"])
def test_outbox_page_is_for_admins_only(app, client, users, who):
    ids = outbox_rows(app, **{"Só admin": {"status": FAILED}})
    login_as(client, users["admin"])
    token = csrf_token(client, OUTBOX)
    login_as(client, users[who])
    assert client.get(OUTBOX).status_code == 403
    response = client.post(f"{OUTBOX}{ids['Só admin']}/send-again",
                           data={"csrf_token": token})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(OutboxMessage, ids["Só admin"]).status == FAILED


def test_outbox_page_sends_anonymous_visitors_to_log_in(client):
    response = client.get(OUTBOX)
    assert response.status_code == 302 and "/auth/login" in response.location


def test_send_again_requeues_and_the_mail_is_delivered(app, client, users, smtp, mail_config):
    mail_config(ERP_MAIL_PORT=smtp.port)
    ids = outbox_rows(app, **{
        "Falhou": {"status": FAILED, "attempts": 8, "last_error": "too many attempts"},
        "Enviado": {"status": SENT, "attempts": 1},
    })
    as_admin_in_pt_br(app, client, users)
    token = csrf_token(client, OUTBOX + "?state=failed")
    url = f"{OUTBOX}{ids['Falhou']}/send-again"

    assert client.post(url, data={}).status_code == 400  # no CSRF token
    with app.app_context():
        assert db.session.get(OutboxMessage, ids["Falhou"]).status == FAILED

    response = client.post(url, data={"csrf_token": token, "state": "failed", "page": "1"})

    assert response.status_code == 302
    assert response.location.endswith("/admin/outbox/?state=failed")
    # Queued again and (TASKS_IMMEDIATE: the worker's task, run at once) delivered.
    assert [smtp.handler.parsed(i)["Subject"] for i in range(len(smtp.envelopes))] == ["Falhou"]
    with app.app_context():
        row = db.session.get(OutboxMessage, ids["Falhou"])
        assert (row.status, row.attempts, row.last_error) == (SENT, 1, None)
    with client.session_transaction() as session:
        assert ("success", "O e-mail voltou para a fila: será enviado em instantes.") \
            in session["_flashes"]

    # A sent message is not sent again.
    response = client.post(f"{OUTBOX}{ids['Enviado']}/send-again", data={"csrf_token": token})
    assert response.status_code == 302
    assert len(smtp.envelopes) == 1
    with client.session_transaction() as session:
        assert session["_flashes"][-1][0] == "error"


def test_send_again_without_a_server_keeps_it_in_the_outbox(app, client, users, mail_config):
    mail_config(ERP_MAIL_SERVER=None)
    ids = outbox_rows(app, **{"Falhou": {"status": FAILED, "attempts": 8}})
    login_as(client, users["admin"])
    token = csrf_token(client, OUTBOX)
    response = client.post(f"{OUTBOX}{ids['Falhou']}/send-again", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(OutboxMessage, ids["Falhou"])
        assert (row.status, row.attempts) == (QUEUED, 0)
    with client.session_transaction() as session:
        category, message = session["_flashes"][-1]
        assert category == "warning" and "once a mail server is configured" in message
