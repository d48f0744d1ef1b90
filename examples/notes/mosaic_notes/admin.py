"""The notes' admin view (Admin → CRM → Notes)."""

from erp.admin import SecureModelView
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class NoteAdmin(SecureModelView):
    column_list = ("created_at", "account", "author", "body")
    column_labels = {"created_at": _l("Written"), "account": _l("Account"),
                     "author": _l("Author"), "body": _l("Note")}
    column_searchable_list = ("body",)
    column_default_sort = ("created_at", True)
    form_columns = ("body",)  # notes are written from the account page; admins may fix them
    can_create = False
