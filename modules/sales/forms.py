"""The sales forms: they collect; services.py decides (pt-BR numbers and dates accepted)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)

from erp.forms import choices

from .models import KIND_PRODUCT, KIND_SERVICE

KIND_LABELS = {KIND_PRODUCT: _l("Product"), KIND_SERVICE: _l("Service")}


class LineForm(Form):
    product_id = SelectField(_l("Catalog item"), validate_choice=False)
    description = StringField(_l("Description"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})
    discount = StringField(_l("Discount (%)"), render_kw={"inputmode": "decimal"})


class LinesMixin:
    def set_products(self, products) -> None:
        options = choices(products, lambda p: f"{p.code} — {p.name}", blank="—")
        for entry in self.lines:
            entry.form.product_id.choices = options

    def fill_lines(self, lines) -> None:
        while len(self.lines) < len(lines) + 2:
            self.lines.append_entry()
        for entry, line in zip(self.lines, lines, strict=False):
            entry.form.product_id.data = str(line.product_id or "")
            entry.form.description.data = line.description
            entry.form.quantity.data = f"{line.quantity.normalize():f}"
            entry.form.unit_price.data = f"{line.unit_price:.2f}"
            entry.form.discount.data = f"{line.discount.normalize():f}"

    def lines_data(self) -> list[dict]:
        return [entry.data for entry in self.lines]


class QuoteForm(LinesMixin, FlaskForm):
    contact_id = SelectField(_l("Contact"), validate_choice=False)
    valid_until = StringField(_l("Valid until"), render_kw={"type": "date"})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3})
    lines = FieldList(FormField(LineForm), min_entries=5)

    def service_data(self) -> dict:
        return {"contact_id": self.contact_id.data, "valid_until": self.valid_until.data,
                "notes": self.notes.data, "lines": self.lines_data()}


class OrderForm(LinesMixin, FlaskForm):
    order_date = StringField(_l("Order date"), render_kw={"type": "date"})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3})
    lines = FieldList(FormField(LineForm), min_entries=5)

    def service_data(self) -> dict:
        return {"order_date": self.order_date.data, "notes": self.notes.data,
                "lines": self.lines_data()}


class InvoiceForm(FlaskForm):
    issue_date = StringField(_l("Issue date"), render_kw={"type": "date"})
    installments = StringField(_l("Installments"), render_kw={"inputmode": "numeric"},
                               description=_l("1 for a single due date; monthly otherwise."))
    first_due_date = StringField(_l("(First) due date"), render_kw={"type": "date"})

    def service_data(self) -> dict:
        return {"issue_date": self.issue_date.data, "installments": self.installments.data,
                "first_due_date": self.first_due_date.data}


class SendForm(FlaskForm):
    contact_id = SelectField(_l("Send to"), validate_choice=False)
    message = TextAreaField(_l("Message"), render_kw={"rows": 4})


class ProductForm(FlaskForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), validate_choice=False)
    price = StringField(_l("Price"), render_kw={"inputmode": "decimal"})
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = list(KIND_LABELS.items())

    def service_data(self) -> dict:
        return {name: self[name].data for name in ("code", "name", "kind", "price", "active")}
