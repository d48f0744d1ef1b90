"""The opportunity form: it collects; services/opportunities.py decides."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from erp.forms import BLANK_CHOICE, choices
from erp.i18n import module_i18n

from ..labels import CONTACT_MEDIUM_LABELS
from ..models import CONTACT_MEDIA
from ..services.external_refs import EXTERNAL_REF_MAX
from .accounts import EXTERNAL_REF_HELP

_l = module_i18n(__name__).lazy_gettext


class ItemForm(Form):
    """One line: product or service, quantity, unit price (pt-BR numbers accepted)."""

    description = StringField(_l("Product or service"))
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})


class OpportunityForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"placeholder": _l("e.g. ERP + NFS-e")})
    account_id = HiddenField()
    contact_id = SelectField(_l("Contact person"), validate_choice=False)
    stage_id = SelectField(_l("Stage"), validate_choice=False)
    owner_id = SelectField(_l("Owner"), validate_choice=False)
    priority = BooleanField(_l("Priority"))
    subject_note = TextAreaField(_l("Current subject"), render_kw={"rows": 2},
                                 description=_l("Where things stand: pending issues, warnings."))
    service_type_id = SelectField(_l("Service type"), validate_choice=False)
    contact_medium = SelectField(_l("Contact medium"), validate_choice=False)
    source_campaign = StringField(_l("Source campaign"))
    expected_close_on = StringField(_l("Expected close"), render_kw={"type": "date"})
    next_contact_user_id = SelectField(_l("Next contact by"), validate_choice=False)
    next_contact_on = StringField(_l("Next contact on"), render_kw={"type": "date"})
    internal_contact_user_id = SelectField(_l("Internal contact"), validate_choice=False,
                                           description=_l("e.g. a supervisor who follows it"))
    internal_contact_on = StringField(_l("Internal contact on"), render_kw={"type": "date"})
    tag_ids = SelectMultipleField(_l("Tags"), validate_choice=False)
    watcher_ids = SelectMultipleField(
        _l("Watchers"), validate_choice=False,
        description=_l("They get an e-mail for every change until it is closed."))
    external_ref = StringField(_l("External reference"), description=EXTERNAL_REF_HELP,
                               render_kw={"maxlength": EXTERNAL_REF_MAX, "autocomplete": "off"})
    items = FieldList(FormField(ItemForm), min_entries=3)
    version = HiddenField()
    draft_id = HiddenField()

    SERVICE_FIELDS = ("title", "account_id", "contact_id", "stage_id", "owner_id", "priority",
                      "subject_note", "service_type_id",
                      "contact_medium", "source_campaign",
                      "expected_close_on", "next_contact_user_id", "next_contact_on",
                      "internal_contact_user_id", "internal_contact_on", "tag_ids",
                      "watcher_ids", "external_ref")

    def set_choices(self, *, contacts, stages, users, tags, service_types=()) -> None:
        self.contact_id.choices = choices(contacts, blank="—")
        self.stage_id.choices = choices(stages)
        people = choices(users)
        self.owner_id.choices = people
        self.next_contact_user_id.choices = [BLANK_CHOICE, *people]
        self.internal_contact_user_id.choices = [BLANK_CHOICE, *people]
        self.watcher_ids.choices = people
        self.tag_ids.choices = choices(tags)
        self.contact_medium.choices = [BLANK_CHOICE] + [(m, CONTACT_MEDIUM_LABELS[m])
                                                        for m in CONTACT_MEDIA]
        # The company's list (active ones, and the edited opportunity's own).
        self.service_type_id.choices = choices(
            service_types, lambda t: t.name if t.active else _l("%(name)s (inactive)",
                                                                  name=t.name), blank="—")

    def service_data(self) -> dict:
        data = {name: self[name].data for name in self.SERVICE_FIELDS}
        data["items"] = [entry.data for entry in self.items]
        return data
