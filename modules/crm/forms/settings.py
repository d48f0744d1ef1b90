"""Forms of the CRM settings (stages, loss reasons, tags). They collect; services/settings rules."""

from flask_wtf import FlaskForm
from wtforms import ColorField, HiddenField, SelectField, StringField

from erp.forms import kw
from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext


class StageForm(FlaskForm):
    name = StringField(_l("Name"), **kw(maxlength=60, autocomplete="off", required=True))
    description = StringField(_l("Description"), **kw(maxlength=255, autocomplete="off"))
    # Text, not IntegerField: the service parses it and says why it is wrong.
    sequence = StringField(
        _l("Order"), description=_l("Stages are shown from the lowest number to the highest."),
        **kw(type="number", inputmode="numeric", min=1, step=1))

    def service_data(self) -> dict:
        return {"name": self.name.data, "description": self.description.data,
                "sequence": self.sequence.data}


class StageDeleteForm(FlaskForm):
    """Deleting a stage: where its opportunities go (required when it has any)."""

    move_to = SelectField(_l("Move its opportunities to"), validate_choice=False)


class LossReasonForm(FlaskForm):
    name = StringField(_l("Name"), **kw(maxlength=120, autocomplete="off", required=True))

    def service_data(self) -> dict:
        return {"name": self.name.data}


class ArchiveForm(FlaskForm):
    archived = HiddenField(default="1")


class TagForm(FlaskForm):
    name = StringField(_l("Name"), **kw(maxlength=60, autocomplete="off", required=True))
    color = ColorField(_l("Colour"), default="#6c757d")

    def service_data(self) -> dict:
        return {"name": self.name.data, "color": self.color.data}
