"""The product form of the catalog."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField

from erp.i18n import module_i18n

from ..labels import KIND_LABELS

_l = module_i18n(__name__).lazy_gettext


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
