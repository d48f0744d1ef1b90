"""A payment of a receivable (on the receivable's page): it collects;
services/payments.py decides."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from erp.i18n import module_i18n

from ..labels import METHOD_LABELS
from ..models import METHODS

_l = module_i18n(__name__).lazy_gettext

# Dates are date inputs, as in the other forms (sales, service, CRM): the browser shows its
# own format hint (dd/mm/aaaa in pt-BR), not a date that looks filled in (issue 17).


class PaymentForm(FlaskForm):
    date = StringField(_l("Payment date"), render_kw={"type": "date"})
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"})
    method = SelectField(_l("Method"), default="pix")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [(m, METHOD_LABELS[m]) for m in METHODS]
