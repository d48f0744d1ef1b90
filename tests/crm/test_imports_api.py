"""Imports over the JSON API: the same services and rules as the pages and the command."""

from __future__ import annotations

import csv
import io
import time

import pytest

from erp.api.tokens import create_token
from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from tests.erp.importing import (
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
)

pytestmark = pytest.mark.usefixtures("import_dir")

HEADER = ["Razão Social", "CNPJ"]


def _token(app, user_id: int) -> dict:
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "imports")
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def _upload(client, headers, content: bytes, name="contas.csv", **form):
    data = {"kind": "accounts", "file": (io.BytesIO(content), name), **form}
    return client.post("/api/v1/imports", data=data, headers=headers,
                       content_type="multipart/form-data")


def _finish(client, headers, job_id: int, timeout: float = 60) -> dict:
    """Poll the job, as an API client would, until it has finished."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/imports/{job_id}", headers=headers).json
        if body["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert body["finished"], body
    return body


def test_an_upload_imports_and_reports_its_counts(app, client, users):
    headers = _token(app, users["rep_a"])
    content = csv_bytes([HEADER, ["Alfa Ltda", make_cnpj(1)],
                         ["Beta Ltda", make_cnpj(2)]])
    response = _upload(client, headers, content)
    assert response.status_code == 202, response.json
    job = response.json
    assert response.headers["Location"].endswith(f"/api/v1/imports/{job['id']}")
    assert job["mapping"]["legal_name"] == 0 and job["mapping"]["tax_id"] == 1
    done = _finish(client, headers, job["id"])
    assert (done["status"], done["created_rows"], done["rejected_rows"]) == ("done", 2, 0)
    assert done["rejected_url"] is None
    assert count(app, Account) == 2


def test_one_bad_row_rejects_the_file_and_the_rejects_come_as_csv(app, client, users):
    headers = _token(app, users["rep_a"])
    content = csv_bytes([HEADER, ["Alfa Ltda", make_cnpj(1)],
                         ["Beta Ltda", "11.111.111/1111-11"]])
    job = _upload(client, headers, content).json
    done = _finish(client, headers, job["id"])
    assert done["status"] == "rejected" and done["rejected_rows"] == 1
    assert count(app, Account) == 0  # all or nothing
    rejected = client.get(done["rejected_url"], headers=headers)
    assert rejected.status_code == 200 and rejected.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(rejected.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][-1].lower() in {"reason", "motivo"} and rows[1][0] == "Beta Ltda"


def test_skip_invalid_imports_the_good_rows(app, client, users):
    headers = _token(app, users["rep_a"])
    content = csv_bytes([HEADER, ["Alfa Ltda", make_cnpj(1)],
                         ["Beta Ltda", "11.111.111/1111-11"]])
    job = _upload(client, headers, content, skip_invalid="true").json
    done = _finish(client, headers, job["id"])
    assert (done["status"], done["created_rows"], done["rejected_rows"]) == ("done", 1, 1)
    assert count(app, Account) == 1


def test_a_mapping_can_name_headers_or_indexes(app, client, users):
    headers = _token(app, users["rep_a"])
    content = csv_bytes([["Nome", "Documento"], ["Alfa Ltda", make_cnpj(1)]])
    mapping = '{"legal_name": "Nome", "tax_id": 1}'
    job = _upload(client, headers, content, mapping=mapping).json
    assert job["mapping"] == {"legal_name": 0, "tax_id": 1}
    assert _finish(client, headers, job["id"])["created_rows"] == 1


@pytest.mark.parametrize("mapping", ["not json", "[1, 2]", '{"legal_name": "Missing"}',
                                     '{"legal_name": 7}'])
def test_a_bad_mapping_is_422_and_nothing_runs(app, client, users, mapping):
    headers = _token(app, users["rep_a"])
    content = csv_bytes([HEADER, ["Alfa Ltda", make_cnpj(1)]])
    response = _upload(client, headers, content, mapping=mapping)
    assert response.status_code == 422
    assert "mapping" in response.json["error"]["fields"]
    assert count(app, Account) == 0


def test_unusable_uploads_get_clear_4xx(app, client, users):
    headers = _token(app, users["rep_a"])
    empty = _upload(client, headers, b"")
    assert empty.status_code == 422 and empty.json["error"]["code"] == "import_refused"
    no_file = client.post("/api/v1/imports", data={"kind": "accounts"}, headers=headers,
                          content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.json["error"]["fields"]
    text_as_file = client.post("/api/v1/imports", data={"kind": "accounts", "file": "x"},
                               headers=headers, content_type="multipart/form-data")
    assert text_as_file.status_code == 422
    unknown_kind = _upload(client, headers, csv_bytes([HEADER]), kind="invoices")
    assert unknown_kind.status_code == 403


def test_the_import_size_limit_applies_not_the_api_body_limit(make_app, users, import_dir):
    app = make_app(API_MAX_BODY_BYTES=200, IMPORT_MAX_BYTES=5000, IMPORT_FOLDER=str(import_dir))
    client = app.test_client()
    headers = _token(app, users["rep_a"])
    rows = [HEADER] + [[f"Conta {n} Ltda", make_cnpj(n)] for n in range(1, 40)]
    accepted = _upload(client, headers, csv_bytes(rows[:10]))
    assert accepted.status_code == 202  # over the API's 200 bytes, under the import's limit
    _finish(client, headers, accepted.json["id"])
    refused = _upload(client, headers, csv_bytes(rows * 6))
    assert refused.status_code == 413


def test_permission_and_ownership(app, client, users):
    owner = _token(app, users["rep_a"])
    job = _upload(client, owner, csv_bytes([HEADER, ["Alfa Ltda", make_cnpj(1)]]))
    job_id = job.json["id"]
    _finish(client, owner, job_id)
    other = _token(app, users["rep_b"])
    assert client.get(f"/api/v1/imports/{job_id}", headers=other).status_code == 404
    admin = _token(app, users["admin"])
    assert client.get(f"/api/v1/imports/{job_id}", headers=admin).status_code == 200
    clerk = _token(app, users["finance"])  # may read the CRM, not write it
    refused = _upload(client, clerk, csv_bytes([HEADER]))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/imports/{job_id}", headers=clerk).status_code == 403
    assert client.get(f"/api/v1/imports/{job_id}").status_code == 401
