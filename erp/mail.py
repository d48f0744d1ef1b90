"""The e-mail outbox: any module queues mail in its own transaction; the worker sends it.

Mail is never lost. :func:`queue_mail` only adds a row to the caller's session, so
the message is committed (or rolled back) together with the change that caused
it. The background worker (``flask --app erp worker``, see :mod:`erp.tasks`; started
by ``make run``) sends the due messages over SMTP: :func:`queue_mail` enqueues the
:data:`deliver_mail` task once the transaction commits (when a mail server is
configured and ``ERP_MAIL_DELIVER_ON_QUEUE`` is on), and :data:`deliver_mail_periodically`
runs every minute for the retries and for what was queued while the queue was down.
A failure puts the message back in the queue with an exponential backoff (30 s, 1 min,
2 min, ... at most 1 h), until ``ERP_MAIL_MAX_ATTEMPTS`` attempts have failed. While the
SMTP server is down, messages simply wait. Delivery is *at least once*: a worker that
dies after the server accepted a message but before recording it sends that message
again (with the same ``Message-ID``, so receivers can tell).

With no mail server configured (``ERP_MAIL_SERVER`` unset, the default) nothing is
attempted: messages wait in the outbox, shown as "not sent: no mail server configured"
(Admin → Outbox), and go out once a server is configured. Screens that queue mail say
so with :func:`delivery_notice`, never "on its way" when it is not.

Life of a message (``status``)::

    queued --claim--> sending --> sent
      ^                  |
      +---- retry -------+--> failed   (too many attempts, or every recipient refused)
      +---- send again (admin) ---------+

A worker claims a message with an ``UPDATE ... WHERE status = 'queued'`` that
must change exactly one row, so two workers never send the same message. While
``sending``, ``next_attempt_at`` holds the time of the claim: a message still
``sending`` :data:`STUCK_AFTER` later belonged to a worker that crashed, and is
put back in the queue (counting as a failed attempt). No transaction is open while
the SMTP server is talked to: the outcome is written by an ``UPDATE`` of its own.

Configuration (``app.config``; each key is also read from the environment
variable of the same name; the defaults work offline):

``ERP_MAIL_SERVER``
    SMTP host, default unset: mail is kept in the outbox, not sent.
``ERP_MAIL_PORT``
    SMTP port, default ``25``.
``ERP_MAIL_USE_TLS``
    ``True`` to upgrade the connection with STARTTLS (certificate verified), default ``False``.
``ERP_MAIL_USERNAME`` / ``ERP_MAIL_PASSWORD``
    SMTP login, default ``None`` (no login).
``ERP_MAIL_TIMEOUT``
    seconds to wait for the server, default ``10``.
``ERP_MAIL_FROM``
    the ``From`` of every message, default ``"Mosaic ERP <noreply@localhost>"``.
``ERP_MAIL_MAX_ATTEMPTS``
    failed attempts after which a message is marked ``failed``, default ``8``.
``ERP_MAIL_DELIVER_ON_QUEUE``
    ``True`` (default): a commit that queued mail enqueues a delivery pass at once;
    ``False``: only the periodic pass (every minute) and explicit calls deliver.
"""

from __future__ import annotations

import logging
import re
import signal
import smtplib
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr, quote, unquote

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    case,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import db, utcnow
from .outbox import QUEUED, SENDING, claim
from .tasks import enqueue_after_commit, on_worker_start, periodic_task, task

__all__ = ["DeliveryReport", "OutboxMessage", "deliver_due", "deliver_mail", "deliver_pending",
           "delivery_notice", "format_address", "mail_configured", "queue_mail", "run_worker",
           "send_again", "status_label"]

log = logging.getLogger(__name__)

SENT, FAILED = "sent", "failed"  # and the outbox's QUEUED, SENDING
STATUSES = (QUEUED, SENDING, SENT, FAILED)

DEFAULT_FROM = "Mosaic ERP <noreply@localhost>"
DEFAULT_MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
STUCK_AFTER = timedelta(minutes=10)
SUBJECT_MAX = 255
PASS_LIMIT = 50  # messages per pass of the worker's task ...
MAX_PASSES = 20  # ... and passes per task run, while each finds a full batch

_NAMED_ADDRESS = re.compile(r"^\s*(.*?)\s*<([^<>]*)>\s*$")


class OutboxMessage(db.Model):
    """One e-mail, from the moment a module queues it until it is sent (or given up)."""

    __tablename__ = "erp_outbox"
    __table_args__ = (
        # The worker's query: status = 'queued' and next_attempt_at <= now, oldest first.
        Index("ix_erp_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    to: Mapped[list[str]] = mapped_column(JSON)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When queued: not before. When sending: the time of the claim.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Who queued it, for the admin: "crm.watchers", "crm.contact_mail", ...
    source: Mapped[str | None] = mapped_column(String(80))

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to or [])} ({self.status})"


@dataclass
class DeliveryReport:
    """What one :func:`deliver_due` pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0  # found stuck in "sending" (a crashed worker) and queued again
    not_configured: bool = False  # no mail server: nothing was attempted
    waiting: int = 0  # with not_configured: the messages kept in the outbox

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        for field in fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if field.name == "not_configured":
                setattr(self, field.name, mine or theirs)
            elif field.name == "waiting":
                setattr(self, field.name, theirs)
            else:
                setattr(self, field.name, mine + theirs)
        return self

    def __str__(self) -> str:
        if self.not_configured:
            return (f"no mail server configured (ERP_MAIL_SERVER): {self.waiting} message(s) "
                    f"kept in the outbox, none sent")
        return (f"sent {self.sent}, retried {self.retried}, failed {self.failed}, "
                f"recovered {self.recovered}")


# --- queueing -------------------------------------------------------------------------


def _config(key: str, default=None):
    value = current_app.config.get(key)
    return default if value is None else value


def mail_configured() -> bool:
    """Whether an SMTP server is configured (``ERP_MAIL_SERVER``); without one, mail is kept
    in the outbox and nothing tries to send it (needs an app context)."""
    return bool(str(current_app.config.get("ERP_MAIL_SERVER") or "").strip())


def delivery_notice() -> str:
    """The sentence every screen shows after queuing mail, translated: that it will be sent
    shortly, or, with no mail server configured, that it waits in the outbox. Never claim
    more: e.g. ``flash(_("Quote marked as sent.") + " " + delivery_notice())``."""
    if mail_configured():
        return _("The e-mail will be sent shortly.")
    return _("The e-mail is kept in the outbox: no mail server is configured; an "
             "administrator can send it from Admin → Outbox once one is.")


def status_label(status: str) -> str:
    """A message's state as people read it, translated; "queued" with no mail server
    configured is "not sent: no mail server configured"."""
    if status == QUEUED and not mail_configured():
        return _("Not sent: no mail server configured")
    labels = {QUEUED: pgettext("mail", "Queued"), SENDING: pgettext("mail", "Sending"),
              SENT: pgettext("mail", "Sent"), FAILED: pgettext("mail", "Failed")}
    return labels.get(status, status)


# RFC 5322's specials: a display name holding one must be a quoted string.
_SPECIALS = frozenset('()<>[]:;@\\,."')


def format_address(name: str | None, address: str) -> str:
    """``Name <address>`` as RFC 5322 writes it, for queue_mail: a name holding ``<``,
    ``"``, ``,`` and the like is quoted (and escaped), so that a contact named
    ``Ana <x@evil.example>`` stays one name, never a second recipient. Use it instead of
    ``f"{name} <{address}>"``."""
    name = " ".join(str(name or "").split())  # a header holds no line break
    address = str(address or "").strip()
    if not name:
        return address
    return f'"{quote(name)}" <{address}>' if _SPECIALS & set(name) else f"{name} <{address}>"


def _address(value: str) -> str:
    """``ana@example.com`` or ``Ana Souza <ana@example.com>``, checked and normalized."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise ValueError(f"invalid e-mail address: {value!r}")
    match = _NAMED_ADDRESS.match(value)
    name, address = (match.group(1).strip(), match.group(2)) if match else ("", value)
    # A quoted string (format_address's) is unquoted once, its escapes undone.
    name = unquote(name) if len(name) > 1 and name[0] == name[-1] == '"' else name.strip('" ')
    try:
        # No DNS: the worker may be offline, and the SMTP server judges deliverability.
        info = validate_email(address.strip(), check_deliverability=False,
                              allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"invalid e-mail address {value!r}: {exc}") from exc
    # Kept readable ("João <joao@…>"): the header is encoded when the message is built.
    return str(Address(display_name=name, addr_spec=info.ascii_email)) if name \
        else info.ascii_email


def _addresses(values: str | Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    result: dict[str, str] = {}  # bare address, lower case -> as given
    for value in values:
        address = _address(value)
        result.setdefault(parseaddr(address)[1].lower(), address)
    return list(result.values())


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def queue_mail(to: str | Iterable[str], subject: str, body_text: str, *,
               body_html: str | None = None, cc: str | Iterable[str] = (),
               reply_to: str | None = None, source: str | None = None) -> OutboxMessage:
    """Queue an e-mail in the caller's transaction; the caller commits (or rolls back).

    ``to`` and ``cc`` are addresses (``ana@example.com`` or ``Ana <ana@example.com>``),
    a single string or a list. Raises :class:`ValueError` for no recipient, an invalid
    address, or a subject on several lines or longer than 255 characters.
    """
    to_list, cc_list = _addresses(to), _addresses(cc)
    if not to_list:
        raise ValueError("an e-mail needs at least one recipient")
    bare_to = {parseaddr(address)[1].lower() for address in to_list}
    cc_list = [address for address in cc_list if parseaddr(address)[1].lower() not in bare_to]
    subject = (subject or "").strip()
    if "\r" in subject or "\n" in subject:
        raise ValueError("the subject must be on one line")
    if len(subject) > SUBJECT_MAX:
        raise ValueError(f"the subject is longer than {SUBJECT_MAX} characters")
    if source is not None and len(source) > 80:
        raise ValueError("source is longer than 80 characters")
    message = OutboxMessage(
        to=to_list, cc=cc_list, reply_to=_address(reply_to) if reply_to else None,
        subject=subject, body_text=body_text or "", body_html=body_html or None,
        status=QUEUED, attempts=0, next_attempt_at=utcnow(), source=source,
        # Known at once (a module may thread replies on it) and kept across retries.
        message_id=make_msgid(domain=_domain(_config("ERP_MAIL_FROM", DEFAULT_FROM))),
    )
    db.session.add(message)
    if _config("ERP_MAIL_DELIVER_ON_QUEUE", True) and mail_configured():
        # Once committed (never if rolled back), the worker delivers it; once per transaction.
        enqueue_after_commit(deliver_mail)
    return message


# --- delivery -------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes: every time in the outbox is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, ... at most 1 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def build_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = _config("ERP_MAIL_FROM", DEFAULT_FROM)
    email["To"] = ", ".join(message.to)
    if message.cc:
        email["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Date"] = format_datetime(_aware(message.created_at or utcnow()))
    if not message.message_id:  # queued by other means than queue_mail
        message.message_id = make_msgid(domain=_domain(email["From"]))
    email["Message-ID"] = message.message_id
    # Quoted-printable: readable, and safe through servers without 8BITMIME.
    email.set_content(message.body_text, cte="quoted-printable")
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html", cte="quoted-printable")
    return email


class _Smtp:
    """One SMTP connection per pass, opened on first use, reopened after an error."""

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None
        self.unreachable = False

    def get(self) -> smtplib.SMTP:
        if self.connection is None:
            connection = smtplib.SMTP(str(current_app.config["ERP_MAIL_SERVER"]).strip(),
                                      int(_config("ERP_MAIL_PORT", 25)),
                                      timeout=float(_config("ERP_MAIL_TIMEOUT", 10)))
            try:
                if _config("ERP_MAIL_USE_TLS", False):
                    connection.starttls(context=ssl.create_default_context())
                username = _config("ERP_MAIL_USERNAME")
                if username:
                    connection.login(username, _config("ERP_MAIL_PASSWORD", ""))
            except BaseException:
                connection.close()
                raise
            self.connection = connection
        return self.connection

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipients refused: " + "; ".join(
            f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _record_failure(message: OutboxMessage, error: str, now: datetime, *,
                    permanent: bool = False) -> str:
    """Count a failed attempt: queue the message again later, or give up. Returns the status."""
    message.attempts = (message.attempts or 0) + 1
    message.last_error = error
    max_attempts = int(_config("ERP_MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    if permanent or message.attempts >= max_attempts:
        message.status = FAILED
        log.error("mail %s failed for good after %d attempt(s): %s",
                  message.id, message.attempts, error)
    else:
        message.status = QUEUED
        message.next_attempt_at = now + backoff(message.attempts)
        log.warning("mail %s not sent (attempt %d), retrying at %s: %s",
                    message.id, message.attempts, message.next_attempt_at.isoformat(), error)
    return message.status


def recover_stuck(now: datetime | None = None) -> int:
    """Queue again the messages a crashed worker left in "sending"; returns how many.

    The lost attempt counts (the message may have been delivered already). One ``UPDATE``
    that only touches rows still ``sending``: two workers never recover the same message.
    """
    now = _aware(now or utcnow())
    cutoff = now - STUCK_AFTER
    stuck = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status == SENDING,
                                       OutboxMessage.next_attempt_at <= cutoff)
    ).all()
    db.session.commit()  # read only: the write below starts a transaction of its own
    if not stuck:
        return 0
    max_attempts = int(_config("ERP_MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(stuck), OutboxMessage.status == SENDING,
               OutboxMessage.next_attempt_at <= cutoff)
        .values(attempts=func.coalesce(OutboxMessage.attempts, 0) + 1,
                last_error="the worker stopped while sending it; it may have been "
                           "delivered already",
                # No wait: it was due long ago.
                status=case((func.coalesce(OutboxMessage.attempts, 0) + 1 >= max_attempts,
                             FAILED), else_=QUEUED),
                next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        log.warning("mail: %d message(s) left in 'sending' by a stopped worker, queued again",
                    result.rowcount)
    return result.rowcount


def waiting_count() -> int:
    """Messages queued and not sent yet (due or not)."""
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.status == QUEUED)) or 0


def deliver_due(limit: int = PASS_LIMIT, now: datetime | None = None) -> DeliveryReport:
    """Send up to ``limit`` due messages (needs an app context); one pass of the worker.

    ``now`` (UTC) defaults to the current time; tests pass a later one to skip a backoff.
    If the SMTP server cannot be reached, the pass stops after the first message (it is
    retried later) and leaves the others queued, their attempts untouched. With no mail
    server configured, nothing is attempted (``report.not_configured``).
    """
    now = _aware(now or utcnow())
    report = DeliveryReport(recovered=recover_stuck(now))
    if not mail_configured():
        report.not_configured, report.waiting = True, waiting_count()
        db.session.commit()
        return report
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    smtp = _Smtp()
    try:
        for message_id in due:
            if not claim(OutboxMessage, message_id, now):
                continue  # another worker has it
            message = db.session.get(OutboxMessage, message_id, populate_existing=True)
            # From here a plain object: no transaction (nor SQLite lock) is held while the
            # SMTP server is talked to; the outcome is written by an UPDATE of its own.
            db.session.expunge(message)
            db.session.commit()
            status = _send(smtp, message, now)
            _save(message)
            if status == SENT:
                report.sent += 1
            elif status == FAILED:
                report.failed += 1
            else:
                report.retried += 1
            if smtp.unreachable:
                break  # the next messages wait, their attempts untouched
    finally:
        smtp.close()
    if due:
        log.info("mail pass: %s", report)
    return report


def _save(message: OutboxMessage) -> None:
    """Write the outcome of an attempt on a message this worker claimed."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING)
        .values(status=message.status, attempts=message.attempts,
                last_error=message.last_error, next_attempt_at=message.next_attempt_at,
                sent_at=message.sent_at, message_id=message.message_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:  # taken back by recover_stuck: this worker was too slow
        log.warning("mail %s: outcome %r not recorded, the message was no longer 'sending'",
                    message.id, message.status)


def _send(smtp: _Smtp, message: OutboxMessage, now: datetime) -> str:
    """Try one claimed message; returns its new status."""
    try:
        email = build_email(message)
    except (ValueError, TypeError) as exc:  # cannot get better by waiting
        return _record_failure(message, f"cannot build the message: {exc}", now, permanent=True)
    try:
        connection = smtp.get()
    except (OSError, smtplib.SMTPException) as exc:
        smtp.unreachable = True
        return _record_failure(message, f"cannot reach the SMTP server: {_describe(exc)}", now)
    recipients = [parseaddr(address)[1] for address in message.to + (message.cc or [])]
    try:
        refused = connection.send_message(email, from_addr=parseaddr(email["From"])[1],
                                          to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        smtp.close()
        permanent = all(500 <= code < 600 for code, _reply in exc.recipients.values())
        return _record_failure(message, _describe(exc), now, permanent=permanent)
    except (OSError, smtplib.SMTPException) as exc:
        smtp.close()  # the session may be in any state: start the next one afresh
        return _record_failure(message, _describe(exc), now)
    message.status = SENT
    message.sent_at = now
    message.attempts = (message.attempts or 0) + 1
    message.last_error = (
        "recipients refused: " + "; ".join(f"{rcpt}: {code} {_text(reply)}"
                                          for rcpt, (code, reply) in refused.items())
        if refused else None
    )
    return SENT


# --- the worker's tasks, and sending again -------------------------------------------


def deliver_pending(limit: int = PASS_LIMIT) -> DeliveryReport:
    """Passes of :func:`deliver_due` while each finds a full batch (at most
    :data:`MAX_PASSES`): what the worker's tasks run (needs an app context)."""
    total = DeliveryReport()
    for _pass in range(MAX_PASSES):
        report = deliver_due(limit=limit)
        total += report
        if report.not_configured or report.handled < limit:
            break
    return total


@task()
def deliver_mail() -> None:
    """Deliver the due mail now: enqueued after a commit that queued mail, by "Send again"
    and when the worker starts. Several at once are harmless: each message is claimed."""
    deliver_pending()


@periodic_task(minutes=1)
def deliver_mail_periodically() -> None:
    """Every minute: the retries whose backoff is over, and mail queued while the task queue
    was down (or with ``ERP_MAIL_DELIVER_ON_QUEUE`` off)."""
    deliver_pending()


@on_worker_start
def _deliver_on_start() -> None:
    # What waited while no worker ran goes out now, not at the next periodic pass.
    if mail_configured():
        deliver_mail.enqueue()


def send_again(message_id: int) -> bool:
    """Put a ``queued`` or ``failed`` message back in the queue, due now, and commit; the
    worker is asked to deliver it (when a mail server is configured). False if the message
    is in another state (being sent, sent) or does not exist.

    Its attempts start again from 0: a fresh round of ``ERP_MAIL_MAX_ATTEMPTS`` attempts
    with backoff (a failed message kept its count, it would fail again after one more try).
    ``last_error`` stays until the next attempt, to show why it had not gone out.
    """
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_((QUEUED, FAILED)))
        .values(status=QUEUED, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    if mail_configured():
        enqueue_after_commit(deliver_mail)
    db.session.commit()
    return True


# --- the mail-worker command ----------------------------------------------------------


def run_worker(interval: float = 5.0, once: bool = False, limit: int = PASS_LIMIT
               ) -> DeliveryReport:
    """Deliver due mail every ``interval`` seconds until Ctrl+C or SIGTERM (needs an app context).

    ``flask --app erp mail-worker``: a mail-only worker, for when the background worker
    (``flask --app erp worker``, which delivers mail too) is not run. With ``once``, a
    single pass. A pass that fails (the database is down, say) is logged and the worker
    goes on. Returns the report of the last pass.
    """
    if once:
        try:
            return deliver_due(limit=limit)
        finally:
            db.session.remove()
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # Finish the message in hand, then stop: nothing is left in "sending".
        previous = signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    report = DeliveryReport()
    log.info("mail worker started, every %s s", interval)
    if not mail_configured():
        log.warning("no mail server configured (ERP_MAIL_SERVER): mail is kept in the outbox")
    try:
        while not stop.is_set():
            try:
                report = deliver_due(limit=limit)
            except Exception:
                log.exception("mail pass failed; trying again in %s s", interval)
                db.session.rollback()
                report = DeliveryReport()
            finally:
                db.session.remove()
            if report.handled < limit:
                stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        log.info("mail worker stopped")
    return report
