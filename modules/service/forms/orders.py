"""A service order's form and its item rows: they collect; services/orders.py decides (and
reports per-field errors)."""

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, StringField, TextAreaField

from erp.forms import choices
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class ItemForm(Form):
    """One line: description, quantity, unit price (pt-BR numbers accepted)."""

    description = StringField(_l("Item"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})


class OrderForm(FlaskForm):
    description = TextAreaField(_l("Description"), render_kw={"rows": 4, "maxlength": 5000},
                                description=_l("What the customer asked for, what is to be done."))
    technician_id = SelectField(_l("Responsible technician"), validate_choice=False,
                                render_kw={"required": True})
    hours = StringField(_l("Hours"), render_kw={"inputmode": "decimal"},
                        description=_l("e.g. 2,5"))
    hourly_rate = StringField(_l("Hourly rate"), render_kw={"inputmode": "decimal"})
    items = FieldList(FormField(ItemForm), min_entries=3, max_entries=200)

    def set_choices(self, users) -> None:
        self.technician_id.choices = choices(users, blank="—")

    def service_data(self) -> dict:
        return {"description": self.description.data, "technician_id": self.technician_id.data,
                "hours": self.hours.data, "hourly_rate": self.hourly_rate.data,
                "items": [entry.data for entry in self.items]}
