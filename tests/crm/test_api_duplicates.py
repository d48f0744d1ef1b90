"""The find-duplicates scan and "not a duplicate" in the JSON API (issue 18, point 1):
the page's pairs, paged by cursor, scoped, for managers; dismissals for good."""

from __future__ import annotations

from tests.crm.api_support import Api, token_for
from tests.crm.test_find_duplicates import pairs  # noqa: F401 (the fixture)


def _all(api, path: str, limit: int) -> tuple[list[dict], int]:
    items, after, pages = [], None, 0
    while True:
        response = api.get(path, query_string={"limit": limit, **(
            {"after": after} if after else {})})
        assert response.status_code == 200, response.json
        items += response.json["items"]
        pages += 1
        after = response.json["next_cursor"]
        if after is None:
            return items, pages


def test_scan_pages_ranked_and_scoped(app, client, users, pairs):  # noqa: F811
    admin = Api(client, token_for(app, users["admin"]))
    items, pages = _all(admin, "/duplicates/accounts", 1)
    assert [(i["reason"], i["first_id"], i["second_id"]) for i in items] == [
        ("email", pairs["email1"], pairs["email2"]), ("phone", pairs["phone1"], pairs["phone2"]),
        ("name", pairs["name1"], pairs["name2"]), ("tax_id_root", pairs["root1"], pairs["root2"])]
    assert pages >= 4
    assert [i["mergeable"] for i in items] == [True, True, True, False]
    assert items[3]["merge_url"] is None and items[1]["key"] == "+551133334444"
    assert items[2]["first_name"] == "Teste Alfanumérico Ltda"
    manager = Api(client, token_for(app, users["manager"]))
    reasons = [i["reason"] for i in manager.get("/duplicates/accounts").json["items"]]
    assert reasons == ["email", "name", "tax_id_root"]  # rep_c's phone pair: out of scope
    rep = Api(client, token_for(app, users["rep_a"]))
    assert rep.get("/duplicates/accounts").status_code == 403


def test_bad_arguments_are_a_422(app, client, users):
    admin = Api(client, token_for(app, users["admin"]))
    for query in ({"limit": 0}, {"limit": 101}, {"after": "not a cursor!"}, {"x": 1}):
        assert admin.get("/duplicates/accounts", query_string=query).status_code == 422, query


def test_dismiss_for_good_scoped(app, client, users, pairs):  # noqa: F811
    manager = Api(client, token_for(app, users["manager"]))
    url = "/duplicates/accounts/dismissals"
    body = {"first_id": pairs["email2"], "second_id": pairs["email1"]}
    created = manager.post(url, json=body)
    assert created.status_code == 201
    assert created.json == {"low_id": pairs["email1"], "high_id": pairs["email2"],
                            "created": True}
    assert manager.post(url, json=body).json["created"] is False
    reasons = [i["reason"] for i in manager.get("/duplicates/accounts").json["items"]]
    assert "email" not in reasons
    out = manager.post(url, json={"first_id": pairs["phone1"], "second_id": pairs["phone2"]})
    assert out.status_code == 404  # rep_c's account
    same = manager.post(url, json={"first_id": pairs["name1"], "second_id": pairs["name1"]})
    assert same.status_code == 422
    assert manager.post(url, json={"first_id": 1}).status_code == 422


def test_contacts_scan_and_dismiss(app, client, users, make_contact):
    ana = make_contact("rep_a", name="Ana", email="ana@x.com")
    ana2 = make_contact("rep_b", name="Ana B.", email="ana@x.com")
    admin = Api(client, token_for(app, users["admin"]))
    items = admin.get("/duplicates/contacts").json["items"]
    assert [(i["first_id"], i["second_id"], i["first_name"]) for i in items] == [
        (ana, ana2, "Ana")]
    assert admin.post("/duplicates/contacts/dismissals",
                      json={"first_id": ana, "second_id": ana2}).status_code == 201
    assert admin.get("/duplicates/contacts").json["items"] == []
