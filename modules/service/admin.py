"""Service's Flask-Admin views (registered in __init__.register): the records as they
are, for an administrator; orders are made and moved in the app, invoices never deleted."""

from erp.admin import SecureModelView
from erp.i18n import module_i18n

from .account_page import KINDS as EVENT_KINDS
from .labels import INVOICE_STATUS_LABELS

_l = module_i18n(__name__).lazy_gettext


class OrderAdmin(SecureModelView):
    column_list = ("number", "account", "status", "technician", "total", "created_at")
    column_labels = {"number": _l("Number"), "account": _l("Account"), "status": _l("Status"),
                     "technician": _l("Technician"), "total": _l("Total"),
                     "created_at": _l("Opened")}
    column_searchable_list = ("description",)
    column_filters = ("status",)
    column_default_sort = ("id", True)
    # Totals, numbers and statuses follow rules: orders are made and moved in the app.
    form_columns = ("description",)
    can_create = False


class OrderItemAdmin(SecureModelView):
    column_list = ("order", "description", "quantity", "unit_price", "total")
    column_labels = {"order": _l("Order"), "position": _l("Line"),
                     "quantity": _l("Quantity"), "unit_price": _l("Unit price"),
                     "discount": _l("Discount (%)"), "total": _l("Total")}
    can_create = False
    can_edit = False


class InvoiceAdmin(SecureModelView):
    column_list = ("number", "account", "order", "issue_date", "due_date", "amount", "status")
    column_labels = {"number": _l("Number"), "account": _l("Account"), "order": _l("Order"),
                     "issue_date": _l("Issue date"), "due_date": _l("Due date"),
                     "amount": _l("Amount"), "status": _l("Status"),
                     "issued_by": _l("Issued by"), "issued_at": _l("Issued"),
                     "cancelled_by": _l("Cancelled by"), "cancelled_at": _l("Cancelled on")}
    column_choices = {"status": INVOICE_STATUS_LABELS}
    column_filters = ("status",)
    column_default_sort = ("id", True)
    can_create = False
    can_edit = False
    can_delete = False  # invoices are cancelled, never deleted


class EventAdmin(SecureModelView):
    column_list = ("at", "account", "kind", "document", "user")
    column_labels = {"at": _l("When"), "kind": _l("Event"), "document": _l("Document"),
                     "order": _l("Order"), "invoice": _l("Invoice"), "amount": _l("Amount")}
    column_choices = {"kind": EVENT_KINDS}
    column_default_sort = ("at", True)
    can_create = False
    can_edit = False
