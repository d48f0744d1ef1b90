"""The admin in the user's language (issue 17): Flask-Admin's own chrome, every column's
label, and values formatted as in the rest of the app (dates in the user's time zone, money,
Yes/No, status labels), through the formatters every admin view shares
(erp/admin_format.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import update

from erp import mail
from erp.admin import SecureModelView
from erp.auth.models import User
from erp.db import db
from tests.conftest import login_as

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# 13:10 UTC is 10:10 in São Paulo (the users' default zone), 08:10 in New York.
QUEUED_AT = datetime(2026, 11, 29, 13, 10, 5, 643004, tzinfo=UTC)


def _table(html: str) -> str:
    """The page's list (its header and rows): Flask-Admin's model list, or the outbox's."""
    marker = re.search(r'<table[^>]*(model-list|id="outbox")', html)
    assert marker, "no list on the page"
    start = marker.start()
    return html[start:html.index("</table>", start)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def records(app, users, make_account):
    """An e-mail in the outbox, a won opportunity of R$ 720,00, a receivable of R$ 720,00
    due on 10/12/2026, and the installed modules recorded."""
    from modules.crm.models import Opportunity, Stage
    from modules.crm.services.opportunities import create_opportunity
    from modules.crm.services.settings import ensure_defaults
    from modules.finance.services import create_receivables

    account_id = make_account(legal_name="Conta Admin Ltda.")
    with app.app_context():
        ensure_defaults()
        rep = db.session.get(User, users["rep_a"])
        stage = db.session.scalars(db.select(Stage).order_by(Stage.sequence)).first()
        opportunity = create_opportunity({"account_id": account_id, "title": "Venda admin",
                                          "stage_id": stage.id}, user=rep)
        db.session.commit()
        db.session.execute(update(Opportunity).where(Opportunity.id == opportunity.id)
                           .values(status="won", estimated_value=Decimal("720.00")))
        from modules.crm.models import Account

        create_receivables(db.session.get(Account, account_id),
                           {"document": "Contrato admin", "due_date": date(2026, 12, 10),
                            "amount": "720,00"},
                           user=db.session.get(User, users["finance"]), today=date(2026, 11, 29))
        message = mail.queue_mail("cliente@example.com", "Proposta PR 000042", "Segue.")
        message.created_at = QUEUED_AT
        db.session.commit()
        from erp.setup import record_modules

        record_modules()  # the admin home's list of installed modules
        db.session.remove()


def _as(app, client, users, locale: str, timezone: str | None = None):
    with app.app_context():
        admin = db.session.get(User, users["admin"])
        admin.locale, admin.timezone = locale, timezone
        db.session.commit()
    login_as(client, users["admin"])


def test_the_admin_lists_in_portuguese_with_formatted_values(app, client, users, records):
    _as(app, client, users, "pt_BR")

    outbox = _text(_table(client.get("/admin/outbox/").get_data(as_text=True)))
    for header in ("Criação", "Situação", "Tentativas", "Destinatários", "Assunto"):
        assert header in outbox
    assert "29/11/2026 10:10" in outbox
    assert not ISO_DATE.search(outbox) and " queued " not in outbox

    html = client.get("/admin/user/").get_data(as_text=True)
    assert "Listar" in html and "Criar" in html  # Flask-Admin's own chrome, in pt-BR
    users_table = _text(_table(html))
    for header in ("Usuário", "Nome", "Equipe", "Papéis", "Ativo", "Idioma"):
        assert header in users_table
    assert " Sim " in users_table and "Português (Brasil)" in users_table
    assert "fa-check-circle" not in _table(html)  # Yes/No in words, not an icon

    opportunities = _text(_table(client.get("/admin/crm_opportunity/").get_data(as_text=True)))
    for header in ("Situação", "Valor estimado", "Responsável", "Criação", "Atualizado em"):
        assert header in opportunities
    for english in ("Status", "Estimated Value", "Created At", "Updated At"):
        assert english not in opportunities
    assert "Ganha" in opportunities and " won " not in opportunities
    assert "R$ 720,00" in opportunities and "720.00" not in opportunities
    assert not ISO_DATE.search(opportunities)

    receivables = _text(_table(client.get("/admin/finance_receivable/")
                               .get_data(as_text=True)))
    for header in ("Documento", "Vencimento", "Valor", "Cancelada"):
        assert header in receivables
    assert "10/12/2026" in receivables and "R$ 720,00" in receivables
    assert "Lançamento manual" in receivables  # the origin's label, not "manual"
    assert not ISO_DATE.search(receivables) and "720.00" not in receivables

    # The audit trail shows the receivable's amount as money too (erp.audit.history).
    audit = _text(_table(client.get("/admin/audit/").get_data(as_text=True)))
    assert "Valor : — → R$ 720,00" in audit and "720.00" not in audit

    home = client.get("/admin/").get_data(as_text=True)
    assert "Contas a receber e pagamentos" in home  # finance's summary, in its catalog
    assert "Receivables and payments" not in home


def test_the_admin_lists_in_english_with_formatted_values(app, client, users, records):
    _as(app, client, users, "en", "America/New_York")

    outbox = _text(_table(client.get("/admin/outbox/").get_data(as_text=True)))
    assert "Created" in outbox and "Attempts" in outbox
    assert "11/29/2026 08:10" in outbox and not ISO_DATE.search(outbox)

    html = client.get("/admin/user/").get_data(as_text=True)
    assert "List" in html and "Listar" not in html
    users_table = _text(_table(html))
    assert "User name" in users_table and " Yes " in users_table

    opportunities = _text(_table(client.get("/admin/crm_opportunity/").get_data(as_text=True)))
    assert "Estimated value" in opportunities and "Won" in opportunities
    assert "R$720.00" in opportunities and " won " not in opportunities
    assert not ISO_DATE.search(opportunities)

    receivables = _text(_table(client.get("/admin/finance_receivable/")
                               .get_data(as_text=True)))
    assert "Due date" in receivables and "12/10/2026" in receivables
    assert "R$720.00" in receivables and "Entered by hand" in receivables

    assert "Receivables and payments" in client.get("/admin/").get_data(as_text=True)


def test_the_details_and_forms_use_the_same_labels_and_formats(app, client, users, records):
    from modules.crm.models import Opportunity

    _as(app, client, users, "pt_BR")
    with app.app_context():
        opportunity_id = db.session.scalar(db.select(Opportunity.id))
    details = _text(client.get(f"/admin/crm_opportunity/details/?id={opportunity_id}")
                    .get_data(as_text=True))
    assert "Valor estimado R$ 720,00" in details and "Situação Ganha" in details
    form = client.get(f"/admin/crm_opportunity/edit/?id={opportunity_id}").get_data(as_text=True)
    # The coded status is a select of its labels, not free text.
    assert re.search(r'<option[^>]*value="won"[^>]*>Ganha</option>', form)
    assert "Valor estimado" in form


# Labels that read the same in both languages.
SAME_IN_PORTUGUESE = {"ID", "E-mail", "CNPJ", "Total", "Pix", "Boleto", "Telemarketing"}


def _msgid(label):
    return label._args[0] if hasattr(label, "_args") else label


def test_every_admin_view_names_every_column_in_portuguese(app):
    """Whatever a view shows (list, details, form, filters) has a label — no Flask-Admin
    prettified attribute name ("Created At") — and the label has a pt-BR translation in
    its domain's catalog."""
    admin = app.extensions["admin"][0]
    views = [view for view in admin._views if isinstance(view, SecureModelView)]
    assert len(views) > 20
    with app.test_request_context(), force_locale("pt_BR"):
        for view in views:
            where = f"{type(view).__module__}.{type(view).__name__}({view.model.__name__})"
            shown = {name for name, _label in view._list_columns}
            if view.can_view_details:
                shown |= {name for name, _label in view._details_columns}
            if view.can_create or view.can_edit:
                extra = view.form_extra_fields or {}
                shown |= {field.name for field in view.create_form()
                          if field.name != "csrf_token" and field.name not in extra}
            unnamed = sorted(name for name in shown if view.label_of(name) is None)
            assert not unnamed, f"{where} shows {unnamed} with no label"
            for name in shown:
                label = view.label_of(name)
                assert str(label) != _msgid(label) or _msgid(label) in SAME_IN_PORTUGUESE, (
                    f"{where}: {name}'s label {_msgid(label)!r} has no pt-BR translation")
            for column, pairs in view.column_choices.items():
                for code, label in pairs:
                    assert str(label) != _msgid(label) or _msgid(label) in SAME_IN_PORTUGUESE, (
                        f"{where}: {column}={code!r} label {_msgid(label)!r} untranslated")
            for flt in view._filters or ():
                assert "/" not in str(flt.name), f"{where}: filter named {flt.name!r}"


def test_every_module_summary_is_translated(app):
    from erp.admin_format import module_summary

    with app.test_request_context(), force_locale("pt_BR"):
        for module in app.extensions["erp_modules"]:
            if module.package.__name__.startswith("modules."):  # the project's own
                summary = module.manifest.summary
                assert module_summary(module.name, summary) != summary, module.name
