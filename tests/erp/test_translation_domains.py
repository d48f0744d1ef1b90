"""Per-module translation domains (issue 16): a module's strings, in its Python code and in its
templates, come from its own catalog first, then the host's — never from another module's.
Sales' "Order" is "Pedido" and service's "OS" in the same app."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import render_template, render_template_string
from flask_babel import force_locale

import erp.i18n
from erp.auth.models import User
from erp.clock import local_today
from erp.db import db
from tests.conftest import login_as
from tests.erp.modfactory import modules_folder, unique


def _speaks_portuguese(app, user_id: int) -> None:
    with app.app_context():
        db.session.get(User, user_id).locale = "pt_BR"
        db.session.commit()
        db.session.remove()


def _sales_and_service_records(app, users, account_id: int) -> tuple[int, int, int, int]:
    """A sales order, another with its invoice, and a service order, on the account."""
    from modules.crm.models import Account
    from modules.sales import services as sales
    from modules.service import services as service

    with app.app_context():
        admin = db.session.get(User, users["admin"])
        account = db.session.get(Account, account_id)
        lines = {"lines": [{"description": "Consultoria", "quantity": "1",
                            "unit_price": "100,00", "discount": ""}]}
        order = sales.create_order(account, lines, user=admin)
        invoiced = sales.create_order(account, lines, user=admin)
        invoice = sales.issue_invoice(invoiced, {
            "installments": "1",
            "first_due_date": (local_today() + timedelta(days=10)).isoformat()}, user=admin)
        job = service.create_order(account, {
            "description": "Instalar o servidor", "technician_id": users["service"],
            "items": [{"description": "Cabo", "quantity": "2", "unit_price": "50,00"}]},
            user=admin)
        ids = order.id, invoiced.id, invoice.id, job.id
        db.session.remove()
    return ids


def test_order_is_pedido_in_sales_and_os_only_in_service(app, client, users, make_account):
    account = make_account("admin", legal_name="Cliente Domínios Ltda.")
    order_id, invoiced_id, invoice_id, job_id = _sales_and_service_records(app, users, account)
    _speaks_portuguese(app, users["admin"])
    login_as(client, users["admin"])

    # The account page's Create menu: each entry in its own module's words.
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    entries = dict(re.findall(r'data-create="([^"]+)">([^<]*)<', page))
    assert entries["sales.new_order"] == "Pedido"
    assert entries["service.new_order"] == "Ordem de serviço"
    assert "OS" not in entries.values()
    # The tabs of sales and service, rendered inside CRM's page.
    sales_tab = client.get(f"/crm/accounts/{account}/tabs/sales").get_data(as_text=True)
    assert ">Pedidos</h3>" in sales_tab and "OS" not in sales_tab

    # An order's page: "Cancelar pedido", not service's "Cancelar OS".
    order_page = client.get(f"/sales/orders/{order_id}").get_data(as_text=True)
    assert "Cancelar pedido" in order_page and "Cancelar OS" not in order_page
    # An invoice names the order it came from: "Pedido PV ...".
    invoice_page = client.get(f"/sales/invoices/{invoice_id}").get_data(as_text=True)
    assert f'· Pedido <a href="/sales/orders/{invoiced_id}">PV ' in invoice_page
    assert "OS PV" not in invoice_page

    # Service keeps its own: "Cancelar OS" on a service order.
    job_page = client.get(f"/service/orders/{job_id}").get_data(as_text=True)
    assert "Cancelar OS" in job_page and "Cancelar pedido" not in job_page
    # CRM's stage settings: the column is the stage's "Ordem" (CRM's word).
    with app.app_context():
        from modules.crm.services.settings import ensure_defaults

        ensure_defaults()
        db.session.remove()
    stages = client.get("/crm/settings/stages").get_data(as_text=True)
    header = stages[stages.index('id="stages-table"'):]
    header = header[:header.index("</thead>")]
    assert ">Ordem</th>" in header and "OS" not in header and "Pedido" not in header

    # Python strings too: the lazy labels each module registered.
    with app.test_request_context(), force_locale("pt_BR"):
        from modules.sales.labels import INVOICE_FIELDS
        from modules.service.labels import ACTION_LABELS

        assert str(INVOICE_FIELDS["order_id"]) == "Pedido"
        assert str(ACTION_LABELS["cancelled"]) == "Cancelar OS"


# A module of its own (written to a temporary folder) that says "Done" differently from CRM
# and leaves "Search" to the host's catalog.
MODULE = '''
from flask import Blueprint

from erp.i18n import module_i18n
from erp.modules import Manifest
from erp.registry import WebBlueprint

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext
ngettext = module_i18n(__name__).ngettext

manifest = Manifest(name={name!r}, version="1.0.0", summary="Translation domain test")
bp = Blueprint({name!r}, __name__, template_folder="templates")
LABEL = _l("Done")


def words():
    return [_("Done"), _("Search"), _("Not translated anywhere"), str(LABEL),
            ngettext("%(num)d task", "%(num)d tasks", 2), _("Order")]


def register(registry):
    registry.add(WebBlueprint(bp))
'''

TEMPLATE = """\
{{ _('Done') }}|{{ _('Search') }}|{% trans %}Done{% endtrans %}|\
{{ gettext('Not translated anywhere') }}|\
{% trans count=3 %}{{ count }} task{% pluralize %}{{ count }} tasks{% endtrans %}|\
{{ ngettext('%(num)d task', '%(num)d tasks', 1) }}|{{ _('Order') }}"""


def _write_module(folder, name: str) -> None:
    package = folder / name
    (package / "templates" / name).mkdir(parents=True)
    (package / "__init__.py").write_text(MODULE.format(name=name))
    (package / "templates" / name / "words.html").write_text(TEMPLATE)
    catalog = Catalog(locale="pt_BR", domain="messages")
    catalog.add("Done", "Concluído")
    catalog.add(("%(num)d task", "%(num)d tasks"),  # Babel's pt-BR has three plural forms
                ("%(num)d tarefa", "%(num)d tarefas", "%(num)d tarefas"))
    catalog.add(("%(count)s task", "%(count)s tasks"),  # the {% trans count %} block's
                ("%(count)s tarefa", "%(count)s tarefas", "%(count)s tarefas"))
    mo = package / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    with open(mo, "wb") as fh:
        write_mo(fh, catalog)


def test_a_modules_strings_use_its_catalog_then_the_hosts(tmp_path, make_app):
    folder = modules_folder(tmp_path)
    name = unique("words")
    _write_module(folder, name)
    app = make_app(ERP_MODULE_DIRS=[str(folder)],
                   ERP_MODULES=["crm", "sales", "service", name])
    package = app.extensions["erp_available_modules"][name].package
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        # Its own "Done" (CRM's is "Concluída"), the host's "Search", English otherwise:
        # "Order", which CRM, sales and service translate but neither it nor the host does.
        assert package.words() == ["Concluído", "Pesquisar", "Not translated anywhere",
                                   "Concluído", "2 tarefas", "Order"]
        assert render_template(f"{name}/words.html") == (
            "Concluído|Pesquisar|Concluído|Not translated anywhere|3 tarefas|1 tarefa|Order")
        # CRM keeps its own word, and the host's templates the host's catalog.
        from modules.crm.labels import ACTION_STATUS_LABELS

        assert "Concluída" in [str(label) for label in ACTION_STATUS_LABELS.values()]
        assert render_template_string("{{ _('Search') }}|{{ _('Done') }}") == "Pesquisar|Done"
        # The host's "Close" (a dialog's button) was CRM's "Fechamento" (a date) while all
        # catalogs were merged.
        assert render_template_string("{{ _('Close') }}") == "Fechar"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert package.words()[:2] == ["Done", "Search"]


def test_a_module_template_included_by_another_keeps_its_domain(tmp_path, make_app):
    """An included template (as a module's tab inside CRM's account page) and an imported macro
    translate with the module they belong to, whoever includes them."""
    folder = modules_folder(tmp_path)
    name = unique("words")
    _write_module(folder, name)
    (folder / name / "templates" / name / "macro.html").write_text(
        "{% macro done() %}{{ _('Done') }}{% endmacro %}[{{ _('Done') }}]")
    app = make_app(ERP_MODULE_DIRS=[str(folder)], ERP_MODULES=["crm", name])
    host_page = (f'{{{{ _("Done") }}}}/{{% include "{name}/macro.html" %}}'
                 f'{{% from "{name}/macro.html" import done with context %}}{{{{ done() }}}}')
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert render_template_string(host_page) == "Done/[Concluído]Concluído"


def test_a_module_template_looks_its_catalogue_up_once_a_request(app, monkeypatch):
    """The module domains keep the catalogue they found for the request, as the host's
    translations() does (issue 15's request overhead)."""
    looked_up = []
    original = erp.i18n.Domain.get_translations

    def counting(self):
        looked_up.append(self)
        return original(self)

    monkeypatch.setattr(erp.i18n.Domain, "get_translations", counting)
    from modules.sales.labels import INVOICE_FIELDS

    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        for _round in range(3):
            assert str(INVOICE_FIELDS["order_id"]) == "Pedido"
        with force_locale("en"):
            assert str(INVOICE_FIELDS["order_id"]) == "Order"
        assert str(INVOICE_FIELDS["order_id"]) == "Pedido"
    sales = [domain for domain in looked_up if getattr(domain, "name", None) == "sales"]
    assert len(sales) == 3  # pt-BR once, English once, pt-BR again after force_locale


def test_template_calls_are_bound_only_in_module_templates(app):
    """Attribute calls named like gettext, and host templates, are left alone."""
    source = "{{ obj._('x') }}{{ _('Search') }}"
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):

        class Obj:
            def _(self, value):
                return value.upper()

        assert render_template_string(source, obj=Obj()) == "XPesquisar"


def test_module_i18n_needs_a_module(app):
    translator = erp.i18n.module_i18n("tests.erp.test_translation_domains")
    with app.test_request_context(), pytest.raises(RuntimeError, match="no module"):
        translator.gettext("Done")
