"""Real ERP exports (Omie, Tiny, Bling style) imported without editing the file (issue 19).

The corpus is made here: CSV in Windows-1252 and in UTF-8 with a BOM, XLSX with a title
row (a merged cell) above the header, merged cells in the data, numeric CNPJ/CEP cells
that lost their leading zeros, formula cells without a computed value, a UTF-16 choice
for a file without a BOM. Each goes through the services (the CLI's path), the web pages
and the API; none may answer 500.
"""

from __future__ import annotations

import csv
import io
import re
import time

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from erp.api.tokens import create_token
from erp.auth.models import User
from erp.db import db
from erp.imports import services
from erp.imports.models import DONE, REJECTED, ImportJob
from erp.imports.reading import ENCODINGS, numbered_rows
from erp.testing import csrf_token, login_as
from modules.crm.models import Account, Opportunity, OpportunityChange
from tests.erp.importing import (
    Result,
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
)

pytestmark = pytest.mark.usefixtures("import_dir")

# A CNPJ and a CPF that start with zeros (what a spreadsheet number loses), valid.
CNPJ_ZERO = make_cnpj(1234567)  # "01234567000195"-like: 14 digits, leading 0
CPF_ZERO = "01234567890"
CNPJ_B, CNPJ_C = make_cnpj(44555666), make_cnpj(77888999)
IE_SP = "110042490114"  # a valid state registration of SP

BLING_HEADER = ["Código", "Nome", "Fantasia", "Tipo de pessoa", "CPF/CNPJ", "IE / RG",
                "Situação", "Fone", "Celular/WhatsApp", "E-mail", "CEP", "Endereço", "Número",
                "Complemento", "Bairro", "Cidade", "UF"]
BLING_ROWS = [
    ["1001", "Padaria Pão Quente Ltda", "Pão Quente", "Jurídica", CNPJ_B, IE_SP, "Ativo",
     "(11) 3333-4444", "(11) 98765-4321", "compras@paoquente.com.br", "01310-100",
     "Av. Paulista", "1000", "Sala 12", "Bela Vista", "São Paulo", "SP"],
    ["1002", "Maria da Silva", "", "Física", CPF_ZERO, "12.345.678-9", "Inativo",
     "", "(21) 99876-5432", "maria@example.com", "20040-002", "Rua da Assembleia", "10",
     "Apto 301", "Centro", "Rio de Janeiro", "Rio de Janeiro"],
    ["1003", "Oficina Dois Irmãos ME", "", "J", CNPJ_C, "ISENTO", "ativo",
     "", "", "", "", "", "", "", "", "Campinas", "sp"],
]


def bling_csv(encoding: str = "cp1252") -> bytes:
    return csv_bytes([BLING_HEADER, *BLING_ROWS], ";", encoding)


def xlsx_export(*, formula: bool = False) -> bytes:
    """A report-style sheet: a merged title row, a blank row, the header on row 3, a city
    merged over two customers, numeric CNPJ (13 digits) and CEP (7 digits) cells."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    header = ["Razão Social", "CNPJ", "CEP", "Cidade", "UF", "Situação"]
    sheet.append(["Relatório de clientes — exportado em 30/11/2026"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append([])
    sheet.append(header)
    sheet.append(["Alfa Comércio Ltda", int(CNPJ_ZERO), 1310100, "Campinas", "SP",
                  "Prospecção"])
    sheet.append(["Beta Serviços Ltda", int(CNPJ_B), "13015-904", None, "SP", "Prospecção"])
    sheet.merge_cells("D4:D5")  # the city typed once for both customers
    if formula:
        sheet.append(["Gama Ltda", CNPJ_C, "13015-904", "Campinas", "SP", "Prospecção"])
        sheet["A6"] = "=UPPER(\"gama ltda\")"  # written without a computed value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run_import(app, user_id: int, kind: str, content: bytes, name: str = "file.csv", *,
               skip_invalid: bool = False, values: dict | None = None, **upload) -> Result:
    """Upload, confirm the guessed mapping (with ``values``, the user's value mapping) and
    run, as the CLI does."""
    with app.app_context():
        user = db.session.get(User, user_id)
        job = services.store_upload(io.BytesIO(content), name, user=user, kind=kind, **upload)
        services.save_mapping(job, job.mapping, values=values)
        assert services.start(job, skip_invalid=skip_invalid, background=False)
        job = db.session.get(ImportJob, job.id)
        path = services.rejects_path(job)
        result = Result(job.id, job.status, job.message, job.total_rows, job.processed_rows,
                        job.rejected_rows, job.created_rows, job.updated_rows,
                        path.read_text("utf-8-sig") if path.exists() else None)
        db.session.remove()
    return result


def accounts(app) -> dict[str, Account]:
    with app.app_context():
        found = {a.legal_name: a for a in db.session.scalars(select(Account))}
        for account in found.values():
            db.session.expunge(account)
        db.session.remove()
    return found


def rejects(result) -> list[dict]:
    return list(csv.DictReader(io.StringIO(result.rejects or ""), delimiter=";"))


# --- a Bling/Tiny export: Situação, IE / RG, Código ----------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_a_bling_export_imports_as_it_is(app, users, encoding):
    result = run_import(app, users["rep_a"], "accounts", bling_csv(encoding))
    assert (result.status, result.created, result.rejected) == (DONE, 3, 0), result.rejects
    found = accounts(app)
    padaria = found["Padaria Pão Quente Ltda"]
    assert padaria.external_ref == "1001" and padaria.lifecycle == "customer"
    assert padaria.state_registration == IE_SP  # the "IE / RG" column, not dropped
    assert padaria.complement == "Sala 12" and padaria.mobile == "+5511987654321"
    assert padaria.phone == "+551133334444" and not padaria.archived
    maria = found["Maria da Silva"]
    assert maria.person_type == "PF" and maria.archived  # Inativo -> archived
    assert maria.state_registration is None and "RG: 12.345.678-9" in maria.notes
    assert maria.state == "RJ"  # "Rio de Janeiro" -> RJ
    oficina = found["Oficina Dois Irmãos ME"]
    assert oficina.state_registration == "ISENTO" and oficina.state == "SP"


def test_the_mapping_of_a_bling_export_is_guessed(app, users):
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        job = services.store_upload(io.BytesIO(bling_csv()), "bling.csv", user=user,
                                    kind="accounts")
        mapping = job.mapping
        db.session.remove()
    column = {name: BLING_HEADER[index] for name, index in mapping.items()}
    assert column == {**column, "external_ref": "Código", "state_registration": "IE / RG",
                      "lifecycle": "Situação", "person_type": "Tipo de pessoa",
                      "phone": "Fone", "mobile": "Celular/WhatsApp",
                      "complement": "Complemento", "tax_id": "CPF/CNPJ"}


def test_a_reimport_finds_accounts_by_their_external_reference(app, users):
    run_import(app, users["rep_a"], "accounts", bling_csv())
    renamed = [list(BLING_ROWS[0]), list(BLING_ROWS[2])]
    renamed[0][1] = "Padaria Pão Quente Eireli"  # renamed, and no CNPJ this time
    renamed[0][4] = ""
    renamed[1][1] = "Oficina Dois Irmãos Ltda"
    result = run_import(app, users["rep_a"], "accounts",
                        csv_bytes([BLING_HEADER, *renamed], ";", "cp1252"))
    assert (result.status, result.created, result.updated) == (DONE, 0, 2), result.rejects
    found = accounts(app)
    assert found["Padaria Pão Quente Eireli"].tax_id == CNPJ_B
    assert "Oficina Dois Irmãos Ltda" in found and len(found) == 3


def test_situacao_values_the_user_leaves_out_never_reject_rows(app, users):
    rows = [["Nome", "CNPJ", "Situação"], ["Alfa Ltda", make_cnpj(1), "Bloqueado"],
            ["Beta Ltda", make_cnpj(2), "Ativo"]]
    # Guessed only: "Bloqueado" means nothing known, and says so.
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(rows))
    assert result.status == REJECTED
    assert "archived" in rejects(result)[0]["reason"]
    # Left out by the user (an empty choice): imported without a lifecycle from it.
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(rows),
                        values={"lifecycle": {"bloqueado": "", "Ativo": "prospect"}})
    assert (result.status, result.created) == (DONE, 2), result.rejects
    assert {a.lifecycle for a in accounts(app).values()} == {"prospect"}


# --- XLSX: title row, merged cells, numbers that lost their zeros, formulas --------------


def test_an_xlsx_report_with_a_title_row_imports_without_editing(app, users):
    result = run_import(app, users["rep_a"], "accounts", xlsx_export(), "clientes.xlsx")
    assert (result.status, result.created, result.total) == (DONE, 2, 2), result.rejects
    found = accounts(app)
    alfa, beta = found["Alfa Comércio Ltda"], found["Beta Serviços Ltda"]
    assert alfa.tax_id == CNPJ_ZERO and alfa.cep == "01310100"  # zeros put back
    assert beta.city == "Campinas"  # the merged cell's value, carried down
    with app.app_context():
        assert db.session.get(ImportJob, result.id).options["header_row"] == 3
        db.session.remove()


def test_a_wrong_number_is_not_padded_into_another_one(app, users):
    wrong = int(CNPJ_ZERO) + 1  # 13 digits, and no zero makes it valid
    content = csv_bytes([["Razão Social", "CNPJ", "CEP"], ["Errada Ltda", wrong, "123"]])
    result = run_import(app, users["rep_a"], "accounts", content)
    assert result.status == REJECTED
    reason = rejects(result)[0]["reason"]
    assert "CNPJ" in reason and "CEP" in reason


def test_a_formula_without_a_value_is_reported_as_such(app, users):
    result = run_import(app, users["rep_a"], "accounts", xlsx_export(formula=True),
                        "clientes.xlsx")
    assert result.status == REJECTED
    (reject,) = rejects(result)
    assert "formula without a computed value in A6" in reject["reason"]
    assert "Razão social" not in reject["reason"] and "required" not in reject["reason"]


def test_merged_cells_and_formulas_as_read(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(xlsx_export(formula=True))
    rows = list(numbered_rows(path, "xlsx", header_row=3))
    assert [number for number, _cells in rows] == [3, 4, 5, 6]
    assert rows[2][1][3] == "Campinas"
    assert type(rows[3][1][0]).__name__ == "FormulaWithoutValue" and rows[3][1][0] == "A6"
    title = next(numbered_rows(path, "xlsx"))[1]
    assert title[0] == title[5]  # the title carried over the columns it covers


def test_the_header_row_can_be_chosen(app, users):
    content = csv_bytes([["Planilha de clientes", ""], ["Nome", "Coluna X"],
                         ["Razão Social", "CNPJ"], ["Alfa Ltda", make_cnpj(1)]])
    # The best match is row 3: "Razão Social" and "CNPJ" are both known names.
    result = run_import(app, users["rep_a"], "accounts", content)
    assert (result.status, result.created, result.total) == (DONE, 1, 1)
    # Chosen by hand, row 2: row 3 is data then, and the columns are guessed from row 2.
    with app.app_context():
        job = services.store_upload(io.BytesIO(content), "c.csv", kind="accounts",
                                    user=db.session.get(User, users["rep_a"]), header_row=2)
        assert job.mapping == {"legal_name": 0}
        rows = services.preview(job, db.session.get(User, users["rep_a"])).rows
        assert [row.number for row in rows] == [3, 4]
        with pytest.raises(services.ImportRefused):
            services.save_mapping(job, {"legal_name": 0}, header_row=500)
        db.session.remove()


# --- encodings: never a 500 ----------------------------------------------------------------


def test_utf16_without_a_bom_is_read_or_refused_clearly(app, users):
    content = csv_bytes([["Razão Social", "CNPJ"], ["Alfa Ltda", make_cnpj(1)]], ";",
                        "utf-16-le")  # Excel's Unicode text, its BOM lost
    result = run_import(app, users["rep_a"], "accounts", content)
    assert (result.status, result.created) == (DONE, 1)
    with app.app_context(), pytest.raises(services.ImportRefused) as refused:
        services.store_upload(io.BytesIO(bling_csv("utf-8")), "b.csv",
                              user=db.session.get(User, users["rep_a"]), kind="accounts",
                              encoding="utf-16")
    assert "UTF-16" in str(refused.value.message)


def _token(app, user_id: int) -> dict:
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "imports")
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def _api_upload(client, headers, content: bytes, name="contas.csv", **form):
    data = {"kind": "accounts", "file": (io.BytesIO(content), name), **form}
    return client.post("/api/v1/imports", data=data, headers=headers,
                       content_type="multipart/form-data")


def _api_finish(client, headers, job_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/imports/{job_id}", headers=headers).json
        if body["finished"] or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_no_encoding_choice_is_a_500_on_the_api(app, client, users, encoding):
    headers = _token(app, users["rep_a"])
    response = _api_upload(client, headers, bling_csv("utf-8"), encoding=encoding)
    assert response.status_code in (202, 422), response.json
    assert (response.status_code == 422) == (encoding == "utf-16")  # UTF-8 text: no BOM
    if response.status_code == 422:
        assert response.json["error"]["message"]
    else:
        assert _api_finish(client, headers, response.json["id"])["finished"]


def test_the_api_takes_the_header_row_and_the_value_mapping(app, client, users):
    headers = _token(app, users["rep_a"])
    content = csv_bytes([["Exportação", "", ""], ["Nome", "CNPJ", "Situação"],
                         ["Alfa Ltda", make_cnpj(1), "Suspenso"]])
    response = _api_upload(client, headers, content, header_row="2",
                           values='{"lifecycle": {"Suspenso": "archived"}}')
    assert response.status_code == 202, response.json
    assert response.json["header_row"] == 2
    body = _api_finish(client, headers, response.json["id"])
    assert (body["status"], body["created_rows"]) == ("done", 1), body
    assert accounts(app)["Alfa Ltda"].archived
    response = _api_upload(client, headers, content,
                           values='{"lifecycle": {"Suspenso": "banido"}}')
    assert response.status_code == 422 and "banido" in response.json["error"]["message"]
    response = _api_upload(client, headers, content, values="[1]")
    assert response.status_code == 422
    response = _api_upload(client, headers, content, header_row="0")
    assert response.status_code == 422


def test_the_command_takes_the_header_row_and_values_and_never_shows_a_traceback(
        app, users, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(csv_bytes([["Exportação", "", ""], ["Nome", "CNPJ", "Situação"],
                                ["Alfa Ltda", make_cnpj(1), "Suspenso"]]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "accounts", str(path), "--user", "rep_a",
                                 "--encoding", "utf-16"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "UTF-16" in result.output
    result = runner.invoke(args=["import", "accounts", str(path), "--user", "rep_a",
                                 "--header-row", "2", "--value",
                                 "lifecycle:Suspenso=archived"])
    assert result.exit_code == 0, result.output
    assert "header: row 2" in result.output
    assert accounts(app)["Alfa Ltda"].archived


# --- the web pages ---------------------------------------------------------------------------


def _web_upload(client, content: bytes, name: str, kind: str = "accounts"):
    token = csrf_token(client, f"/imports/new?kind={kind}")
    response = client.post("/imports/new", data={
        "csrf_token": token, "kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/imports/(\d+)/", response.headers["Location"]).group(1))


def _form(page: str) -> dict:
    """The mapping form as a browser sends it: selected options and hidden inputs."""
    data = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                  page):
        data[name] = value
    data["csrf_token"] = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page,
                                 re.S):
        selected = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)" selected', body)
        data[name] = selected.group(1) if selected else ""
    return data


def test_the_mapping_page_shows_values_and_takes_the_users_choice(app, client, users):
    login_as(client, users["rep_a"])
    job_id = _web_upload(client, bling_csv(), "bling.csv")
    page = client.get(f"/imports/{job_id}/mapping").get_data(as_text=True)
    assert 'id="values-lifecycle"' in page and 'id="values-person_type"' in page
    assert 'id="values-state"' in page  # "Rio de Janeiro" and "SP" found
    data = _form(page)
    lifecycle = {data[k]: data[k[:-len("-key")] + "-code"] for k in data
                 if k.startswith("values-lifecycle-") and k.endswith("-key")}
    assert lifecycle == {"ativo": "customer", "inativo": "archived"}
    # The user says Inativo means a prospect here.
    for key in list(data):
        if key.startswith("values-lifecycle-") and data[key] == "inativo":
            data[key[:-len("-key")] + "-code"] = "prospect"
    response = client.post(f"/imports/{job_id}/mapping", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/imports/{job_id}/preview").get_data(as_text=True)
    assert "3 valid" in page
    response = client.post(f"/imports/{job_id}/preview",
                           data={"csrf_token": csrf_token(client, f"/imports/{job_id}/preview")})
    assert response.status_code == 302
    with app.app_context():
        deadline = time.monotonic() + 20
        while not db.session.get(ImportJob, job_id).finished and time.monotonic() < deadline:
            db.session.remove()
            time.sleep(0.05)
        db.session.remove()
    maria = accounts(app)["Maria da Silva"]
    assert maria.lifecycle == "prospect" and not maria.archived


def test_the_header_row_is_chosen_in_the_mapping_page(app, client, users):
    login_as(client, users["rep_a"])
    content = csv_bytes([["Planilha", ""], ["Razão Social", "CNPJ"],
                         ["Alfa Ltda", make_cnpj(1)]])
    job_id = _web_upload(client, content, "c.csv")
    page = client.get(f"/imports/{job_id}/mapping").get_data(as_text=True)
    data = _form(page)
    assert data["header_row"] == "2" and data["field_legal_name"] == "0"
    data["header_row"] = "1"
    response = client.post(f"/imports/{job_id}/mapping", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/imports/{job_id}/mapping")
    data = _form(client.get(f"/imports/{job_id}/mapping").get_data(as_text=True))
    assert data["header_row"] == "1" and data["field_legal_name"] == ""


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("source", ["utf-8", "cp1252", "utf-8-sig"])
def test_no_encoding_choice_is_a_500_on_the_mapping_page(app, client, users, encoding,
                                                         source):
    login_as(client, users["rep_a"])
    job_id = _web_upload(client, bling_csv(source), "b.csv")
    data = _form(client.get(f"/imports/{job_id}/mapping").get_data(as_text=True))
    data["encoding"] = encoding
    response = client.post(f"/imports/{job_id}/mapping", data=data)
    assert response.status_code in (200, 302, 400)
    page = client.get(f"/imports/{job_id}/mapping")
    assert page.status_code == 200
    if encoding == "utf-16":
        assert "UTF-16" in page.get_data(as_text=True)
    preview = client.get(f"/imports/{job_id}/preview")
    assert preview.status_code in (200, 302)


def test_an_xlsx_with_formulas_and_merges_through_the_pages(app, client, users):
    login_as(client, users["rep_a"])
    job_id = _web_upload(client, xlsx_export(formula=True), "clientes.xlsx")
    data = _form(client.get(f"/imports/{job_id}/mapping").get_data(as_text=True))
    assert data["header_row"] == "3" and data["field_tax_id"] == "1"
    response = client.post(f"/imports/{job_id}/mapping", data=data)
    assert response.status_code == 302
    page = client.get(f"/imports/{job_id}/preview").get_data(as_text=True)
    assert "formula without a computed value in A6" in page
    assert "Campinas" in page


# --- opportunities: updated by import --------------------------------------------------------


OPP_HEADER = ["ID", "Título", "Conta", "Etapa", "Valor"]


def _opportunities(app) -> dict[str, Opportunity]:
    with app.app_context():
        found = {o.title: o for o in db.session.scalars(select(Opportunity))}
        for opportunity in found.values():
            db.session.expunge(opportunity)
        db.session.remove()
    return found


def test_opportunities_are_updated_by_reference_or_by_account_and_title(
        app, users, make_account, pipeline):
    make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_B)
    first = csv_bytes([OPP_HEADER, ["OP-1", "Licenças", "Acme Ltda", "Prospecção", "100,00"],
                       ["", "Suporte", "Acme Ltda", "", "50,00"]])
    result = run_import(app, users["rep_a"], "opportunities", first)
    assert (result.status, result.created) == (DONE, 2), result.rejects
    second = csv_bytes([OPP_HEADER,
                        ["OP-1", "Licenças 2027", "Acme Ltda", "Negociação", "150,00"],
                        ["", "SUPORTE", "Acme Ltda", "Negociação", ""],
                        ["", "Implantação", "Acme Ltda", "", ""]])
    result = run_import(app, users["rep_a"], "opportunities", second)
    assert (result.status, result.created, result.updated) == (DONE, 1, 2), result.rejects
    found = _opportunities(app)
    assert set(found) == {"Licenças 2027", "SUPORTE", "Implantação"}
    renamed = found["Licenças 2027"]
    assert renamed.external_ref == "OP-1" and str(renamed.estimated_value) == "150.00"
    assert renamed.stage_id == pipeline["stages"]["Negociação"]
    assert str(found["SUPORTE"].estimated_value) == "50.00"  # blank: kept
    with app.app_context():
        fields = db.session.scalars(select(OpportunityChange.field).where(
            OpportunityChange.opportunity_id == renamed.id)
            .order_by(OpportunityChange.id)).all()
        db.session.remove()
    assert fields[0] == "created" and "stage" in fields and "value" in fields


def test_opportunity_updates_respect_all_or_nothing_and_skipping(app, users, make_account,
                                                                 pipeline):
    make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_B)
    run_import(app, users["rep_a"], "opportunities",
               csv_bytes([OPP_HEADER, ["OP-1", "Licenças", "Acme Ltda", "", "100,00"]]))
    second = csv_bytes([OPP_HEADER, ["OP-1", "Licenças", "Acme Ltda", "Negociação", ""],
                        ["OP-2", "Outra", "Ninguém Ltda", "", ""]])
    result = run_import(app, users["rep_a"], "opportunities", second)
    assert result.status == REJECTED
    assert _opportunities(app)["Licenças"].stage_id == pipeline["stages"]["Prospecção"]
    result = run_import(app, users["rep_a"], "opportunities", second, skip_invalid=True)
    assert (result.status, result.updated, result.rejected) == (DONE, 1, 1)
    assert _opportunities(app)["Licenças"].stage_id == pipeline["stages"]["Negociação"]
    assert count(app, Opportunity) == 1


def test_two_opportunities_with_the_title_ask_for_a_reference(app, users, make_account,
                                                             pipeline):
    make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_B)
    run_import(app, users["rep_a"], "opportunities",
               csv_bytes([OPP_HEADER, ["A", "Licenças", "Acme Ltda", "", ""],
                          ["B", "Licenças", "Acme Ltda", "", ""]]))
    result = run_import(app, users["rep_a"], "opportunities",
                        csv_bytes([OPP_HEADER, ["", "Licenças", "Acme Ltda", "", "10"]]))
    assert result.status == REJECTED
    assert "2 opportunities titled" in rejects(result)[0]["reason"]


def test_an_archived_contact_is_not_offered_to_an_opportunity(app, users, make_account,
                                                              make_contact, pipeline):
    acme = make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_B)
    contact = make_contact("rep_a", account_id=acme, name="Paula Dias")
    with app.app_context():
        from modules.crm.models import Contact

        db.session.get(Contact, contact).archived = True
        db.session.commit()
        db.session.remove()
    result = run_import(app, users["rep_a"], "opportunities",
                        csv_bytes([["Título", "Conta", "Contato"],
                                   ["Licenças", "Acme Ltda", "Paula Dias"]]))
    assert result.status == REJECTED
    assert "is not one of the account's contacts" in rejects(result)[0]["reason"]


def test_opportunity_stage_and_owner_values_are_mapped(app, users, make_account, pipeline):
    make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_B)
    content = csv_bytes([["Título", "Conta", "Etapa", "Vendedor"],
                         ["Licenças", "Acme Ltda", "Em negociação", "Rep_B"]])
    with app.app_context():
        user = db.session.get(User, users["manager"])
        job = services.store_upload(io.BytesIO(content), "o.csv", user=user,
                                    kind="opportunities")
        importer = services.get_importer("opportunities")
        choices = services.value_choices(job, importer, job.mapping)
        db.session.remove()
    by_field = {f.name: (codes, values) for f, codes, values in choices}
    assert "Negociação" in [code for code, _label in by_field["stage"][0]]
    assert by_field["owner"][1][0].text == "Rep_B"
    result = run_import(app, users["manager"], "opportunities", content,
                        values={"stage": {"Em negociação": "Negociação"},
                                "owner": {"Rep_B": "rep_b"}})
    assert (result.status, result.created) == (DONE, 1), result.rejects
    (opportunity,) = _opportunities(app).values()
    assert opportunity.stage_id == pipeline["stages"]["Negociação"]
    assert opportunity.owner_id == users["rep_b"]


def test_the_xlsx_column_letters_in_messages_match_the_sheet():
    assert get_column_letter(27) == "AA"  # the same letters sheet.py writes
    from erp.imports.sheet import column_index, column_letters

    assert column_letters(27) == "AA" and column_index("AA") == 27


def test_category_and_contact_medium_values_are_mapped(app, users, make_account, pipeline):
    from modules.crm.models import Category

    with app.app_context():
        db.session.add(Category(name="Indústria"))
        db.session.commit()
        db.session.remove()
    accounts_file = csv_bytes([["Razão Social", "CNPJ", "Segmento"],
                               ["Alfa Ltda", make_cnpj(1), "Fábricas"],
                               ["Beta Ltda", make_cnpj(2), "industria"]])
    result = run_import(app, users["rep_a"], "accounts", accounts_file,
                        values={"category": {"Fábricas": "Indústria"}})
    assert (result.status, result.created) == (DONE, 2), result.rejects
    assert {a.category_id is not None for a in accounts(app).values()} == {True}
    make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_B)
    opportunities_file = csv_bytes([["Título", "Conta", "Origem"],
                                    ["Licenças", "Acme Ltda", "Google Ads"],
                                    ["Suporte", "Acme Ltda", "Indicação"]])
    result = run_import(app, users["rep_a"], "opportunities", opportunities_file,
                        values={"contact_medium": {"Google Ads": "ad"}})
    assert (result.status, result.created) == (DONE, 2), result.rejects
    assert {o.contact_medium for o in _opportunities(app).values()} == {"ad", "referral"}


def test_an_import_that_updated_opportunities_can_be_undone(app, users, make_account,
                                                           pipeline):
    make_account("rep_a", legal_name="Acme Ltda", tax_id=CNPJ_B)
    run_import(app, users["rep_a"], "opportunities",
               csv_bytes([OPP_HEADER, ["OP-1", "Licenças", "Acme Ltda", "", "100,00"]]))
    result = run_import(app, users["rep_a"], "opportunities",
                        csv_bytes([OPP_HEADER, ["OP-1", "Licenças 2027", "Acme Ltda",
                                                "Negociação", "150,00"]]))
    assert (result.status, result.updated) == (DONE, 1)
    with app.app_context():
        job = db.session.get(ImportJob, result.id)
        assert services.undo_blockers(job) == []
        services.undo_import(job)
        db.session.remove()
    (opportunity,) = _opportunities(app).values()
    assert opportunity.title == "Licenças" and str(opportunity.estimated_value) == "100.00"
    assert opportunity.stage_id == pipeline["stages"]["Prospecção"]
    with app.app_context():
        from modules.crm.models import OpportunityItem

        items = db.session.scalars(select(OpportunityItem.unit_price)).all()
        db.session.remove()
    assert [str(price) for price in items] == ["100.00"]  # its item as it was
