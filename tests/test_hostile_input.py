"""No 500 from hostile input, anywhere (issue 13).

Every GET route of the app (taken from the URL map, so a new route is swept too) is
requested, on the demo data, as the admin and as a rep, first plainly (recording which
query arguments the view reads), then with each of those arguments, and every argument
name that usually holds a number, set to a hostile integer: 2⁶³-1, 2⁶³, 2⁶⁴, 10²⁰,
negative, not a number, and a digit Python's isdigit() accepts but int() refuses.
The answer may be anything but a server error; a NUL in an argument is a 400.

Then the other hostile inputs of the issue: JSON nested 50,000 deep on every API write,
and NUL (and other control characters) typed into web forms.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import ImmutableMultiDict

from erp.api.tokens import create_token
from erp.auth.models import User
from erp.auth.seed import ensure_default_roles, grant_module_defaults
from erp.db import db
from erp.demo import load_demo
from modules.crm.kinds import AccountTab
from tests.conftest import CSRF_RE, login_as

HOSTILE = [str(2**63 - 1), str(2**63), str(2**64), "-1", str(-(2**63) - 1), "abc", "²"]
# Argument names that hold a number somewhere in the app: tried on every route, read or not
# (a view that copies request.args, or hands it to a form, reads them unseen).
NUMERIC_NAMES = ("page", "per_page", "page_size", "limit", "after", "id", "tag", "tag_id",
                 "account", "account_id", "contact", "contact_id", "stage", "stage_id",
                 "owner", "owner_id", "user_id", "team", "category", "category_id", "draft",
                 "opportunity_id", "quote_id", "order_id", "product_id", "reason", "before")
SKIPPED = ("api-docs.openapi_json", "auth.logout")


class _Recording(ImmutableMultiDict):
    """Query arguments that remember which names a view asked for."""

    read: set[str] = set()

    def get(self, key, default=None, type=None):  # noqa: A002
        _Recording.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        _Recording.read.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        _Recording.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _Recording.read.add(key)
        return super().__contains__(key)


def _first_ids(app) -> dict[str, int | None]:
    """The smallest id of every table (ids do not restart at 1 on PostgreSQL)."""
    with app.app_context():
        ids = {name: db.session.scalar(db.select(db.func.min(table.c.id)))
               for name, table in db.metadata.tables.items() if "id" in table.c}
        db.session.remove()
    return ids


def _record_id(ids: dict, endpoint: str, argument: str) -> int:
    """A record for ``<int:order_id>`` of ``sales.order``: the first of sales_order."""
    noun, module = argument.removesuffix("_id"), endpoint.split(".")[0].split("_")[0]
    tables = [name for name in ids if name.endswith("_" + noun)]
    tables = [name for name in tables if name.startswith(module.split("-")[0])] or tables
    return (ids[tables[0]] if tables else None) or 1


def _urls(app) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route, with the demo's first record for each id."""
    registry = app.extensions["erp"]
    ids = _first_ids(app)
    tabs = [tab.key for tab in registry.items(AccountTab, check_permission=False)]
    urls = []
    for rule in app.url_map.iter_rules():
        if ("GET" not in rule.methods or rule.endpoint in SKIPPED
                or rule.endpoint.rpartition(".")[2] == "static"):  # files, any module's
            continue
        values = {name: _record_id(ids, rule.endpoint, name) for name in rule.arguments
                  if name.endswith("_id")}
        if "export_type" in rule.arguments:
            values["export_type"] = "csv"
        if "origin" in rule.arguments:  # a receivable's origin document, e.g. an invoice's
            values.update(origin="sales.invoice", installment=1)
        if "token" in rule.arguments:  # a calendar feed's: an unknown one (a 404)
            values["token"] = "0" * 43
        if "record_kind" in rule.arguments:  # find duplicates: of accounts or contacts
            values["record_kind"] = "account"
        if "section" in rule.arguments:  # an agenda section's own pages
            values["section"] = "overdue"
        if "key" in rule.arguments:
            for key in tabs:
                urls.append((rule.endpoint, rule.build({**values, "key": key})[1]))
            continue
        if set(values) != set(rule.arguments):
            raise AssertionError(f"{rule.rule}: say which values to try for its arguments")
        urls.append((rule.endpoint, rule.build(values)[1]))
    return sorted(urls)


@pytest.mark.slow  # a few minutes: every GET route, two users, each argument, each value
def test_no_query_argument_makes_any_route_fail(app, make_app, monkeypatch):
    # An app of its own: a rate limit the sweep does not reach (it is not what is tested),
    # and a 500 answered as in production, not raised.
    app = make_app(API_RATE_LIMIT="1000000 per minute", PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    with app.app_context():
        roles = ensure_default_roles()  # with the permissions `flask setup` grants
        for module in app.extensions["erp_modules"]:
            grant_module_defaults(app.extensions["erp"], module.name, roles)
        load_demo()
        ids = {u.username: u.id for u in db.session.scalars(db.select(User))}
        _row, token = create_token(db.session.get(User, ids["admin"]), "sweep")
        _row, rep_token = create_token(db.session.get(User, ids["ana"]), "sweep")
        db.session.remove()
    monkeypatch.setattr(app.request_class, "parameter_storage_class", _Recording)
    failures, statuses = [], {}
    urls = _urls(app)
    assert len(urls) > 100
    for who, api_token in (("admin", token), ("ana", rep_token)):
        login_as(client, ids[who])
        headers = {"Authorization": f"Bearer {api_token}"}
        for _endpoint, url in urls:
            if who != "admin" and url.startswith("/admin/"):
                continue
            _Recording.read = set()
            plain = client.get(url, headers=headers)
            statuses[who, url] = plain.status_code
            if plain.status_code >= 500:
                failures.append((who, url, "", plain.status_code))
                continue
            names = sorted(_Recording.read | set(NUMERIC_NAMES))
            for value in HOSTILE:
                # Each name alone (a view may stop at the first bad one), then all at once.
                for query in [{name: value} for name in _Recording.read] + [
                        dict.fromkeys(names, value)]:
                    response = client.get(url, query_string=query, headers=headers)
                    if response.status_code >= 500:
                        failures.append((who, url, query if len(query) == 1 else "all",
                                         response.status_code))
            # A NUL in any argument: refused up front (400; the API says which, 422).
            if _Recording.read:
                response = client.get(url, headers=headers,
                                      query_string=dict.fromkeys(_Recording.read, "a\x00b"))
                if response.status_code not in ((422, 400) if url.startswith("/api/")
                                                else (400,)):
                    failures.append((who, url, "NUL", response.status_code))
    assert not failures, "\n".join(map(str, failures))
    # The sweep reached the views (not only login pages and 403s), for both users.
    for who in ("admin", "ana"):
        opened = [url for (user, url), status in statuses.items() if user == who and status == 200]
        assert len(opened) > (100 if who == "admin" else 40), (who, len(opened))


@pytest.mark.parametrize("value", [*HOSTILE, "99999999999999999999", "1.5"])
def test_the_issue_urls(app, client, users, value, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    login_as(client, users["admin"])
    for url in ("/crm/accounts?page={}", "/crm/contacts?page={}", "/crm/accounts?tag={}",
                "/crm/contacts/new?account={}", "/crm/opportunities/new?account_id={}",
                "/sales/quotes/new?account_id={}", "/service/orders/new?account_id={}"):
        response = client.get(url.format(value))
        assert response.status_code < 500, url


# --- JSON nested too deep --------------------------------------------------------------------


def _api_writes(app) -> list[tuple[str, str]]:
    """(method, URL) of every API route that reads a body."""
    writes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PATCH", "PUT"}):
            writes.append((method, rule.build(dict.fromkeys(rule.arguments, 1))[1]))
    return writes


@pytest.mark.parametrize("body", ["[" * 50_000, '{"a":' * 50_000 + "1" + "}" * 50_000,
                                  '{"legal_name": ' + "[" * 33 + "]" * 33 + "}"])
def test_json_nested_too_deep_is_a_400_on_every_api_write(app, client, users, body,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    with app.app_context():
        _row, token = create_token(db.session.get(User, users["admin"]), "deep")
        db.session.remove()
    writes = _api_writes(app)
    assert len(writes) > 10
    for method, url in writes:
        response = client.open(url, method=method, data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 400, (method, url, response.status_code)
        assert response.json["error"]["code"] == "malformed_body", (method, url)


def test_json_nesting_up_to_the_limit_is_parsed(app, client, users):
    from erp.api.limits import MAX_JSON_DEPTH, json_too_deep

    with app.app_context():
        _row, token = create_token(db.session.get(User, users["rep_a"]), "deep")
        db.session.remove()
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"},
                           json={"legal_name": "Rasa", "notes": "[[[[ {{{{ in text", "x": []},
                           )
    assert response.status_code == 422  # parsed: "x" is an unknown field, not a 400
    assert set(response.json["error"]["fields"]) == {"x"}
    assert not json_too_deep('{"a": ' + nested + "}")
    assert json_too_deep('{"a": [' + nested + "]}")
    assert not json_too_deep('"' + "[" * 1000 + '"')  # brackets inside a string are text
    assert not json_too_deep('["\\"' + "[" * 1000 + '"]')  # escaped quote, still a string
    assert json_too_deep(b"[" * 10**6)


# --- control characters in web forms ---------------------------------------------------------


def _form_post(client, url, data):
    page = client.get(url)
    assert page.status_code == 200, url
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **data})


@pytest.mark.parametrize("bad", ["Nul\x00Ltda", "Esc\x1b[31mLtda", "Bell\x07", "Del\x7f",
                                 "Two\nlines", "Tab\there", "Cr\rhere"])
def test_control_characters_in_a_one_line_field_are_a_form_error(app, client, users, bad):
    from modules.crm.models import Account

    login_as(client, users["rep_a"])
    response = _form_post(client, "/crm/accounts/new", {
        "person_type": "PJ", "legal_name": bad, "owner_id": str(users["rep_a"]),
        "lifecycle": "prospect"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Remove the control characters" in html and 'id="legal_name"' in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Account.id))) == 0


def test_a_multi_line_field_keeps_line_breaks_and_tabs_but_not_nul(app, client, users):
    from modules.crm.models import Account

    login_as(client, users["rep_a"])
    fields = {"person_type": "PJ", "legal_name": "Linhas Ltda.", "owner_id": str(users["rep_a"]),
              "lifecycle": "prospect"}
    refused = _form_post(client, "/crm/accounts/new", {**fields, "notes": "a\x00b"})
    assert refused.status_code == 422 and "Remove the control characters" in refused.get_data(
        as_text=True)
    saved = _form_post(client, "/crm/accounts/new", {**fields, "notes": "one\r\ntwo\tthree"})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.scalars(db.select(Account.notes)).one() == "one\r\ntwo\tthree"


def test_the_rule_covers_every_form_the_admin_and_sub_forms_included(app, client, users):
    """The filter is on every field as WTForms builds it: a module's form, a plain sub-form
    of a FieldList and Flask-Admin's generated forms get it without asking."""
    from wtforms import Form, StringField, TextAreaField


    class Anything(Form):
        name = StringField()
        notes = TextAreaField()

    form = Anything(data={"name": "a\x00", "notes": "x\ny"})
    assert not form.validate()
    assert form.errors == {"name": [str(form.name.errors[0])]}
    assert getattr(form.name.validators[0], "erp_text_rule", False)
    login_as(client, users["admin"])
    response = _form_post(client, "/admin/team/new/", {"name": "Equipe\x00"})
    assert response.status_code == 200 and "Remove the control characters" in response.get_data(
        as_text=True)


def test_raw_form_text_is_checked_by_the_services_too(app, client, users, make_account):
    """Text a view reads from request.form directly (a contact's role at an account)."""
    from modules.crm.models import Contact

    account_id = make_account("rep_a")
    login_as(client, users["rep_a"])
    url = f"/crm/contacts/new?account_id={account_id}"
    response = _form_post(client, url, {"name": "Ana", "role": "Compras\x00"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Contact.id))) == 0
