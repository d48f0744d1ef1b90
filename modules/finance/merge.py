"""Finance's merge handler (issue 18): when two accounts are merged, the merged one's
receivables and payments go to the survivor (a receivable and its payments keep naming
the same account). Nothing refuses a merge: a receivable is unique by its origin (an
invoice's installment), never by account."""

from __future__ import annotations

from erp.i18n import module_i18n
from erp.merging import moving
from erp.registry import MERGE_ACCOUNT

from .models import Payment, Receivable

ngettext = module_i18n(__name__).ngettext

HANDLERS = (
    moving("finance.account", MERGE_ACCOUNT,
           (Receivable.account_id, lambda n: ngettext("%(num)d receivable",
                                                      "%(num)d receivables", n)),
           (Payment.account_id, lambda n: ngettext("%(num)d payment", "%(num)d payments", n)),
           order=30),
)
