"""Finance's part of the JSON API (``/api/v1/finance``): receivables (list with the
page's filters, read, enter by hand, cancel), payments (list, record, read) and the aging
report's figures.

Views are thin, as on the web: parse (the schemas), check the permission and the record
scope of the receivable's account, call the same services the pages call, answer. The
services' refusals become API errors through the host's conventions
(``erp.api.conventions``), in the host's error shape.
"""

from __future__ import annotations


def blueprints() -> list:
    """The flask-smorest blueprints, mounted at ``/api/v1``."""
    from . import views

    return [views.receivables, views.payments, views.aging]
