"""How notes follow a merge of two accounts (issue 18): the merged account's notes go to
the survivor (and back on undo). One ``moving`` handler is all a module with a foreign key
to the account needs; a module with such a table and no handler would block every merge."""

from erp.i18n import module_i18n
from erp.merging import moving
from erp.registry import MERGE_ACCOUNT

from .models import Note

ngettext = module_i18n(__name__).ngettext

HANDLER = moving("notes.account", MERGE_ACCOUNT,
                 (Note.account_id, lambda n: ngettext("%(num)d note", "%(num)d notes", n)))
