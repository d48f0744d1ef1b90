"""Who may use which route: the access matrix's expectations, one line per endpoint.

``tests/access/test_matrix.py`` asks every rule of the URL map and every operation of the
OpenAPI document, as an anonymous visitor and as each seeded role (and a user with no
role), about the records of ``tests/access/world.py`` (own, same team, other team), and
compares the answer with what this table says. A route that is not in the table fails
the test: adding a route means deciding, here, who may use it.

How to read (and add) a line::

    "crm.account": Expect("crm.read"),          # GET /crm/accounts/<account_id>

* ``access``: ``PUBLIC`` (anyone), ``LOGIN`` (any signed-in user), ``ADMIN`` (admins only)
  or a permission string. Anonymous visitors are sent to the login page (the API: 401),
  signed-in users without it get 403.
* Record ids in the URL are recognised by name (``account_id``, ``quote_id``... see
  ``ARG_KINDS``); query-string or body ids are given with ``Ref("account")``. A record
  outside the user's scope is a 404; how each kind is shared is ``SHARING``.
* ``ok``: what an allowed GET answers (default ``OK``, a 2xx). A write (POST, PATCH,
  DELETE) sends ``body`` (default: nothing but the CSRF token) and, when allowed, gets
  ``write_ok`` (default ``ALLOWED``: not refused, i.e. a 2xx, a redirect other than to the
  login page, or a 400/409/422 about the input). Refused writes change nothing; allowed
  ones run after every read (test_allowed_writes).
* ``destroys``: an allowed write removes or unlinks something other cells need, or ends
  sessions (sign-out, password change): its allowed cells run in a fresh world each
  (test_matrix_destructive.py), one per actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PUBLIC, LOGIN, ADMIN = "public", "login", "admin"

# Outcomes, as test_matrix.classify() names a response.
OK, REDIRECT, LOGIN_PAGE = "ok", "redirect", "login page"
UNAUTHORIZED, FORBIDDEN, NOT_FOUND, BAD = "401", "403", "404", "bad input"
ALLOWED = "allowed"  # not refused: OK, REDIRECT or BAD (400, 409, 422)


@dataclass(frozen=True)
class Ref:
    """The id of the case's record of this kind (own, team or other), in a query or body."""

    kind: str


@dataclass(frozen=True)
class Expect:
    access: str
    ok: str = OK  # what an allowed GET answers
    write_ok: str = ALLOWED  # what an allowed POST, PATCH or DELETE answers
    args: Mapping[str, str] = field(default_factory=dict)  # URL arguments that are not ids
    query: Mapping[str, object] = field(default_factory=dict)
    body: Mapping[str, object] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)  # URL argument -> record kind
    destroys: bool = False
    anonymous: str | None = None  # what an anonymous visitor gets, when not refused
    why: str = ""  # for the lines that need a word


# The seeded roles' permissions, as the matrix expects them (admins hold every one).
# test_matrix checks that the modules' defaults still say this: a permission that changes
# role must be looked at here too.
ROLE_PERMISSIONS = {
    "sales_manager": {"crm.read", "crm.write", "crm.manage", "sales.read", "sales.write",
                      "sales.catalog.write", "finance.read", "service.read", "notes.read",
                      "notes.write"},
    "sales_rep": {"crm.read", "crm.write", "sales.read", "sales.write", "notes.read",
                  "notes.write"},
    "finance": {"crm.read", "sales.read", "sales.write", "finance.read", "finance.write",
                "service.read"},
    "service": {"crm.read", "service.read", "service.write"},
    "nobody": set(),
}

# Record scope of each actor: own records, the team's, or all.
SCOPES = {"admin": "all", "sales_manager": "team", "sales_rep": "own", "finance": "all",
          "service": "all", "nobody": "own"}

# How each kind of record is shared: by record scope (of the record's, or its account's,
# owner), only with the user it belongs to, with that user and admins, or with everyone
# who may use the route (no owner).
SHARING = {
    **dict.fromkeys(("account", "contact", "opportunity", "action", "quote", "sales_order",
                     "sales_invoice", "receivable", "payment", "service_order",
                     "service_invoice"),
                    "scope"),
    "draft": "user", "api_token": "user", "import_job": "user or admin",
    **dict.fromkeys(("product", "stage", "loss_reason", "tag", "outbox_message"), "none"),
}

# URL arguments that name a record, by name; "<blueprint>.<argument>" where a name is
# used by two modules for different records.
ARG_KINDS = {
    "account_id": "account", "contact_id": "contact", "opportunity_id": "opportunity",
    "action_id": "action", "draft_id": "draft", "quote_id": "quote",
    "order_id": "sales_order", "invoice_id": "sales_invoice", "product_id": "product",
    "receivable_id": "receivable", "job_id": "import_job", "token_id": "api_token",
    "message_id": "outbox_message", "stage_id": "stage", "reason_id": "loss_reason",
    "tag_id": "tag",
    "service.order_id": "service_order", "service.invoice_id": "service_invoice",
    "finance.origin_id": "sales_invoice",
    "payment_id": "payment", "service_order_id": "service_order",
    "service_invoice_id": "service_invoice",
}

ACCOUNT = {"account_id": Ref("account")}
IMPORTER = "crm.write"  # every importer (accounts, contacts, opportunities) needs it

EXPECTATIONS: dict[str, Expect | dict[str, Expect]] = {
    # --- the host -------------------------------------------------------------------------
    "home": Expect(LOGIN),
    "search": Expect(LOGIN, query={"q": "Conta"}),
    "favicon": Expect(PUBLIC, anonymous=OK, why="the browser asks for it on every page"),
    "reports.index": Expect(LOGIN),
    "auth.login": {
        "GET": Expect(PUBLIC, ok=REDIRECT, anonymous=OK, why="signed in: to the home page"),
        "POST": Expect(PUBLIC, write_ok=REDIRECT, anonymous=BAD, why="an empty form"),
    },
    "auth.logout": Expect(PUBLIC, write_ok=LOGIN_PAGE, anonymous=LOGIN_PAGE, destroys=True),
    "auth.preferences": Expect(LOGIN),
    "auth.sign_out_others": Expect(LOGIN, write_ok=REDIRECT, destroys=True),
    "api_tokens.index": Expect(LOGIN),
    "api_tokens.revoke": Expect(LOGIN),
    "calendar.settings": Expect(LOGIN),
    "calendar.create": Expect(LOGIN, why="the user's own feed, made or replaced"),
    "calendar.revoke": Expect(LOGIN, write_ok=REDIRECT),
    "calendar.feed": Expect(PUBLIC, ok=NOT_FOUND, anonymous=NOT_FOUND, args={"token": "0" * 43},
                            why="no login, the token is the key: an unknown one is a 404"),
    "api-docs.openapi_json": Expect(PUBLIC),
    "imports.index": Expect(IMPORTER),
    "imports.new": Expect(IMPORTER),
    "imports.job": Expect(IMPORTER),
    "imports.mapping": Expect(IMPORTER, why="the world's jobs were rejected: can run again"),
    "imports.preview": Expect(IMPORTER),
    "imports.progress": Expect(IMPORTER),
    "imports.rejected": Expect(IMPORTER),
    "imports.undo": Expect(IMPORTER),
    "imports_api.upload": Expect(IMPORTER),
    "imports_api.job": Expect(IMPORTER),
    "imports_api.rejected": Expect(IMPORTER),
    "imports_api.undo": Expect(IMPORTER),
    # --- CRM pages --------------------------------------------------------------------------
    "crm.index": Expect("crm.read", ok=REDIRECT),
    "crm.accounts": Expect("crm.read"),
    "crm.account": Expect("crm.read"),
    "crm.account_tab": Expect("crm.read", args={"key": "contacts"}),
    "crm.account_tab_count": Expect("crm.read", args={"key": "contacts"}),
    "crm.new_account": Expect("crm.write"),
    "crm.edit_account": Expect("crm.write"),
    "crm.archive_account": Expect("crm.write"),
    "crm.link_contact": Expect("crm.write", body={"contact_id": Ref("contact"),
                                                  "role": "Compras"}),
    "crm.unlink_contact": Expect("crm.write", destroys=True),
    "crm.contacts": Expect("crm.read"),
    "crm.contact": Expect("crm.read"),
    "crm.new_contact": Expect("crm.write", query=ACCOUNT),
    "crm.edit_contact": Expect("crm.write"),
    "crm.new_action": {"GET": Expect("crm.write", query=ACCOUNT),
                       "POST": Expect("crm.write", body=ACCOUNT)},
    "crm.complete_action": Expect("crm.write"),
    "crm.agenda": Expect("crm.read"),
    "crm.agenda_section": Expect("crm.read", args={"section": "overdue"}),
    "crm.email_account": Expect("crm.write"),
    "crm.drafts": Expect("crm.write"),
    "crm.autosave_draft": Expect("crm.write"),
    "crm.open_draft": Expect("crm.write", ok=REDIRECT, why="to the form it drafts"),
    "crm.delete_draft": Expect("crm.write", destroys=True),
    "crm.funnel": Expect("crm.read"),
    "crm.lookup": Expect("crm.write", ok=BAD, why="no CNPJ given: nothing is looked up"),
    "crm.opportunities": Expect("crm.read"),
    "crm.bulk_opportunities": Expect("crm.write"),
    "crm.new_opportunity": Expect("crm.write", query=ACCOUNT),
    "crm.opportunity": Expect("crm.read"),
    "crm.edit_opportunity": Expect("crm.write"),
    "crm.opportunity_status": Expect("crm.write"),
    "crm.opportunity_stage": Expect("crm.write"),
    "crm.archive_opportunity": Expect("crm.write"),
    "crm.delete_opportunity": Expect("crm.write", why="without confirmed=1: the question"),
    "crm.find_duplicates": Expect("crm.manage", args={"record_kind": "account"}),
    "crm.dismiss_duplicate": Expect("crm.manage", args={"record_kind": "account"},
                                    ok=REDIRECT, why="no pair named: back to the list "
                                                     "(a POST: 400)"),
    "crm.merge_accounts": Expect("crm.manage", query={"a": Ref("account")},
                                 why="one record named: the page to choose the other"),
    "crm.merge_contacts": Expect("crm.manage", query={"a": Ref("contact")},
                                 why="one record named: the page to choose the other"),
    "crm.merge_log": Expect("crm.manage"),
    "crm.undo_merge": Expect("crm.manage", args={"merge_id": "999999"}, write_ok=NOT_FOUND,
                             why="the world has no merge: an unknown one is not found"),
    "crm.settings": Expect("crm.manage", ok=REDIRECT, why="to its first page, the stages"),
    "crm.settings_stages": Expect("crm.manage"),
    "crm.settings_edit_stage": Expect("crm.manage"),
    "crm.settings_delete_stage": Expect("crm.manage", destroys=True),
    "crm.settings_loss_reasons": Expect("crm.manage"),
    "crm.settings_edit_loss_reason": Expect("crm.manage"),
    "crm.settings_archive_loss_reason": Expect("crm.manage"),
    "crm.settings_delete_loss_reason": Expect("crm.manage", destroys=True),
    "crm.settings_tags": Expect("crm.manage"),
    "crm.settings_edit_tag": Expect("crm.manage"),
    "crm.settings_delete_tag": Expect("crm.manage", destroys=True),
    "crm_reports.actions": Expect("crm.read"),
    "crm_reports.actions_list": Expect("crm.read"),
    "crm_reports.funnel": Expect("crm.read"),
    "crm_reports.losses": Expect("crm.read"),
    # --- CRM API ----------------------------------------------------------------------------
    "crm-accounts.list_accounts": Expect("crm.read"),
    "crm-accounts.create_account": Expect("crm.write"),
    "crm-accounts.get_account": Expect("crm.read"),
    "crm-accounts.update_account": Expect("crm.write"),
    "crm-accounts.archive_account": Expect("crm.write"),
    "crm-accounts.unarchive_account": Expect("crm.write"),
    "crm-accounts.list_account_contacts": Expect("crm.read"),
    "crm-accounts.link_contact": Expect("crm.write", body={"contact_id": Ref("contact")}),
    "crm-accounts.get_account_contact": Expect("crm.read"),
    "crm-accounts.update_account_contact": Expect("crm.write", body={"role": "Compras"}),
    "crm-accounts.unlink_contact": Expect("crm.write", destroys=True),
    "crm-actions.list_actions": Expect("crm.read"),
    "crm-actions.create_action": Expect("crm.write"),
    "crm-actions.get_action": Expect("crm.read"),
    "crm-actions.update_action": Expect("crm.write"),
    "crm-actions.complete_action": Expect("crm.write"),
    "crm-actions.archive_action": Expect("crm.write"),
    "crm-actions.unarchive_action": Expect("crm.write"),
    "crm-contacts.list_contacts": Expect("crm.read"),
    "crm-contacts.create_contact": Expect("crm.write"),
    "crm-contacts.get_contact": Expect("crm.read"),
    "crm-contacts.update_contact": Expect("crm.write"),
    "crm-contacts.archive_contact": Expect("crm.write"),
    "crm-contacts.unarchive_contact": Expect("crm.write"),
    "crm-opportunities.list_opportunities": Expect("crm.read"),
    "crm-opportunities.create_opportunity": Expect("crm.write"),
    "crm-opportunities.get_opportunity": Expect("crm.read"),
    "crm-opportunities.update_opportunity": Expect("crm.write"),
    "crm-opportunities.archive_opportunity": Expect("crm.write"),
    "crm-opportunities.unarchive_opportunity": Expect("crm.write"),
    "crm-opportunities.win_opportunity": Expect("crm.write"),
    "crm-opportunities.lose_opportunity": Expect("crm.write",
                                                 body={"loss_reason_id": Ref("loss_reason")}),
    "crm-opportunities.reopen_opportunity": Expect("crm.write"),
    "crm-opportunities.move_opportunity": Expect("crm.write", body={"stage_id": Ref("stage")}),
    "crm-duplicates.scan_accounts": Expect("crm.manage"),
    "crm-duplicates.scan_contacts": Expect("crm.manage"),
    "crm-duplicates.dismiss_accounts": Expect(
        "crm.manage", body={"first_id": Ref("account"), "second_id": Ref("account")},
        why="the same record twice: 422 once both are found in scope"),
    "crm-duplicates.dismiss_contacts": Expect(
        "crm.manage", body={"first_id": Ref("contact"), "second_id": Ref("contact")},
        why="the same record twice: 422 once both are found in scope"),
    **{f"crm-merge.{name}": Expect(
        "crm.manage", body={"survivor_id": Ref(kind), "merged_id": Ref(kind)},
        why="the same record twice: refused once both are found in scope")
       for name, kind in (("preview_account_merge", "account"), ("merge_accounts", "account"),
                          ("preview_contact_merge", "contact"), ("merge_contacts", "contact"))},
    "crm-merge.undo_merge": Expect("crm.manage", body={"merge_id": 999999}, write_ok=NOT_FOUND,
                                   why="the world has no merge: an unknown one is not found"),
    "crm-cnpj.cnpj_lookup": Expect("crm.write", ok=BAD, why="no CNPJ given: nothing is looked up"),
    "crm-settings.list_stages": Expect("crm.read"),
    "crm-settings.list_loss_reasons": Expect("crm.read"),
    "crm-settings.list_service_types": Expect("crm.read"),
    "crm-settings.list_tags": Expect("crm.read"),
    "crm-settings.list_categories": Expect("crm.read"),
    # --- sales ------------------------------------------------------------------------------
    "sales.index": Expect("sales.read", ok=REDIRECT),
    "sales.products": Expect("sales.read"),
    "sales.pick_products": Expect("sales.read", why="the line pickers' catalog search (JSON)"),
    "sales.product_form": Expect("sales.catalog.write", why="the shared catalog: managers"),
    "sales.quotes": Expect("sales.read"),
    "sales.new_quote": Expect("sales.write", query=ACCOUNT),
    "sales.quote": Expect("sales.read"),
    "sales.edit_quote": Expect("sales.write"),
    "sales.print_quote": Expect("sales.read"),
    "sales.send_quote": Expect("sales.write"),
    "sales.accept_quote": Expect("sales.write"),
    "sales.refuse_quote": Expect("sales.write"),
    "sales.orders": Expect("sales.read"),
    "sales.new_order": Expect("sales.write", query=ACCOUNT),
    "sales.order": Expect("sales.read"),
    "sales.deliver_order": Expect("sales.write"),
    "sales.cancel_order": Expect("sales.write"),
    "sales.invoice_order": Expect("sales.write"),
    "sales.invoices": Expect("sales.read"),
    "sales.new_invoice": Expect("sales.write", query=ACCOUNT),
    "sales.invoice": Expect("sales.read"),
    "sales.cancel_invoice": Expect("sales.write"),
    # --- sales API (issue 18) ------------------------------------------------------------
    "sales-products.list_products": Expect("sales.read"),
    "sales-products.create_product": Expect("sales.catalog.write"),
    "sales-products.get_product": Expect("sales.read"),
    "sales-products.update_product": Expect("sales.catalog.write"),
    "sales-quotes.list_quotes": Expect("sales.read"),
    "sales-quotes.create_quote": Expect("sales.write"),
    "sales-quotes.get_quote": Expect("sales.read"),
    "sales-quotes.update_quote": Expect("sales.write"),
    "sales-quotes.send_quote": Expect("sales.write"),
    "sales-quotes.accept_quote": Expect("sales.write"),
    "sales-quotes.refuse_quote": Expect("sales.write"),
    "sales-orders.list_orders": Expect("sales.read"),
    "sales-orders.create_order": Expect("sales.write"),
    "sales-orders.get_order": Expect("sales.read"),
    "sales-orders.deliver_order": Expect("sales.write"),
    "sales-orders.cancel_order": Expect("sales.write"),
    "sales-orders.invoice_order": Expect("sales.write", body={"first_due_date": "2099-12-31"},
                                         why="a valid body: the record's scope is then "
                                             "what answers"),
    "sales-invoices.list_invoices": Expect("sales.read"),
    "sales-invoices.get_invoice": Expect("sales.read"),
    "sales-invoices.cancel_invoice": Expect("sales.write"),
    # --- finance ----------------------------------------------------------------------------
    "finance.index": Expect("finance.read"),
    "finance.aging": Expect("finance.read", ok=REDIRECT, why="to the aging report"),
    "finance.receivable": Expect("finance.read"),
    "finance.receivable_of": Expect("finance.read", ok=REDIRECT,
                                    args={"origin": "sales.invoice", "installment": "1"},
                                    why="to the receivable of the invoice's installment"),
    "finance.record_payment": Expect("finance.write"),
    "finance.cancel": Expect("finance.write"),
    "finance.new_receivable": Expect("finance.write", query=ACCOUNT),
    "finance_reports.aging": Expect("finance.read"),
    "finance-receivables.list_receivables": Expect("finance.read"),
    "finance-receivables.create_receivables": Expect("finance.write"),
    "finance-receivables.get_receivable": Expect("finance.read"),
    "finance-receivables.cancel_receivable": Expect("finance.write"),
    "finance-payments.list_payments": Expect("finance.read"),
    "finance-payments.record_payment": Expect("finance.write"),
    "finance-payments.get_payment": Expect("finance.read"),
    "finance-aging.aging_report": Expect("finance.read"),
    # --- service ----------------------------------------------------------------------------
    "service.index": Expect("service.read"),
    "service.new_order": Expect("service.write", query=ACCOUNT),
    "service.order": Expect("service.read"),
    "service.edit_order": Expect("service.write"),
    "service.set_status": Expect("service.write"),
    "service.issue_invoice": Expect("service.write"),
    "service.invoices": Expect("service.read"),
    "service.invoice": Expect("service.read"),
    "service.cancel_invoice": Expect("service.write"),
    "service-orders.list_service_orders": Expect("service.read"),
    "service-orders.create_service_order": Expect("service.write"),
    "service-orders.get_service_order": Expect("service.read"),
    "service-orders.update_service_order": Expect("service.write"),
    "service-orders.move_service_order": Expect("service.write",
                                                body={"status": "in_progress"}),
    "service-orders.invoice_service_order": Expect("service.write"),
    "service-invoices.list_service_invoices": Expect("service.read"),
    "service-invoices.get_service_invoice": Expect("service.read"),
    "service-invoices.cancel_service_invoice": Expect("service.write"),
    # --- notes (the example module the suite loads) -----------------------------------------
    "notes.new_note": Expect("notes.write", query=ACCOUNT),
    "notes_api.list_notes": Expect("notes.read"),
    "notes_api.create_note": Expect("notes.write", body={"account_id": Ref("account"),
                                                         "body": "Nota"}),
}

# Families of endpoints with one rule (see matrix.expectation_for):
# * every view of the admin interface (Flask-Admin, erp/admin.py): admins only (any new
#   admin view is asked too: a view that forgot SecureModelView fails);
# * every static files endpoint ("static", "<blueprint>.static"): public.
ADMIN_VIEWS = Expect(ADMIN, ok=ALLOWED, args={"export_type": "csv"},
                     why="admin pages: lists, forms, or back to the list")
ADMIN_INDEX_VIEWS = Expect(ADMIN)  # "<view>.index_view", "admin.index": the page itself
ADMIN_AJAX = Expect(ADMIN, ok=NOT_FOUND, write_ok=NOT_FOUND,  # "<view>.ajax_lookup/update"
                    why="no admin form uses ajax fields: 404 for admins, 403 for the others")
STATIC_FILES = Expect(PUBLIC)
