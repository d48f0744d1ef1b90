"""The example module of docs/modules.md — Notes, in examples/notes — is a real third-party
module: a package of its own, installed with pip (``make test`` runs ``pip install -e
examples/notes``), found by its entry point, and it shows on CRM's account page (tab, stat,
Create entry, timeline kind) exactly as the contract says. Its own tests are in
examples/notes/tests, run from that folder on the test kit alone."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from erp.auth.models import User
from erp.config import PROJECT_ROOT
from erp.db import db
from erp.registry import AdminView, ApiBlueprint, Permission, TimelineSource, WebBlueprint
from modules.crm.kinds import AccountStat, AccountTab, CreateAction
from modules.crm.models import Account
from modules.crm.services.accounts import create_account
from tests.conftest import csrf_token, login_as

NOTES_PROJECT = PROJECT_ROOT / "examples" / "notes"
NOTES_DIR = NOTES_PROJECT / "mosaic_notes"
SHIPPED = ["crm", "finance", "sales", "service"]
MARKERS = ('data-tab="notes"', 'data-stat="notes.last_note"', 'data-create="notes.new_note"',
           'value="notes.note"')


def notes_module(app, name: str):
    """One of the module's files, as the loader imported it (``mosaic_notes.*``)."""
    package = app.extensions["erp_available_modules"]["notes"].package
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.fixture
def account(app, users):
    """An account owned by rep_a; returns its id."""
    with app.app_context():
        owner = db.session.get(User, users["rep_a"])
        account_id = create_account({"legal_name": "Anotada Ltda."}, user=owner,
                                    confirm_duplicates=True).id
        db.session.remove()
    return account_id


def add_note(app, users, account_id: int, body: str, author: str = "rep_a") -> int:
    with app.app_context():
        account = db.session.get(Account, account_id)
        user = db.session.get(User, users[author])
        note_id = notes_module(app, "services").add_note(account, body, user=user).id
        db.session.remove()
    return note_id


def account_page(client, account_id: int) -> str:
    """The page (with its first tab, the timeline) and the timeline fragment, as one text."""
    page = client.get(f"/crm/accounts/{account_id}")
    assert page.status_code == 200
    timeline = client.get(f"/crm/accounts/{account_id}/tabs/timeline")
    assert timeline.status_code == 200
    return page.get_data(as_text=True) + timeline.get_data(as_text=True)


# --- loading ---------------------------------------------------------------------------------


def test_notes_is_loaded_from_its_installed_package_as_a_third_party_module(app):
    loaded = {m.name: m for m in app.extensions["erp_modules"]}
    notes = loaded["notes"]
    assert notes.package.__name__ == "mosaic_notes"
    assert notes.origin == "entry point:mosaic-notes"
    # Installed by pip (make test puts it in .venv/test-site): its files are the source's.
    sources = sorted(path.relative_to(NOTES_DIR) for path in NOTES_DIR.rglob("*")
                     if path.is_file() and "__pycache__" not in path.parts)
    assert sources and all((notes.path / name).read_bytes() == (NOTES_DIR / name).read_bytes()
                           for name in sources), notes.path
    assert notes.manifest.depends == ("crm",) and notes.depth == 1
    assert notes.migrations_dir == notes.path / "migrations"
    assert notes.translations_dir == notes.path / "translations"  # its own pt-BR catalog
    registry = app.extensions["erp"]
    contributed = {AccountTab: "notes", TimelineSource: "notes.notes",
                   AccountStat: "notes.last_note", CreateAction: "notes.new_note",
                   Permission: "notes.write", WebBlueprint: "notes", ApiBlueprint: "notes_api",
                   AdminView: "notes_note"}
    for kind, key in contributed.items():
        assert registry.module_of(kind, key) == "notes", (kind, key)
    # The host knows nothing of it: it came in through its entry point alone.
    for source in (PROJECT_ROOT / "erp").rglob("*.py"):
        assert "mosaic_notes" not in source.read_text(encoding="utf-8"), source
    assert not list((PROJECT_ROOT / "tests").rglob("notes/__init__.py"))  # no copy left


def test_notes_is_a_standalone_package():
    """What pip needs to install it from its folder, and its own tests with no conftest.py."""
    import tomllib

    project = tomllib.loads((NOTES_PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["erp.modules"] == {"notes": "mosaic_notes"}
    data = project["tool"]["setuptools"]["package-data"]["mosaic_notes"]
    for needed in ("templates/notes/tab.html", "migrations/0001_notes.py",
                   "translations/pt_BR/LC_MESSAGES/messages.po"):
        assert any(Path(needed).match(pattern) for pattern in data), needed
    assert project["tool"]["pytest"]["ini_options"]["erp_modules"] == ["notes"]
    assert (NOTES_PROJECT / "tests" / "test_notes.py").is_file()
    assert not list(NOTES_PROJECT.rglob("conftest.py"))


def test_default_permissions_go_to_the_sales_roles(app, users):
    with app.app_context():
        can = {who: db.session.get(User, users[who]).has_permission("notes.read")
               for who in ("manager", "rep_a", "finance", "service", "nobody")}
    assert can == {"manager": True, "rep_a": True, "finance": False, "service": False,
                   "nobody": False}


# --- on the account page ------------------------------------------------------------------------


def test_a_rep_sees_the_tab_the_stat_the_create_entry_and_the_kind(client, users, account):
    login_as(client, users["rep_a"])
    html = account_page(client, account)
    for marker in MARKERS:
        assert marker in html, marker
    tab = client.get(f"/crm/accounts/{account}?tab=notes").get_data(as_text=True)
    assert 'id="panel-notes"' in tab and 'data-count="0"' in tab
    assert "No notes on this account yet." in tab
    assert client.get(f"/crm/accounts/{account}/tabs/notes/count").get_json() == {"count": 0}


def test_writing_a_note_shows_it_in_the_tab_the_stat_and_the_timeline(app, client, users,
                                                                       account):
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-create="notes.new_note"', html).group(1)
    link = link.replace("&amp;", "&")
    assert link.startswith(f"/notes/new?account_id={account}&next=")
    form = client.get(link)
    assert form.status_code == 200 and 'id="note-form"' in form.get_data(as_text=True)

    token = csrf_token(client, link)
    response = client.post(link, data={"csrf_token": token, "body": "Prefers calls after 2 pm."})
    assert response.status_code == 303
    assert response.location == f"/crm/accounts/{account}"  # the page the Create menu was on

    tab = client.get(f"/crm/accounts/{account}?tab=notes").get_data(as_text=True)
    panel = tab[tab.index('id="panel-notes"'):]
    assert "Prefers calls after 2 pm." in panel and 'data-count="1"' in panel
    assert "Note saved." in tab
    assert client.get(f"/crm/accounts/{account}/tabs/notes/count").get_json() == {"count": 1}
    fragment = client.get(f"/crm/accounts/{account}/tabs/notes").get_data(as_text=True)
    assert "<html" not in fragment and 'data-count="1"' in fragment  # a fragment, no layout

    stat = tab[tab.index('data-stat="notes.last_note"'):]
    assert re.search(r"<dd[^>]*>\s*\d\d/\d\d/\d{4}\s*</dd>", stat[:400])  # a date, not "—"

    timeline = client.get(f"/crm/accounts/{account}/tabs/timeline").get_data(as_text=True)
    event = timeline[timeline.index('data-kind="notes.note"'):]
    assert 'data-source="notes.notes"' in event[:100]
    assert "Prefers calls after 2 pm." in event[:800] and "Rep_A" in event[:800]
    only_notes = client.get(f"/crm/accounts/{account}/tabs/timeline?kind=notes.note")
    assert re.findall(r'data-kind="([^"]+)"', only_notes.get_data(as_text=True)) == [
        "notes.note"]


def test_the_form_refuses_an_empty_note_a_missing_token_and_an_unsafe_next(app, client, users,
                                                                         account):
    login_as(client, users["rep_a"])
    url = f"/notes/new?account_id={account}"
    token = csrf_token(client, url)
    assert client.post(url, data={"csrf_token": token, "body": "  "}).status_code == 422
    assert client.post(url, data={"body": "no token"}).status_code == 400
    response = client.post(url + "&next=https://evil.example/",
                           data={"csrf_token": token, "body": "Safe"})
    assert response.status_code == 303
    assert response.location == f"/crm/accounts/{account}?tab=notes"
    with app.app_context():
        bodies = db.session.scalars(db.select(notes_module(app, "models").Note.body)).all()
    assert bodies == ["Safe"]


def test_record_scope_applies_to_the_form(client, users, account):
    login_as(client, users["rep_c"])  # another team's rep: rep_a's account is out of scope
    assert client.get(f"/notes/new?account_id={account}").status_code == 404
    assert client.get("/notes/new?account_id=nope").status_code == 404


@pytest.mark.parametrize("who", ["finance", "service"])
def test_users_without_notes_read_see_none_of_it(app, client, users, account, who):
    add_note(app, users, account, "Only for sales.")
    login_as(client, users[who])
    html = account_page(client, account)  # they may read CRM, so the page itself opens
    for marker in MARKERS:
        assert marker not in html, marker
    assert "Only for sales." not in html
    assert client.get(f"/crm/accounts/{account}/tabs/notes").status_code == 404
    assert client.get(f"/notes/new?account_id={account}").status_code == 403


def test_without_the_module_the_page_has_no_trace_of_it(app, make_app, users, account):
    add_note(app, users, account, "Written while Notes was enabled.")
    without = make_app(ERP_MODULES=SHIPPED)
    assert "notes" not in {m.name for m in without.extensions["erp_modules"]}
    client = without.test_client()
    for who in ("rep_a", "admin"):
        login_as(client, users[who])
        html = account_page(client, account)
        html += client.get(f"/crm/accounts/{account}?tab=notes").get_data(as_text=True)
        for marker in MARKERS:
            assert marker not in html, (who, marker)
        assert "Written while Notes was enabled." not in html
        assert "notes.note" not in html and "/notes/new" not in html
        assert client.get(f"/notes/new?account_id={account}").status_code == 404
        assert client.get(f"/crm/accounts/{account}/tabs/notes").status_code == 404


def test_the_signal_tells_listeners_about_a_new_note(app, users, account):
    received = []

    def listener(note, user):
        received.append((note.body, user.username))

    note_added = notes_module(app, "signals").note_added
    note_added.connect(listener)
    try:
        add_note(app, users, account, "Heard.")
    finally:
        note_added.disconnect(listener)
    assert received == [("Heard.", "rep_a")]


def test_admins_manage_notes_in_the_admin(app, client, users, account):
    add_note(app, users, account, "Fix my typo.")
    login_as(client, users["admin"])
    listing = client.get("/admin/notes_note/")
    assert listing.status_code == 200 and "Fix my typo." in listing.get_data(as_text=True)
    login_as(client, users["rep_a"])
    assert client.get("/admin/notes_note/").status_code == 403


# --- the documentation quotes this module's real code -------------------------------------------

DOC = PROJECT_ROOT / "docs" / "modules.md"
# A quoted file starts with its path: "# path" (Python, TOML) or "{# path #}" (a template).
QUOTE_RE = re.compile(r"```(?:python|jinja|toml)\n(?:# |\{# )(examples/notes/\S+?)(?: #\})?\n"
                      r"(.*?)```", re.DOTALL)


def test_the_guide_quotes_the_example_module_as_it_is():
    text = DOC.read_text(encoding="utf-8")
    quotes = QUOTE_RE.findall(text)
    quoted_files = {path for path, _code in quotes}
    notes = "examples/notes/mosaic_notes/"
    assert {notes + "__init__.py", notes + "models.py", notes + "account_page.py",
            notes + "views.py", notes + "migrations/0001_notes.py",
            notes + "templates/notes/tab.html", "examples/notes/pyproject.toml",
            "examples/notes/tests/test_notes.py"} <= quoted_files
    for path, code in quotes:
        source = (PROJECT_ROOT / path).read_text(encoding="utf-8")
        assert code in source, f"docs/modules.md quotes {path}, which no longer reads so"
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/modules.md" in readme
