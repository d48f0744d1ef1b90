"""ETag and If-Match on the API (issue 13): a record's version is its ETag; a PATCH with an
If-Match that is no longer current is refused (412 stale_version) and changes nothing."""

from __future__ import annotations

import pytest

from tests.crm.api_support import api_as, error_of


@pytest.fixture
def records(make_account, make_contact, make_opportunity):
    account = make_account("rep_a", legal_name="Versionada Ltda.")
    return {"accounts": account, "contacts": make_contact("rep_a", name="Ana"),
            "opportunities": make_opportunity(account, "rep_a")}


FIELD = {"accounts": "city", "contacts": "position", "opportunities": "title"}


@pytest.mark.parametrize("kind", sorted(FIELD))
def test_get_answers_the_version_as_etag_and_if_match_refuses_stale_writes(
        app, client, users, records, kind):
    api = api_as(app, client, users, "rep_a")
    url, field = f"/{kind}/{records[kind]}", FIELD[kind]
    read = api.get(url)
    assert read.status_code == 200
    version = read.json["version"]
    assert read.headers["ETag"] == f'"{version}"'

    first = api.patch(url, json={field: "Primeira"}, headers={"If-Match": f'"{version}"'})
    assert first.status_code == 200, first.json
    assert first.headers["ETag"] == f'"{version + 1}"' == f'"{first.json["version"]}"'

    stale = api.patch(url, json={field: "Segunda"}, headers={"If-Match": f'"{version}"'})
    error = error_of(stale, 412, "stale_version")
    assert error["current_version"] == version + 1
    assert stale.headers["ETag"] == f'"{version + 1}"'
    assert api.get(url).json[field] == "Primeira"  # nothing changed

    for matching in ('"{}"', '"0", "{}"', "*"):  # the current version, in a list, any
        current = api.get(url).json["version"]
        again = api.patch(url, json={field: f"Outra {current}"},
                          headers={"If-Match": matching.format(current)})
        assert again.status_code == 200, (matching, again.json)
    weak = api.patch(url, json={field: "Fraca"}, headers={
        "If-Match": "W/" + api.get(url).headers["ETag"]})
    error_of(weak, 412, "stale_version")  # If-Match compares strongly


def test_without_if_match_the_body_version_and_last_write_rules_stay(app, client, users,
                                                                     records):
    api = api_as(app, client, users, "rep_a")
    url = f"/accounts/{records['accounts']}"
    assert api.patch(url, json={"city": "A"}).status_code == 200  # neither: applied
    error_of(api.patch(url, json={"version": 1, "city": "B"}), 409, "stale_version")
    created = api.post("/accounts", json={"legal_name": "Nova Ltda."})
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'


def test_the_openapi_document_describes_the_412(app, client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/accounts/{account_id}", "/api/v1/contacts/{contact_id}",
                 "/api/v1/opportunities/{opportunity_id}"):
        patch = spec["paths"][path]["patch"]
        assert "412" in patch["responses"] and "If-Match" in patch["description"]
