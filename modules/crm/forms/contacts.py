"""The contact form and the account page's "Add relationship": they collect;
services/contacts.py decides (shared with the API)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import Optional

from erp.forms import kw
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), **kw(autocomplete="name"))
    position = StringField(_l("Position"))
    current_system = StringField(_l("Current system"),
                                 description=_l("The system the person uses today."))
    phone = StringField(_l("Phone"), **kw(type="tel", **{"data-mask": "phone"}))
    mobile = StringField(_l("Mobile"), **kw(type="tel", **{"data-mask": "phone"}))
    email = EmailField(_l("E-mail"))
    notes = TextAreaField(_l("Notes"), **kw(rows=3))
    version = HiddenField()
    confirm_duplicates = BooleanField(_l("I checked the similar contacts: save anyway"))

    SERVICE_FIELDS = ("name", "position", "current_system", "phone", "mobile", "email",
                      "notes")

    def service_data(self) -> dict:
        return {name: self[name].data for name in self.SERVICE_FIELDS}


class RelationshipForm(FlaskForm):
    """"Add relationship": an existing contact, or a new one, with a role at the account."""

    contact_id = IntegerField(_l("Existing contact"), validators=[Optional()])
    role = StringField(_l("Role at this account"),
                       **kw(placeholder=_l("e.g. Purchasing, Finance director")))
    new_name = StringField(_l("New contact's name"))
    new_email = EmailField(_l("E-mail"))
    new_phone = StringField(_l("Phone"), **kw(type="tel", **{"data-mask": "phone"}))
