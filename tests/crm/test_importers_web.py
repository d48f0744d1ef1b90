"""The import pages: upload -> columns -> preview -> import in the background -> result."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest

from erp.db import db
from erp.imports.models import ImportJob
from modules.crm.models import Account
from tests.conftest import csrf_token, login_as
from tests.erp.importing import (
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)

pytestmark = pytest.mark.usefixtures("import_dir")

CNPJ_A, CNPJ_B = make_cnpj(11222333), make_cnpj(44555666)
FILE = csv_bytes([["Razão Social", "CNPJ", "Cidade", "Coluna livre"],
                  ["Web Ltda", CNPJ_A, "Recife", "x"],
                  ["Sem CNPJ Válido", "123", "Natal", "y"],
                  ["Outra Web", CNPJ_B, "Olinda", "z"]], ";", "cp1252")


def upload(client, content: bytes = FILE, name: str = "contas.csv", kind: str = "accounts"):
    token = csrf_token(client, f"/imports/new?kind={kind}")
    return client.post("/imports/new", data={
        "csrf_token": token, "kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


def job_id_from(response) -> int:
    match = re.search(r"/imports/(\d+)/", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def wait_until_finished(client, job_id: int, timeout: float = 20) -> dict:
    """Poll the progress JSON, as the page does, until the background run ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get(f"/imports/{job_id}/progress").get_json()
        if data["finished"]:
            return data
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def mapping_data(page: str) -> dict:
    """The mapping form as the browser would send it: every select's selected option."""
    data = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page,
                                 re.S):
        selected = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)" selected', body)
        data[name] = selected.group(1) if selected else ""
    return data


def test_the_whole_flow_in_the_browser(app, client, users):
    login_as(client, users["rep_a"])
    accounts_page = client.get("/crm/accounts").get_data(as_text=True)
    assert "/imports/new?kind=accounts" in accounts_page  # the list's Import button

    response = upload(client)
    assert response.status_code == 302
    job_id = job_id_from(response)

    page = client.get(f"/imports/{job_id}/mapping").get_data(as_text=True)
    assert "Windows-1252" in page and "Razão Social" in page
    data = mapping_data(page)
    assert data["field_legal_name"] == "0" and data["field_tax_id"] == "1"
    assert data["field_city"] == "2" and data["field_notes"] == ""
    assert data["encoding"] == "cp1252" and data["delimiter"] == ";"
    data["field_notes"] = "3"  # map the free column too
    response = client.post(f"/imports/{job_id}/mapping", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/imports/{job_id}/preview")

    page = client.get(f"/imports/{job_id}/preview").get_data(as_text=True)
    assert "Web Ltda" in page and "Invalid CNPJ" in page
    assert re.search(r"2 valid", page) and re.search(r"1 rejected", page)
    assert count(app, Account) == 0  # the preview writes nothing

    token = csrf_token(client, f"/imports/{job_id}/preview")
    response = client.post(f"/imports/{job_id}/preview",
                           data={"csrf_token": token, "skip_invalid": "y"})
    assert response.headers["Location"].endswith(f"/imports/{job_id}")
    progress = wait_until_finished(client, job_id)
    assert progress == {**progress, "status": "done", "created_rows": 2, "rejected_rows": 1,
                        "percent": 100, "total_rows": 3}

    page = client.get(f"/imports/{job_id}").get_data(as_text=True)
    assert 'data-count="created">2<' in page and 'data-count="rejected">1<' in page
    assert "Sem CNPJ Válido" in page  # the rejected rows, shown
    download = client.get(f"/imports/{job_id}/rejected.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig")),
                            delimiter=";"))
    assert lines[0][-1] == "reason" and lines[1][0] == "Sem CNPJ Válido"
    assert count(app, Account) == 2
    assert "contas.csv" in client.get("/imports/").get_data(as_text=True)


def test_all_or_nothing_then_import_the_valid_rows_only(app, client, users):
    login_as(client, users["rep_a"])
    job_id = job_id_from(upload(client))
    client.post(f"/imports/{job_id}/mapping",
                data=mapping_data(client.get(f"/imports/{job_id}/mapping").get_data(True)))
    token = csrf_token(client, f"/imports/{job_id}/preview")
    client.post(f"/imports/{job_id}/preview", data={"csrf_token": token})
    assert wait_until_finished(client, job_id)["status"] == "rejected"
    assert count(app, Account) == 0
    page = client.get(f"/imports/{job_id}").get_data(as_text=True)
    assert "Nothing was imported" in page and 'id="retry-form"' in page
    token = csrf_token(client, f"/imports/{job_id}")
    client.post(f"/imports/{job_id}/preview", data={"csrf_token": token, "skip_invalid": "y"})
    assert wait_until_finished(client, job_id)["status"] == "done"
    assert count(app, Account) == 2


def test_the_progress_page_works_without_javascript(app, client, users):
    login_as(client, users["rep_a"])
    job_id = job_id_from(upload(client))
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        job.status = "running"
        job.total_rows, job.processed_rows = 3, 1
        db.session.commit()
        db.session.remove()
    page = client.get(f"/imports/{job_id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in page
    assert 'aria-valuenow="33"' in page
    assert client.get(f"/imports/{job_id}/progress").get_json()["percent"] == 33


def test_forms_need_the_csrf_token(app, client, users):
    login_as(client, users["rep_a"])
    response = client.post("/imports/new", data={
        "kind": "accounts", "file": (io.BytesIO(FILE), "contas.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert count(app, ImportJob) == 0
    result = run_import(app, users["rep_a"], "accounts", csv_bytes([["Razão Social"], ["A"]]))
    with app.app_context():
        job = db.session.get(ImportJob, result.id)
        job.status = "ready"
        db.session.commit()
        db.session.remove()
    assert client.post(f"/imports/{result.id}/preview", data={}).status_code == 400


def test_an_oversized_upload_gets_a_message(app, client, users, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 64)
    login_as(client, users["rep_a"])
    response = upload(client)
    assert response.status_code == 400
    assert "The file is larger than" in response.get_data(as_text=True)
    assert count(app, ImportJob) == 0


def test_an_unknown_format_gets_a_message(app, client, users):
    login_as(client, users["rep_a"])
    response = upload(client, b"%PDF-1.4 ...", "contrato.pdf")
    assert response.status_code == 400
    assert "Unknown file type .pdf" in response.get_data(as_text=True)


def test_a_missing_required_column_is_a_form_error(app, client, users):
    login_as(client, users["rep_a"])
    job_id = job_id_from(upload(client))
    data = mapping_data(client.get(f"/imports/{job_id}/mapping").get_data(True))
    data["field_legal_name"] = ""
    response = client.post(f"/imports/{job_id}/mapping", data=data)
    assert response.status_code == 400
    assert "it is required" in response.get_data(as_text=True)


def test_changing_the_delimiter_reads_the_file_again(app, client, users):
    login_as(client, users["rep_a"])
    job_id = job_id_from(upload(client))
    data = mapping_data(client.get(f"/imports/{job_id}/mapping").get_data(True))
    data["delimiter"] = ","
    response = client.post(f"/imports/{job_id}/mapping", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "read again" in page
    assert mapping_data(page)["field_tax_id"] == ""  # one column now: nothing but the name


@pytest.mark.parametrize("who", ["finance", "nobody"])
def test_users_without_crm_write_get_403(app, client, users, who):
    login_as(client, users[who])
    assert client.get("/imports/new?kind=accounts").status_code == 403
    assert client.get("/imports/").status_code == 403
    response = client.post("/imports/new", data={"kind": "accounts"})
    assert response.status_code in (400, 403)  # no CSRF token: refused before the view
    assert count(app, ImportJob) == 0


def test_anonymous_users_are_sent_to_the_login(client, users):
    response = client.get("/imports/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_another_users_job_is_not_found(app, client, users):
    result = run_import(app, users["rep_a"], "accounts",
                        csv_bytes([["Razão Social", "CNPJ"], ["A", "1"]]))
    login_as(client, users["rep_b"])
    for path in ("", "/mapping", "/preview", "/progress", "/rejected.csv"):
        assert client.get(f"/imports/{result.id}{path}").status_code == 404, path
    login_as(client, users["admin"])
    assert client.get(f"/imports/{result.id}").status_code == 200
    assert client.get(f"/imports/{result.id}/rejected.csv").status_code == 200
