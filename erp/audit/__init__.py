"""The audit trail: who created, changed or deleted which record, field by field, when.

A model opts in with one line, ``class Account(Audited, db.Model)``; from then on every
creation, change and deletion through the ORM session is recorded in ``erp_audit_entry``
in the same transaction (:mod:`.recorder`). A record's page shows its entries with
``{{ audit_history(record) }}`` (:mod:`.history`); admins see all of them, filtered, in
Administration → Audit trail (:mod:`.admin`). Work done outside a request on someone's
behalf runs inside ``acting_as(user)``.
"""

from __future__ import annotations

from .history import history_select, render_history, requested_page
from .models import ACTIONS, CREATE, DELETE, UPDATE, AuditEntry
from .recorder import Audited, acting_as, current_actor

__all__ = ["ACTIONS", "CREATE", "DELETE", "UPDATE", "AuditEntry", "Audited", "acting_as",
           "current_actor", "history_select", "init_app", "render_history", "requested_page"]


def init_app(app) -> None:
    """``audit_history(record)`` in every template: the record's History section."""
    from .history import history_section

    app.jinja_env.globals["audit_history"] = history_section
