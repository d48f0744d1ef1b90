"""A payment of a receivable (on the receivable's page): it collects;
services/payments.py decides."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from ..labels import METHOD_LABELS
from ..models import METHODS


class PaymentForm(FlaskForm):
    date = StringField(_l("Payment date"), render_kw={"placeholder": "31/12/2026"})
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"})
    method = SelectField(_l("Method"), default="pix")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [(m, METHOD_LABELS[m]) for m in METHODS]
