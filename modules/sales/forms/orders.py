"""The order form (an order typed in, not from a quote)."""

from flask_wtf import FlaskForm
from wtforms import FormField, StringField, TextAreaField

from erp.i18n import module_i18n

from .lines import LineForm, LineList, LinesMixin

_l = module_i18n(__name__).lazy_gettext


class OrderForm(LinesMixin, FlaskForm):
    order_date = StringField(_l("Order date"), render_kw={"type": "date"})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3})
    lines = LineList(FormField(LineForm))

    def service_data(self) -> dict:
        return {"order_date": self.order_date.data, "notes": self.notes.data,
                "lines": self.lines_data()}
