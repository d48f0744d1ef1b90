"""Finance's Flask-Admin views (registered in __init__.register): receivables and
payments as they are, for an administrator; both are made in the app."""

from erp.admin import SecureModelView
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class ReceivableAdmin(SecureModelView):
    column_list = ("document", "account", "origin", "issue_date", "due_date", "amount",
                   "installment", "installments", "cancelled")
    column_labels = {"document": _l("Document"), "account": _l("Account"),
                     "origin": _l("Origin"), "issue_date": _l("Issue date"),
                     "due_date": _l("Due date"), "amount": _l("Amount"),
                     "installment": _l("Installment"), "installments": _l("Installments"),
                     "cancelled": _l("Cancelled")}
    column_searchable_list = ("document",)
    column_filters = ("due_date", "cancelled", "origin")
    column_default_sort = ("due_date", True)
    form_columns = ("document", "due_date", "cancelled")
    can_create = False


class PaymentAdmin(SecureModelView):
    column_list = ("date", "receivable", "account", "amount", "method", "created_at")
    column_labels = {"date": _l("Payment date"), "receivable": _l("Receivable"),
                     "account": _l("Account"), "amount": _l("Amount"),
                     "method": _l("Method"), "created_at": _l("Recorded")}
    column_default_sort = ("created_at", True)
    form_columns = ("date", "method")
    can_create = False
