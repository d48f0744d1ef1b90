"""What people read for CRM's codes and fields: status badges, action kinds, and what the
audit trail's History calls fields and coded values (erp.audit.Audited). Templates reach
this module as ``crm_labels``."""

from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext
_lp = module_i18n(__name__).lazy_pgettext

ACTION_KIND_LABELS = {
    "call": _l("Call"), "email": _l("E-mail"), "meeting": _l("Meeting"), "visit": _l("Visit"),
    "task": _l("Task"), "note": _l("Note"), "proposal": _l("Proposal sent"),
}


# An action as the actions report sees it (reports/actions.py's status_of).
ACTION_STATUS_LABELS = {"done": _l("Done"), "planned": _l("Planned"), "overdue": _l("Overdue")}
ACTION_STATUS_TONES = {"done": "text-bg-success", "planned": "text-bg-info",
                       "overdue": "text-bg-danger"}

ACCOUNT_FIELDS = {
    "person_type": _l("Type"), "legal_name": _l("Legal name"),
    "trade_name": _l("Trade name (nome fantasia)"), "short_name": _l("Short name"),
    "tax_id": _l("CNPJ / CPF"), "state_registration": _l("State registration (IE)"),
    "category_id": _l("Category"), "owner_id": _l("Owner"), "lifecycle": _l("Lifecycle"),
    "priority": _l("Priority"), "phone": _l("Phone"), "mobile": _l("Mobile"),
    "email": _l("E-mail"), "website": _l("Website"), "cep": _l("CEP"), "street": _l("Street"),
    "number": _l("Number"), "complement": _l("Complement"), "district": _l("District"),
    "city": _l("City"), "state": _l("State"), "main_activity": _l("Main activity"),
    "registry_status": _l("Registry status"), "opened_on": _l("Opened on"),
    "notes": _l("Notes"), "archived": _l("Archived"), "tags": _l("Tags"),
    "external_ref": _l("External reference"),
    "merged_into_id": _l("Merged into"),  # the survivor of a merge (issue 18)
}
LIFECYCLE_LABELS = {"prospect": _l("Prospect"), "customer": _l("Customer")}
# A company's registration status at the Receita Federal (the CNPJ lookup's, issue 19):
# stored as the registry's code, in capitals; shown translated.
# (In context: a company's status is a feminine "situação" in Portuguese.)
REGISTRY_STATUS_LABELS = {
    "ATIVA": _lp("registry status", "Active"),
    "BAIXADA": _lp("registry status", "Closed (baixada)"),
    "INAPTA": _lp("registry status", "Unfit (inapta)"),
    "SUSPENSA": _lp("registry status", "Suspended"),
    "NULA": _lp("registry status", "Void (nula)"),
}
LIFECYCLE_TONES = {"prospect": "text-bg-info", "customer": "text-bg-success"}
ACCOUNT_CHOICES = {"lifecycle": LIFECYCLE_LABELS}

CONTACT_FIELDS = {
    "name": _l("Name"), "position": _l("Position"), "phone": _l("Phone"),
    "mobile": _l("Mobile"), "email": _l("E-mail"), "notes": _l("Notes"),
    "owner_id": _l("Owner"), "archived": _l("Archived"),
    "current_system": _l("Current system"),
    "merged_into_id": _l("Merged into"),  # the survivor of a merge (issue 18)
}

OPPORTUNITY_FIELDS = {
    "title": _l("Title"), "account_id": _l("Account"), "contact_id": _l("Contact person"),
    "stage_id": _l("Stage"), "owner_id": _l("Owner"), "status": _l("Status"),
    "loss_reason_id": _l("Loss reason"), "loss_note": _l("Loss note"),
    "priority": _l("Priority"), "subject_note": _l("Current subject"),
    "service_type_id": _l("Service type"),
    "contact_medium": _l("Contact medium"),
    "source_campaign": _l("Source campaign"), "expected_close_on": _l("Expected close"),
    "estimated_value": _l("Estimated value"), "next_contact_user_id": _l("Next contact by"),
    "next_contact_on": _l("Next contact on"), "internal_contact_user_id": _l("Internal contact"),
    "internal_contact_on": _l("Internal contact on"), "archived": _l("Archived"),
    "stage_entered_at": _l("In this stage since"), "closed_at": _l("Closed"),
    "tags": _l("Tags"), "watchers": _l("Watchers"), "external_ref": _l("External reference"),
}
OPPORTUNITY_STATUS_LABELS = {"open": _l("Open"), "won": _l("Won"), "lost": _l("Lost")}
# The status badge's colour (macros.html's status_badge): a Bootstrap text-bg-* class.
OPPORTUNITY_STATUS_TONES = {"open": "text-bg-primary", "won": "text-bg-success",
                            "lost": "text-bg-danger"}
# How the contact came in (models' CONTACT_MEDIA): the form's choices, the import's names.
CONTACT_MEDIUM_LABELS = {
    "event": _l("Event"), "ad": _l("Advertisement"), "social": _l("Social network"),
    "telemarketing": _l("Telemarketing"), "website": _l("Website"),
    "referral": _l("Referral"), "email": _l("E-mail"), "phone": _l("Phone"),
    "other": _l("Other")}
# (The kinds of attendance, seed 002's "Tipo de atendimento", are the company's own list
# with its own names: models/service_type.py, crm 0020.)
OPPORTUNITY_CHOICES = {
    "status": OPPORTUNITY_STATUS_LABELS,
    "contact_medium": CONTACT_MEDIUM_LABELS,
}
