"""CRM importers: accounts, contacts and opportunities through the host's import, and the CLI."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp.db import db
from erp.imports.models import DONE, REJECTED
from modules.crm.models import (
    Account,
    AccountContact,
    Contact,
    Opportunity,
    OpportunityChange,
)
from tests.erp.importing import (
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
    xlsx_bytes,
)

pytestmark = pytest.mark.usefixtures("import_dir")

CNPJ_A, CNPJ_B, CNPJ_C = make_cnpj(11222333), make_cnpj(44555666), make_cnpj(77888999)


def fmt(number: str) -> str:
    return f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"


def account(app, **where) -> Account | None:
    with app.app_context():
        found = db.session.scalar(select(Account).filter_by(**where))
        if found is not None:
            db.session.expunge(found)
        db.session.remove()
    return found


def rejects(result) -> list[dict]:
    return list(csv.DictReader(io.StringIO(result.rejects), delimiter=";"))


# --- accounts --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_accounts_from_csv_in_each_encoding_and_delimiter(app, users, encoding,
                                                          delimiter):
    content = csv_bytes([["Razão Social", "CNPJ", "Cidade", "UF", "Telefone"],
                         ["Ação Comércio Ltda", fmt(CNPJ_A), "São João", "sp", "(11) 3333-4444"]],
                        delimiter, encoding)
    result = run_import(app, users["rep_a"], "accounts", content)
    assert (result.status, result.created, result.rejected) == (DONE, 1, 0)
    imported = account(app, tax_id=CNPJ_A)
    assert (imported.legal_name, imported.city, imported.state) == (
        "Ação Comércio Ltda", "São João", "SP")
    assert imported.phone == "+551133334444"
    assert imported.owner_id == users["rep_a"]


def test_accounts_from_xlsx(app, users):
    content = xlsx_bytes([["Legal name", "Tax ID", "Phone", "Opened on"],
                          ["Planilha S.A.", CNPJ_A, 11987654321, date(2020, 3, 1)]])
    result = run_import(app, users["rep_a"], "accounts", content, "contas.xlsx")
    assert (result.status, result.created) == (DONE, 1)
    imported = account(app, tax_id=CNPJ_A)
    assert imported.phone == "+5511987654321"  # a number cell, not "11987654321.0"
    assert imported.opened_on == date(2020, 3, 1)


def test_accounts_accept_pt_br_dates(app, users):
    content = csv_bytes([["Razão Social", "Data de abertura", "Prioridade"],
                         ["Datas Ltda", "31/12/2019", "sim"]])
    result = run_import(app, users["rep_a"], "accounts", content)
    assert result.status == DONE
    imported = account(app, legal_name="Datas Ltda")
    assert imported.opened_on == date(2019, 12, 31)
    assert imported.priority is True


def test_existing_accounts_are_updated_by_tax_id_not_duplicated(app, users,
                                                                 make_account):
    make_account("rep_a", legal_name="Velho Nome", tax_id=CNPJ_A, city="Recife",
                 email="velho@example.com")
    content = csv_bytes([["Razão Social", "CNPJ", "Cidade", "E-mail"],
                         ["Novo Nome Ltda", CNPJ_A, "", "novo@example.com"],  # unformatted
                         ["Outra Ltda", fmt(CNPJ_B), "Natal", ""]])
    result = run_import(app, users["rep_a"], "accounts", content)
    assert (result.status, result.created, result.updated) == (DONE, 1, 1)
    assert count(app, Account) == 2
    updated = account(app, tax_id=CNPJ_A)
    assert updated.legal_name == "Novo Nome Ltda"
    assert updated.email == "novo@example.com"
    assert updated.city == "Recife"  # a blank cell keeps the current value
    assert updated.version == 2


def test_accounts_without_tax_id_are_matched_by_email(app, users, make_account):
    make_account("rep_a", legal_name="Sem CNPJ", email="compras@semcnpj.com.br")
    content = csv_bytes([["Razão Social", "E-mail", "CNPJ"],
                         ["Sem CNPJ Ltda", "compras@semcnpj.com.br", fmt(CNPJ_C)]])
    result = run_import(app, users["rep_a"], "accounts", content)
    assert (result.status, result.updated, result.created) == (DONE, 1, 0)
    assert account(app, email="compras@semcnpj.com.br").tax_id == CNPJ_C


def test_a_tax_id_someone_else_owns_is_refused_not_updated(app, users,
                                                            make_account):
    make_account("rep_c", legal_name="De Outro Time", tax_id=CNPJ_A)
    content = csv_bytes([["Razão Social", "CNPJ"], ["Tomada", CNPJ_A]])
    result = run_import(app, users["rep_a"], "accounts", content)
    assert (result.status, result.rejected) == (REJECTED, 1)
    reason = rejects(result)[0]["reason"]
    assert "another portfolio; ask a manager" in reason and "De Outro Time" not in reason
    assert account(app, tax_id=CNPJ_A).legal_name == "De Outro Time"


def test_duplicates_inside_the_file_are_rejected(app, users):
    content = csv_bytes([["Razão Social", "CNPJ"], ["Primeira", fmt(CNPJ_A)],
                         ["Segunda", CNPJ_A], ["Terceira", CNPJ_B]])
    result = run_import(app, users["rep_a"], "accounts", content, skip_invalid=True)
    assert (result.created, result.rejected) == (2, 1)
    (rejected,) = rejects(result)
    assert rejected["Razão Social"] == "Segunda"
    assert "Duplicate in the file: same CNPJ / CPF as row 2" in rejected["reason"]


def test_a_bad_row_rolls_back_the_whole_import(app, users, make_account,
                                               monkeypatch):
    """Earlier batches were flushed; the bad row in the last batch undoes them all."""
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 2)
    make_account("rep_a", legal_name="Antes", tax_id=CNPJ_A)
    rows = [["Razão Social", "CNPJ"], ["Depois", CNPJ_A]] + [
        [f"Nova {i}", make_cnpj(100 + i)] for i in range(4)] + [["Ruim", "123"]]
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(rows))
    assert result.status == REJECTED
    assert (result.total, result.processed, result.rejected) == (6, 6, 1)
    assert (result.created, result.updated) == (0, 0)
    assert "Nothing was imported" in result.message
    assert count(app, Account) == 1
    assert account(app, tax_id=CNPJ_A).legal_name == "Antes"


def test_skip_invalid_imports_the_valid_rows(app, users, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 2)
    rows = [["Razão Social", "CNPJ", "E-mail"], ["Boa 1", CNPJ_A, ""], ["", CNPJ_B, ""],
            ["Boa 2", "", "nao-e-email"], ["Boa 3", CNPJ_C, "ok@example.com"]]
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(rows), skip_invalid=True)
    assert (result.status, result.created, result.rejected) == (DONE, 2, 2)
    assert count(app, Account) == 2


def test_the_rejected_rows_file_has_the_original_columns_and_a_reason(app, users):
    rows = [["Razão Social", "CNPJ", "Cidade", "Extra"], ["Boa", CNPJ_A, "Recife", "x"],
            ["Ruim", "11.111.111/1111-11", "Natal"], ["", "", "Sem nome", "y"]]
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(rows, ";", "cp1252"))
    assert result.status == REJECTED
    lines = list(csv.reader(io.StringIO(result.rejects), delimiter=";"))
    assert lines[0] == ["Razão Social", "CNPJ", "Cidade", "Extra", "reason"]
    assert lines[1][:4] == ["Ruim", "11.111.111/1111-11", "Natal", ""]  # short row padded
    assert lines[1][4].startswith("Row 3: CNPJ / CPF: Invalid CNPJ")
    assert lines[2][:4] == ["", "", "Sem nome", "y"]
    assert lines[2][4] == "Row 4: Legal name is required."
    assert len(lines) == 3  # the valid row is not in it


def test_unknown_category_owner_or_type_are_row_errors(app, users):
    rows = [["Razão Social", "Categoria", "Responsável", "Tipo"],
            ["A", "Inexistente", "", ""], ["B", "", "ninguem@example.com", ""],
            ["C", "", "", "ONG"], ["D", "", "rep_b", "PJ"]]
    result = run_import(app, users["manager"], "accounts", csv_bytes(rows), skip_invalid=True)
    reasons = [r["reason"] for r in rejects(result)]
    assert "no category named Inexistente" in reasons[0]
    assert "no active user" in reasons[1]
    assert "use PJ (company) or PF (person)" in reasons[2]
    assert account(app, legal_name="D").owner_id == users["rep_b"]  # a teammate, by login


def test_a_rep_cannot_give_accounts_to_someone_outside_their_scope(app, users):
    rows = [["Razão Social", "Responsável"], ["Presente", "rep_c@example.com"]]
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(rows))
    assert result.status == REJECTED
    assert "You may only assign accounts" in rejects(result)[0]["reason"]


# --- contacts ---------------------------------------------------------------------------------


def test_contacts_are_linked_to_their_account_with_a_role(app, users,
                                                          make_account):
    first = make_account("rep_a", legal_name="Alfa Indústria", tax_id=CNPJ_A)
    second = make_account("rep_a", legal_name="Beta Serviços", trade_name="Beta")
    content = csv_bytes([["Nome", "E-mail", "Celular", "Empresa", "Cargo", "Papel"],
                         ["Maria Souza", "maria@alfa.com.br", "(11) 98765-4321", fmt(CNPJ_A),
                          "Compradora", "Compras"],
                         ["João Lima", "", "", "beta", "", "Financeiro"],
                         ["Sem Empresa", "", "", "", "", ""]])
    result = run_import(app, users["rep_a"], "contacts", content)
    assert (result.status, result.created) == (DONE, 3)
    with app.app_context():
        links = {(link.account_id, link.contact.name, link.role)
                 for link in db.session.scalars(select(AccountContact))}
        maria = db.session.scalar(select(Contact).filter_by(name="Maria Souza"))
        assert (maria.mobile, maria.position, maria.owner_id) == (
            "+5511987654321", "Compradora", users["rep_a"])
        db.session.remove()
    assert links == {(first, "Maria Souza", "Compras"), (second, "João Lima", "Financeiro")}


def test_contacts_are_updated_by_email_and_accounts_must_be_visible(app, users,
                                                                    make_account,
                                                                    make_contact):
    mine = make_account("rep_a", legal_name="Minha", tax_id=CNPJ_A)
    make_account("rep_c", legal_name="Alheia", tax_id=CNPJ_B)
    make_contact("rep_a", account_id=mine, role="Compras", name="Ana", email="ana@x.com.br")
    content = csv_bytes([["Nome", "E-mail", "Conta", "Papel"],
                         ["Ana Paula", "ana@x.com.br", CNPJ_A, "Diretoria"],
                         ["Bruno", "bruno@x.com.br", CNPJ_B, ""]])
    result = run_import(app, users["rep_a"], "contacts", content, skip_invalid=True)
    assert (result.updated, result.created, result.rejected) == (1, 0, 1)
    assert "no account" in rejects(result)[0]["reason"]
    with app.app_context():
        (ana,) = db.session.scalars(select(Contact)).all()
        assert ana.name == "Ana Paula"
        assert [(link.account_id, link.role) for link in ana.account_links] == [
            (mine, "Diretoria")]
        db.session.remove()


def test_an_ambiguous_account_name_asks_for_the_tax_id(app, users, make_account):
    make_account("rep_a", legal_name="Gêmea Ltda", tax_id=CNPJ_A)
    make_account("rep_a", legal_name="Gêmea Ltda", tax_id=CNPJ_B)
    content = csv_bytes([["Nome", "Empresa"], ["Carla", "GÊMEA LTDA"]])
    result = run_import(app, users["rep_a"], "contacts", content)
    assert "2 accounts are named" in rejects(result)[0]["reason"]
    assert count(app, Contact) == 0


# --- opportunities -----------------------------------------------------------------------------


def test_opportunities_with_pt_br_values_dates_stage_and_owner(app, users,
                                                               make_account, make_contact,
                                                               pipeline):
    acme = make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_A)
    make_contact("rep_a", account_id=acme, name="Paula Dias", email="paula@acme.com.br")
    content = csv_bytes([["Título", "Conta", "Etapa", "Responsável", "Valor",
                          "Previsão de fechamento", "Contato", "Meio de contato"],
                         ["Bimer + ISS-Easy", fmt(CNPJ_A), "negociação", "rep_b@example.com",
                          "R$ 1.234,56", "31/12/2026", "paula@acme.com.br", "Indicação"],
                         ["Suporte anual", "Acme Ltda", "", "", "", "", "", ""]])
    result = run_import(app, users["manager"], "opportunities", content)
    assert (result.status, result.created) == (DONE, 2)
    with app.app_context():
        bimer = db.session.scalar(select(Opportunity).filter_by(title="Bimer + ISS-Easy"))
        assert bimer.estimated_value == Decimal("1234.56")
        assert [(i.description, i.quantity, i.unit_price) for i in bimer.items] == [
            ("Bimer + ISS-Easy", Decimal("1"), Decimal("1234.56"))]
        assert bimer.expected_close_on == date(2026, 12, 31)
        assert bimer.stage_id == pipeline["stages"]["Negociação"]
        assert bimer.owner_id == users["rep_b"]
        assert bimer.contact.name == "Paula Dias"
        assert bimer.contact_medium == "referral"
        other = db.session.scalar(select(Opportunity).filter_by(title="Suporte anual"))
        assert other.stage_id == pipeline["stages"]["Prospecção"]  # the first stage
        assert (other.owner_id, other.estimated_value) == (users["manager"], Decimal("0"))
        history = db.session.scalars(select(OpportunityChange.field)).all()
        db.session.remove()
    assert history == ["created", "created"]


def test_opportunities_from_xlsx_keep_numbers_as_numbers(app, users,
                                                        make_account, pipeline):
    make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_A)
    content = xlsx_bytes([["Title", "Account", "Value", "Expected close"],
                          ["Licenças", CNPJ_A, 1.234, date(2027, 1, 31)]])
    result = run_import(app, users["rep_a"], "opportunities", content, "o.xlsx")
    assert result.status == DONE
    with app.app_context():
        (opportunity,) = db.session.scalars(select(Opportunity)).all()
        assert opportunity.estimated_value == Decimal("1.23")  # 1.234, not 1234
        assert opportunity.expected_close_on == date(2027, 1, 31)
        db.session.remove()


def test_opportunity_rows_with_unknown_stage_or_foreign_account_are_rejected(
        app, users, make_account, pipeline):
    make_account("rep_a", legal_name="Minha", tax_id=CNPJ_A)
    make_account("rep_c", legal_name="Alheia", tax_id=CNPJ_B)
    content = csv_bytes([["Título", "Conta", "Etapa", "Valor"],
                         ["A", CNPJ_A, "Fechando", ""], ["B", CNPJ_B, "", ""],
                         ["C", CNPJ_A, "", "-5"], ["D", CNPJ_A, "", "1.000,00"],
                         ["d", fmt(CNPJ_A), "", ""]])
    result = run_import(app, users["rep_a"], "opportunities", content, skip_invalid=True)
    reasons = [r["reason"] for r in rejects(result)]
    assert "no stage named Fechando" in reasons[0]
    assert "no account" in reasons[1]
    assert "Estimated value" in reasons[2]
    assert "Duplicate in the file" in reasons[3]  # same title, same account
    assert (result.created, result.rejected) == (1, 4)


# --- the command -----------------------------------------------------------------------------


def test_the_import_command(app, users, tmp_path):
    path = tmp_path / "contas.csv"
    path.write_bytes(csv_bytes([["Razão Social", "CNPJ"], ["Via CLI", fmt(CNPJ_A)]], ",",
                               "cp1252"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "accounts", str(path), "--user", "rep_a"])
    assert result.exit_code == 0, result.output
    assert "legal_name" in result.output and "done" in result.output
    assert "created: 1" in result.output
    assert account(app, tax_id=CNPJ_A).owner_id == users["rep_a"]


def test_the_import_command_exits_non_zero_on_rejected_rows(app, users,
                                                            tmp_path):
    path = tmp_path / "contas.csv"
    path.write_bytes(csv_bytes([["Nome da empresa", "Documento"], ["Boa", CNPJ_A],
                                ["Ruim", "999"]]))
    out = tmp_path / "rejeitadas.csv"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "accounts", str(path), "--user", "admin",
                                 "--delimiter", ";", "--map", "tax_id=Documento",
                                 "--rejected", str(out)])
    assert result.exit_code == 1
    assert "rejected: 1" in result.output
    assert count(app, Account) == 0  # all or nothing
    assert "Ruim" in out.read_text("utf-8-sig")
    result = runner.invoke(args=["import", "accounts", str(path), "--user", "admin",
                                 "--map", "tax_id=2", "--skip-invalid"])
    assert result.exit_code == 1
    assert count(app, Account) == 1


def test_the_import_command_refuses_unknown_kinds_and_users_without_permission(
        app, users, tmp_path):
    path = tmp_path / "contas.csv"
    path.write_bytes(csv_bytes([["Razão Social"], ["X"]]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "invoices", str(path)])
    assert result.exit_code == 2 and "accounts" in result.output
    result = runner.invoke(args=["import", "accounts", str(path), "--user", "finance"])
    assert result.exit_code == 1 and "may not import" in result.output
    assert count(app, Account) == 0
