"""The lines of a quote or an order: one row per line, products from the catalog."""

from wtforms import Form, SelectField, StringField

from erp.forms import choices
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


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
