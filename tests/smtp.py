"""The SMTP server of the test kit (erp.testing.smtp; its fixtures ``smtp``,
``start_smtp``, ``closed_port`` and ``mail_config`` come with the plugin), named here for
the tests that import it from here."""

from __future__ import annotations

from erp.testing.smtp import Collector, SmtpServer, free_port  # noqa: F401 (re-exported)
