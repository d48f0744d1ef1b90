"""The aging report's filters (read from the query string): the day, the account owner,
the team. Their choices are set by reports.build_form for the viewer."""

from wtforms import Form, SelectField, StringField, ValidationError

from erp.formats import parse_date
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class AgingFilterForm(Form):
    """Read from the query string (a GET form changes nothing: no CSRF)."""

    as_of = StringField(_l("On"), render_kw={"type": "date"})
    owner = SelectField(_l("Account owner"))
    team = SelectField(_l("Team"))

    def validate_as_of(self, field) -> None:
        try:
            value = parse_date(field.data)
        except (TypeError, ValueError):
            raise ValidationError(_l("Use a date such as 31/12/2026.")) from None
        if value is None or not 1900 <= value.year <= 2999:
            raise ValidationError(_l("Use a date such as 31/12/2026."))
