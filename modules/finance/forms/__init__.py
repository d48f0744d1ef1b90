"""Finance's WTForms classes, one file per entity: receivables.py (a receivable entered
by hand), payments.py (a payment), reports.py (the aging report's filters)."""
