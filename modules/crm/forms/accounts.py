"""The account form: it collects; services/accounts.py decides (shared with the API)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from erp.forms import BLANK_CHOICE, kw
from erp.i18n import module_i18n

from ..services.external_refs import EXTERNAL_REF_MAX
from ..services.validation import BR_STATES

_l = module_i18n(__name__).lazy_gettext
# The account's and the opportunity's (issue 19).
EXTERNAL_REF_HELP = _l("Its code in the system it came from (an export's Código or ID): "
                       "a re-import finds it by this.")


class AccountForm(FlaskForm):
    # The service validates every choice (and says why); the form only collects.
    person_type = SelectField(_l("Type"), validate_choice=False)
    tax_id = StringField(_l("CNPJ / CPF"), **kw(inputmode="text", autocomplete="off",
                                                 **{"data-mask": "taxid"}))
    legal_name = StringField(_l("Legal name"), **kw(autocomplete="organization"))
    trade_name = StringField(_l("Trade name (nome fantasia)"))
    short_name = StringField(_l("Short name"))
    lifecycle = SelectField(_l("Lifecycle"), validate_choice=False)
    state_registration = StringField(
        _l("State registration (IE)"),
        description=_l("Digits as issued by the state, or ISENTO."))
    category_id = SelectField(_l("Category"), validate_choice=False)
    owner_id = SelectField(_l("Owner"), validate_choice=False)
    tag_ids = SelectMultipleField(_l("Tags"), validate_choice=False)
    priority = BooleanField(_l("Priority"))
    phone = StringField(_l("Phone"), **kw(type="tel", autocomplete="tel",
                                           **{"data-mask": "phone"}))
    mobile = StringField(_l("Mobile"), **kw(type="tel", **{"data-mask": "phone"}))
    email = EmailField(_l("E-mail"), **kw(autocomplete="email"))
    website = StringField(_l("Website"), **kw(placeholder="www.example.com.br"))
    cep = StringField(_l("CEP"), **kw(inputmode="numeric", **{"data-mask": "cep"}))
    street = StringField(_l("Street"))
    number = StringField(_l("Number"))
    complement = StringField(_l("Complement"))
    district = StringField(_l("District"))
    city = StringField(_l("City"))
    state = SelectField(_l("State"), validate_choice=False)
    main_activity = StringField(_l("Main activity"))
    registry_status = StringField(_l("Registry status"))
    opened_on = DateField(_l("Opened on"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), **kw(rows=3))
    external_ref = StringField(_l("External reference"), description=EXTERNAL_REF_HELP,
                               **kw(maxlength=EXTERNAL_REF_MAX, autocomplete="off"))
    version = HiddenField()
    confirm_duplicates = BooleanField(_l("I checked the similar accounts: save anyway"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.person_type.choices = [("PJ", _l("Company (PJ)")), ("PF", _l("Person (PF)"))]
        self.lifecycle.choices = [("prospect", _l("Prospect")), ("customer", _l("Customer"))]
        self.state.choices = [BLANK_CHOICE] + [(uf, uf) for uf in BR_STATES]

    SERVICE_FIELDS = ("person_type", "tax_id", "legal_name", "trade_name", "short_name",
                      "lifecycle", "state_registration", "category_id", "owner_id", "tag_ids",
                      "priority", "phone", "mobile", "email", "website", "cep", "street",
                      "number", "complement", "district", "city", "state", "main_activity",
                      "registry_status", "opened_on", "notes", "external_ref")

    def service_data(self) -> dict:
        return {name: self[name].data for name in self.SERVICE_FIELDS}
