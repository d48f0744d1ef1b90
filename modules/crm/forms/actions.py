"""The action and e-mail forms: they collect; services/actions.py decides."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from erp.forms import choices
from erp.i18n import module_i18n

from ..models import ACTION_KINDS
from ..services.actions import KIND_LABELS, MAX_DESCRIPTION
from ..services.emails import MAX_SUBJECT

_l = module_i18n(__name__).lazy_gettext

DONE_CHOICES = (
    ("", _l("Done if the time has passed, else planned")),
    ("1", _l("Done")),
    ("0", _l("Planned (shows in the agenda)")),
)


class ActionEntryForm(FlaskForm):
    """Record what was done with the account, or plan what must be done (and when)."""

    account_id = HiddenField()
    opportunity_id = SelectField(_l("Opportunity"), validate_choice=False)
    kind = SelectField(_l("Kind"), validate_choice=False)
    at = StringField(_l("When"), render_kw={"type": "datetime-local"},
                     description=_l("In the past: what was done. In the future: a plan."))
    done = SelectField(_l("Status"), validate_choice=False)
    contact_id = SelectField(_l("Contact person"), validate_choice=False)
    user_id = SelectField(_l("By"), validate_choice=False)
    description = TextAreaField(
        _l("Description"), render_kw={"rows": 5, "maxlength": MAX_DESCRIPTION},
        description=_l("What was discussed, agreed or is to be done."))

    SERVICE_FIELDS = ("account_id", "opportunity_id", "kind", "at", "done", "contact_id",
                      "user_id", "description")

    def set_choices(self, *, opportunities, contacts, users) -> None:
        self.opportunity_id.choices = choices(opportunities, lambda o: o.title, blank="—")
        self.kind.choices = [(kind, KIND_LABELS[kind]) for kind in ACTION_KINDS]
        self.contact_id.choices = choices(contacts, blank="—")
        self.user_id.choices = choices(users)
        self.done.choices = list(DONE_CHOICES)

    def service_data(self) -> dict:
        return {name: self[name].data for name in self.SERVICE_FIELDS}


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EmailForm(FlaskForm):
    """An e-mail to some of the account's contacts; it is queued and logged as an action."""

    to = MultiCheckboxField(_l("To"), validate_choice=False)
    subject = StringField(_l("Subject"), render_kw={"maxlength": MAX_SUBJECT})
    body = TextAreaField(_l("Message"), render_kw={"rows": 12, "maxlength": MAX_DESCRIPTION})
    opportunity_id = HiddenField()

    def service_data(self) -> dict:
        return {"to": self.to.data or [], "subject": self.subject.data, "body": self.body.data}
