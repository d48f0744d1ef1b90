"""A service order's form and its item rows: they collect; services/orders.py decides (and
reports per-field errors).

As many item rows as the user adds (erp/static/line_items.js, or "Add item" posting the
form back without JavaScript), up to ``MAX_ROWS``: more is one clear error on the form
(nothing saved), never rows silently dropped (issue 17). Service items have no catalog:
service depends on CRM only, the products are sales'."""

from flask_wtf import FlaskForm
from wtforms import Form, FormField, SelectField, StringField, TextAreaField

from erp.documents import MAX_LINES
from erp.forms import RowList, choices
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext

MAX_ROWS = MAX_LINES  # rows of the form, empty ones included; the service counts the filled


class ItemForm(Form):
    """One line: description, quantity, unit price (pt-BR numbers accepted)."""

    description = StringField(_l("Item"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})


def _too_many_items(n: int) -> str:
    return _l("At most %(n)d items.", n=n)


class OrderForm(FlaskForm):
    description = TextAreaField(_l("Description"), render_kw={"rows": 4, "maxlength": 5000},
                                description=_l("What the customer asked for, what is to be done."))
    technician_id = SelectField(_l("Responsible technician"), validate_choice=False,
                                render_kw={"required": True})
    # The hours are one more line to line_items.js (hours × rate, in the order's total).
    hours = StringField(_l("Hours"), render_kw={"inputmode": "decimal", "data-line-quantity": ""},
                        description=_l("e.g. 2,5"))
    hourly_rate = StringField(_l("Hourly rate"),
                              render_kw={"inputmode": "decimal", "data-line-price": ""})
    items = RowList(FormField(ItemForm), max_entries=MAX_ROWS, too_many=_too_many_items)

    def set_choices(self, users) -> None:
        self.technician_id.choices = choices(users, blank="—")

    def service_data(self) -> dict:
        return {"description": self.description.data, "technician_id": self.technician_id.data,
                "hours": self.hours.data, "hourly_rate": self.hourly_rate.data,
                "items": [entry.data for entry in self.items]}
