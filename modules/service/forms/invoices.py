"""A service invoice's form (on the order's page): it collects; services/invoices.py
decides."""

from flask_wtf import FlaskForm
from wtforms import StringField

from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class InvoiceForm(FlaskForm):
    issue_date = StringField(_l("Issue date"), render_kw={"type": "date"})
    due_date = StringField(_l("Due date"), render_kw={"type": "date"},
                           description=_l("Of the first installment; the others a month apart."))
    installments = StringField(_l("Installments"), default="1",
                               render_kw={"inputmode": "numeric"})

    def service_data(self) -> dict:
        return {"issue_date": self.issue_date.data, "due_date": self.due_date.data,
                "installments": self.installments.data}
