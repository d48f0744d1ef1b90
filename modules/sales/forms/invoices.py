"""The invoice form: issue date and installments of an order's invoice."""

from flask_wtf import FlaskForm
from wtforms import StringField

from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class InvoiceForm(FlaskForm):
    issue_date = StringField(_l("Issue date"), render_kw={"type": "date"})
    installments = StringField(_l("Installments"), render_kw={"inputmode": "numeric"},
                               description=_l("1 for a single due date; monthly otherwise."))
    first_due_date = StringField(_l("(First) due date"), render_kw={"type": "date"})

    def service_data(self) -> dict:
        return {"issue_date": self.issue_date.data, "installments": self.installments.data,
                "first_due_date": self.first_due_date.data}
