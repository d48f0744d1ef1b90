"""Ids beyond the database's integer range are "not found", not a database error."""

import pytest
from werkzeug.exceptions import NotFound

from erp.db import MAX_ID
from tests.conftest import csrf_token, login_as


def test_a_huge_id_in_a_url_is_404(client, users):
    login_as(client, users["admin"])
    assert client.get(f"/crm/accounts/{MAX_ID + 1}").status_code == 404
    assert client.get("/crm/accounts/99999999999999999999").status_code == 404
    token = csrf_token(client, "/auth/api-tokens/")
    response = client.post(f"/auth/api-tokens/{MAX_ID + 1}/revoke", data={"csrf_token": token})
    assert response.status_code == 404


def test_the_largest_id_still_matches_a_route(app):
    urls = app.url_map.bind("localhost")
    endpoint, args = urls.match(f"/crm/accounts/{MAX_ID}")
    assert endpoint == "crm.account" and args == {"account_id": MAX_ID}
    with pytest.raises(NotFound):
        urls.match(f"/crm/accounts/{MAX_ID + 1}")
