"""Sales' part of the JSON API (``/api/v1/sales``): the catalog's products, quotes with
their lines and their moves (send, accept, refuse), orders (create, deliver, cancel,
invoice) and invoices with their installments (cancel).

Views are thin, as on the web: parse (the schemas), check the permission and the record
scope of the document's account, call the same services the pages call, answer. The
services' refusals become API errors through the host's conventions
(``erp.api.conventions``), in the host's error shape.
"""

from __future__ import annotations


def blueprints() -> list:
    """The flask-smorest blueprints, mounted at ``/api/v1``."""
    from . import documents, products

    return [products.blp, documents.quotes, documents.orders, documents.invoices]
