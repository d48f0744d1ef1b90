"""Spreadsheet import of accounts, contacts and opportunities (the host runs it: erp/imports).

Each row goes through the services' own cleaning (``clean_account``, ``clean_contact``,
``clean_opportunity``): the import accepts and refuses exactly what the forms do. What the
rows refer to (existing accounts by CNPJ/CPF or e-mail, accounts by name, users, stages,
categories, tags) is fetched once per batch in ``prepare``, not once per row.

* Accounts are matched by CNPJ/CPF, then by e-mail, and updated (blank cells keep the
  current value) instead of duplicated; a record someone else owns is refused, as in the
  form. Accounts that only look alike (same CNPJ root, phone or e-mail with another
  CNPJ/CPF) are created, with a note in the preview.
* Contacts are matched by e-mail among those the user sees; the account column (CNPJ/CPF
  or name) links them to an account, in the role given.
* Opportunities are matched by external reference, then by account + title, and
  updated; otherwise new (issue 19). The value becomes one item (the value is the sum of
  the items, seed 002).
* Enumerated columns (lifecycle, person type, state, stage, owner) offer their choices
  and guesses to the mapping step (``ImportField.choices``/``guess``); numeric CNPJ/CPF
  and CEP cells get their lost leading zeros back (erp.imports.cells).

One file per entity (common.py: what they share); ``IMPORTERS`` lists the three.
"""

from __future__ import annotations

from erp.i18n import module_i18n
from erp.imports import Importer

from ..permissions import WRITE
from .accounts import ACCOUNT_FIELDS, prepare_accounts, validate_account, write_accounts
from .contacts import CONTACT_FIELDS, prepare_contacts, validate_contact, write_contacts
from .opportunities import (
    OPPORTUNITY_FIELDS,
    prepare_opportunities,
    validate_opportunity,
    write_opportunities,
)

_l = module_i18n(__name__).lazy_gettext

IMPORTERS = (
    Importer("accounts", _l("Accounts"), ACCOUNT_FIELDS, validate_account, write_accounts,
             prepare_accounts, permission=WRITE, order=10,
             description=_l("Existing accounts are found by CNPJ/CPF, then by e-mail, and "
                            "updated; blank cells keep what they have.")),
    Importer("contacts", _l("Contacts"), CONTACT_FIELDS, validate_contact, write_contacts,
             prepare_contacts, permission=WRITE, order=20,
             description=_l("Existing contacts are found by e-mail and updated; the account "
                            "column links each contact to an account, in the role given.")),
    Importer("opportunities", _l("Opportunities"), OPPORTUNITY_FIELDS, validate_opportunity,
             write_opportunities, prepare_opportunities, permission=WRITE, order=30,
             description=_l("Existing opportunities are found by external reference, then by "
                            "account and title, and updated; the others are created. The "
                            "value becomes one item.")),
)
