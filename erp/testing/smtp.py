"""A real SMTP server for tests (aiosmtpd on loopback; ``pip install aiosmtpd``)."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy


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
    """An SMTP server on a free loopback port (not started: ``.controller.start()``)."""

    def __init__(self, **smtp_options) -> None:
        from aiosmtpd import controller as aiosmtpd_controller  # a test dependency only

        self.handler = Collector()
        self.port = free_port()
        self.controller = aiosmtpd_controller.Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **smtp_options)

    @property
    def envelopes(self) -> list:
        return self.handler.envelopes
