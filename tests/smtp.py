"""A real SMTP server for tests (aiosmtpd on loopback), and mail settings pointing at it.

Loaded for the whole suite by tests/conftest.py (``pytest_plugins``).
"""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd import controller as aiosmtpd_controller


class Collector:
    """An aiosmtpd handler that keeps every message; refuses the listed recipients."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.envelopes: list = []
        self.refuse = refuse or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def parsed(self, index: int = 0):
        content = self.envelopes[index].content.replace(b"\r\n", b"\n")  # SMTP's CRLF
        return message_from_bytes(content, policy=policy.default)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self, **smtp_options) -> None:
        self.handler = Collector()
        self.port = free_port()
        self.controller = aiosmtpd_controller.Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **smtp_options)

    @property
    def envelopes(self) -> list:
        return self.handler.envelopes


@pytest.fixture
def start_smtp():
    """Start real SMTP servers on free loopback ports; all stopped after the test."""
    servers: list[SmtpServer] = []

    def start(**smtp_options) -> SmtpServer:
        server = SmtpServer(**smtp_options)
        server.controller.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.controller.stop()


@pytest.fixture
def smtp(start_smtp) -> SmtpServer:
    return start_smtp()


@pytest.fixture
def closed_port():
    """A loopback port bound but not listening: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def mail_config(app):
    """Set app.config keys for one test; the old values come back afterwards."""
    saved: dict = {}

    def configure(**values) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    configure(ERP_MAIL_SERVER="127.0.0.1", ERP_MAIL_TIMEOUT=5,
              ERP_MAIL_FROM="Mosaic ERP <erp@mosaic.example>")
    yield configure
    app.config.update(saved)


