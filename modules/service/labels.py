"""What people read for service's codes and fields (status badges, the audit History)."""

from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext

# models.py's ORDER_STATUSES (this file is imported by models.py, so not the reverse)
ORDER_STATUS_LABELS = {
    "open": _l("Open"), "in_progress": _l("In progress"), "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}

# The button that moves an order to each status (order.html's status buttons).
ACTION_LABELS = {"in_progress": _l("Start work"), "done": _l("Finish"),
                 "cancelled": _l("Cancel order")}

ORDER_FIELDS = {
    "number": _l("Number"), "account_id": _l("Account"), "description": _l("Description"),
    "technician_id": _l("Responsible technician"), "status": _l("Status"),
    "hours": _l("Hours"), "hourly_rate": _l("Hourly rate"), "items_total": _l("Items"),
    "hours_total": _l("Hours total"), "total": _l("Total"), "created_by_id": _l("Opened by"),
    "started_at": _l("Started"), "finished_at": _l("Finished"),
    "cancelled_at": _l("Cancelled on"),
}
ORDER_CHOICES = {"status": ORDER_STATUS_LABELS}
INVOICE_STATUS_LABELS = {"issued": _l("Issued"), "cancelled": _l("Cancelled")}

# The status badges' colours (macros.html's status_badge): Bootstrap text-bg-* classes.
ORDER_STATUS_TONES = {
    "open": "text-bg-primary", "in_progress": "text-bg-warning", "done": "text-bg-success",
    "cancelled": "text-bg-secondary",
}
INVOICE_STATUS_TONES = {"issued": "text-bg-success", "cancelled": "text-bg-secondary"}
