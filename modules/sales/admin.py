"""Sales' Flask-Admin views (registered in __init__.register as AdminView contributions)."""

from erp.admin import SecureModelView


class ProductAdmin(SecureModelView):
    column_list = ("code", "name", "kind", "price", "active")
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
    can_edit = False
