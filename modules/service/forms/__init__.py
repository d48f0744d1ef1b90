"""Service's WTForms classes, one file per entity: orders.py (an order and its items),
invoices.py (a service invoice)."""
