"""The CRM's part of the JSON API (``/api/v1``): accounts, contacts and their links,
opportunities, actions, and the lists their ids come from.

Views are thin, as on the web: parse (the schemas), check permission and record scope,
call the same services the forms call, answer. Service refusals become API errors in
one place (:mod:`.errors`).
"""

from __future__ import annotations


def blueprints() -> list:
    """The flask-smorest blueprints, mounted at ``/api/v1``."""
    from . import accounts, actions, cnpj, contacts, duplicates, lookups, merge, opportunities

    return [accounts.blp, contacts.blp, opportunities.blp, actions.blp, lookups.blp,
            merge.blp, duplicates.blp, cnpj.blp]
