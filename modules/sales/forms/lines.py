"""The lines of a quote or an order: one row per line, products from the catalog.

As many rows as the user adds (erp/static/line_items.js), up to ``MAX_ROWS``: more is one
clear error on the form (nothing is saved), never rows silently dropped. Each row's
catalog select lists the active catalog when it is small, else only its own product; the
picker searches the rest (views/catalog.py: pick_products)."""

from flask_babel import format_decimal
from wtforms import Form, SelectField, StringField

from erp.documents import MAX_LINES
from erp.forms import RowList
from erp.i18n import module_i18n, number

_l = module_i18n(__name__).lazy_gettext

MAX_ROWS = MAX_LINES  # rows of a form, empty ones included; the service counts the filled


class LineForm(Form):
    product_id = SelectField(_l("Catalog item"), validate_choice=False)
    description = StringField(_l("Description"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})
    discount = StringField(_l("Discount (%)"), render_kw={"inputmode": "decimal"})


def _too_many_lines(n: int) -> str:
    return _l("At most %(n)d lines.", n=n)


class LineList(RowList):
    """A quote's or an order's line rows: at most ``MAX_ROWS``, said in sales' words."""

    def __init__(self, unbound_field, **kwargs):
        super().__init__(unbound_field, max_entries=MAX_ROWS, too_many=_too_many_lines,
                         **kwargs)


def plain_number(value) -> str:
    """A quantity or a percentage as the user's language writes it, without thousands
    separators ("1,000" would be one in English to a reader of pt-BR numbers)."""
    return format_decimal(value, format="0.###")


def product_option(product) -> tuple:
    """A catalog select's option, carrying what a pick fills in (line_items.js)."""
    return (str(product.id), f"{product.code} — {product.name}",
            {"data-name": product.name, "data-price_input": number(product.price, 2)})


class LinesMixin:
    def set_products(self, products, picker_url: str | None = None) -> None:
        """The catalog selects' options (``products``) and, for the searchable picker,
        the address of the catalog's search."""
        options = [("", "—")] + [product_option(product) for product in products]
        attributes = {"data-line-product": ""}
        if picker_url:
            attributes.update({"data-picker": "", "data-picker-url": picker_url,
                               "data-placeholder": _l("Search the catalog…")})
        for entry in self.lines:
            entry.form.product_id.choices = options
            entry.form.product_id.render_kw = {**(entry.form.product_id.render_kw or {}),
                                               **attributes}

    def selected_products(self) -> set[int]:
        """The catalog products the rows have (their ids), to list in the selects."""
        found = set()
        for entry in self.lines:
            value = str(entry.form.product_id.data or "")
            if value.isascii() and value.isdigit() and len(value) <= 9:
                found.add(int(value))
        return found

    def fill_lines(self, lines) -> None:
        while len(self.lines) < len(lines) + 1:
            self.lines.append_entry()
        for entry, line in zip(self.lines, lines, strict=False):
            entry.form.product_id.data = str(line.product_id or "")
            entry.form.description.data = line.description
            entry.form.quantity.data = plain_number(line.quantity)
            entry.form.unit_price.data = number(line.unit_price, 2)
            entry.form.discount.data = plain_number(line.discount)

    def lines_data(self) -> list[dict]:
        return [entry.data for entry in self.lines]
