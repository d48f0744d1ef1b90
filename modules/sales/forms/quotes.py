"""The quote form and the form that sends a quote by e-mail."""

from flask_wtf import FlaskForm
from wtforms import FormField, SelectField, StringField, TextAreaField

from erp.i18n import module_i18n

from .lines import LineForm, LineList, LinesMixin

_l = module_i18n(__name__).lazy_gettext


class QuoteForm(LinesMixin, FlaskForm):
    contact_id = SelectField(_l("Contact"), validate_choice=False)
    valid_until = StringField(_l("Valid until"), render_kw={"type": "date"})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3})
    lines = LineList(FormField(LineForm))

    def service_data(self) -> dict:
        return {"contact_id": self.contact_id.data, "valid_until": self.valid_until.data,
                "notes": self.notes.data, "lines": self.lines_data()}


class SendForm(FlaskForm):
    contact_id = SelectField(_l("Send to"), validate_choice=False)
    message = TextAreaField(_l("Message"), render_kw={"rows": 4})
