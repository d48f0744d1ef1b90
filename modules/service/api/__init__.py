"""Service's part of the JSON API (``/api/v1/service``): service orders with their items
and hours (create, read, update, status moves, invoice) and service invoices with their
installments (read, cancel).

Views are thin, as on the web: parse (the schemas), check the permission and the record
scope of the order's account, call the same services the pages call, answer. The
services' refusals become API errors through the host's conventions
(``erp.api.conventions``), in the host's error shape.
"""

from __future__ import annotations


def blueprints() -> list:
    """The flask-smorest blueprints, mounted at ``/api/v1``."""
    from . import views

    return [views.orders, views.invoices]
