"""Sales' Flask-Admin views (registered in __init__.register as AdminView contributions)."""

from erp.admin import SecureModelView
from erp.i18n import module_i18n

from .account_page import KINDS as EVENT_KINDS
from .labels import KIND_LABELS

_l = module_i18n(__name__).lazy_gettext


class ProductAdmin(SecureModelView):
    column_list = ("code", "name", "kind", "price", "active")
    column_labels = {"kind": _l("Kind"), "price": _l("Price")}
    column_choices = {"kind": KIND_LABELS}
    column_searchable_list = ("code", "name")
    form_columns = ("code", "name", "kind", "price", "active")


class DocumentAdmin(SecureModelView):
    """Documents are made through the sales pages (sequences, events, signals)."""

    can_create = False
    can_delete = False
    column_exclude_list = ("lines", "installments")
    column_default_sort = ("id", True)


class QuoteAdmin(DocumentAdmin):
    column_list = ("number", "account", "status", "valid_until", "total", "created_at")
    form_columns = ("notes",)


class OrderAdmin(DocumentAdmin):
    column_list = ("number", "account", "status", "order_date", "total")
    form_columns = ("notes",)


class InvoiceAdmin(DocumentAdmin):
    column_list = ("number", "account", "status", "issue_date", "total")
    can_edit = False


class EventAdmin(DocumentAdmin):
    column_list = ("at", "account_id", "kind", "title")
    column_labels = {"at": _l("When"), "kind": _l("Event"), "document_type": _l("Document"),
                     "document_id": _l("Document number")}
    column_choices = {"kind": EVENT_KINDS,
                      "document_type": {"quote": _l("Quote"), "order": _l("Order"),
                                        "invoice": _l("Invoice")}}
    can_edit = False
