"""What the people read for sales' codes and fields (status badges, the audit History)."""

from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext

STATUS_LABELS = {
    "draft": _l("Draft"), "sent": _l("Sent"), "expired": _l("Expired"),
    "accepted": _l("Accepted"), "refused": _l("Refused"), "confirmed": _l("Confirmed"),
    "delivered": _l("Delivered"), "cancelled": _l("Cancelled"), "issued": _l("Issued"),
}
# The status badge's colour (macros.html's status_badge): a Bootstrap text-bg-* class.
STATUS_TONES = {
    "draft": "text-bg-secondary", "sent": "text-bg-primary", "expired": "text-bg-warning",
    "accepted": "text-bg-success", "refused": "text-bg-danger", "confirmed": "text-bg-primary",
    "delivered": "text-bg-success", "cancelled": "text-bg-secondary", "issued": "text-bg-success",
}
STATUS_CHOICES = {"status": STATUS_LABELS}

# A catalog item's kind (models.PRODUCT_KINDS).
KIND_LABELS = {"product": _l("Product"), "service": _l("Service")}

QUOTE_FIELDS = {
    "number": _l("Number"), "account_id": _l("Account"), "contact_id": _l("Contact"),
    "user_id": _l("Salesperson"), "status": _l("Status"), "valid_until": _l("Valid until"),
    "notes": _l("Notes"), "total": _l("Total"), "sent_at": _l("Sent"),
    "decided_at": _l("Decided"),
}
ORDER_FIELDS = {
    "number": _l("Number"), "account_id": _l("Account"), "quote_id": _l("Quote"),
    "user_id": _l("Salesperson"), "status": _l("Status"), "order_date": _l("Order date"),
    "notes": _l("Notes"), "total": _l("Total"),
}
INVOICE_FIELDS = {
    "number": _l("Number"), "account_id": _l("Account"), "order_id": _l("Order"),
    "user_id": _l("Salesperson"), "status": _l("Status"), "issue_date": _l("Issue date"),
    "total": _l("Total"), "cancelled_at": _l("Cancelled"),
}
