"""``flask --app erp module ...`` (erp/module_cli.py), through ``app.test_cli_runner()``, on a
database of its own: install, upgrade, uninstall and upgrade again of the Notes example
leave no table, permission or module row behind; a module whose code is gone is named with
the fix; enable, disable, list, revision, translations and demo."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import inspect, select, text

from erp.auth.models import Role, User
from erp.db import db
from erp.migrate import script_directory
from erp.models import InstalledModule

SHIPPED = {"crm", "finance", "sales", "service"}


@pytest.fixture
def cli_app(make_app, empty_database_url, tmp_path):
    """``cli_app(**settings)``: an app on a new database, whose disabled modules are kept in
    a file of the test's (as ``instance/disabled_modules``); a new process reads it anew, so
    each call makes a new app."""
    apps = []

    def factory(**overrides):
        settings = {"SQLALCHEMY_DATABASE_URI": empty_database_url,
                    "ERP_DISABLED_MODULES_FILE": str(tmp_path / "disabled_modules"),
                    **overrides}
        app = make_app(**settings)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def run(app, *args, input=None, ok=True):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    if ok:
        assert result.exit_code == 0, (args, result.output, result.exception)
    else:
        assert result.exit_code != 0, (args, result.output)
        assert result.exit_code == 1 and result.exception is None or isinstance(
            result.exception, SystemExit), (args, result.output, result.exception)
    return result.output


def line_of(listing: str, name: str) -> str:
    """The line of module ``name`` in ``module list``'s output."""
    return next(line for line in listing.splitlines() if line.split()[1] == name)


def inspect_tables(app) -> list[str]:
    with app.app_context():
        return inspect(db.engine).get_table_names()


def enabled(app) -> set[str]:
    return {m.name for m in app.extensions["erp_modules"]}


def traces(app, name: str) -> dict:
    """What the database holds of module ``name``: tables, its branch in alembic_version,
    permissions in roles, its row in the module table."""
    with app.app_context():
        tables = sorted(t for t in inspect(db.engine).get_table_names()
                        if t.startswith(f"{name}_"))
        with db.engine.connect() as conn:
            versions = list(conn.execute(text("SELECT version_num FROM alembic_version"))
                            .scalars())
        permissions = sorted({p for role in db.session.scalars(select(Role))
                              for p in role.permissions or () if p.startswith(f"{name}.")})
        row = db.session.scalar(select(InstalledModule).where(InstalledModule.name == name))
        result = {"tables": tables, "versions": [v for v in versions if name in v],
                  "permissions": permissions,
                  "row": None if row is None else ("enabled" if row.enabled else "disabled")}
        db.session.remove()
    return result


NONE = {"tables": [], "versions": [], "permissions": [], "row": None}
INSTALLED = {"tables": ["notes_note"], "versions": ["0001_notes"],
             "permissions": ["notes.read", "notes.write"], "row": "enabled"}


def test_upgrade_runs_under_the_test_cli_runner(cli_app):
    app = cli_app()
    assert "Database is up to date. Newly installed:" in run(app, "upgrade")
    assert run(app, "upgrade").strip().endswith("Database is up to date.")


def test_install_upgrade_uninstall_upgrade_leaves_nothing_of_notes(cli_app, tmp_path):
    (tmp_path / "disabled_modules").write_text("notes\n")
    app = cli_app()
    assert "notes" not in enabled(app)
    run(app, "upgrade")
    assert traces(app, "notes") == NONE
    assert "disabled  notes" in run(app, "module", "list")

    output = run(app, "module", "install", "notes")
    assert "Installed: notes." in output
    assert traces(app, "notes") == INSTALLED
    assert "notes" not in (tmp_path / "disabled_modules").read_text()

    app = cli_app()  # the next process loads it, and upgrade finds nothing to do
    assert "notes" in enabled(app)
    assert run(app, "upgrade").strip().endswith("Database is up to date.")
    assert traces(app, "notes") == INSTALLED
    assert line_of(run(app, "module", "list"), "notes").startswith("enabled ")

    refused = run(app, "module", "uninstall", "notes", input="n\n", ok=False)
    assert "notes_note" in refused and "DROPPED" in refused  # names the tables it drops
    assert traces(app, "notes") == INSTALLED

    output = run(app, "module", "uninstall", "notes", input="y\n")
    assert "tables dropped (notes_note)" in output
    assert "permissions taken from sales_manager, sales_rep" in output
    assert traces(app, "notes") == NONE

    app = cli_app()
    assert "notes" not in enabled(app)  # uninstalled is disabled: upgrade leaves it out
    assert run(app, "upgrade").strip().endswith("Database is up to date.")
    assert traces(app, "notes") == NONE
    with app.app_context():
        assert set(db.session.scalars(select(InstalledModule.name))) == SHIPPED
    assert "not installed" in line_of(run(app, "module", "list"), "notes")


def test_uninstall_keep_data_only_forgets_the_module(cli_app):
    app = cli_app()
    run(app, "upgrade")
    output = run(app, "module", "uninstall", "notes", "--keep-data", "--yes")
    assert "tables kept (notes_note)" in output
    assert traces(app, "notes") == {**NONE, "tables": ["notes_note"]}
    app = cli_app()
    run(app, "upgrade")
    assert traces(app, "notes") == {**NONE, "tables": ["notes_note"]}


def test_uninstall_without_a_disabled_modules_file_warns_it_comes_back(cli_app):
    app = cli_app(ERP_DISABLED_MODULES_FILE=None)
    run(app, "upgrade")
    output = run(app, "module", "uninstall", "notes", "--yes")
    assert "tables dropped (notes_note)" in output
    assert "the next upgrade installs notes again while its code is here" in output
    assert traces(app, "notes") == NONE
    output = run(app, "module", "disable", "notes", ok=False)  # nowhere to keep it
    assert "ERP_DISABLED_MODULES_FILE is empty" in output


def test_uninstall_and_disable_refuse_a_module_others_need(cli_app):
    app = cli_app()
    run(app, "upgrade")
    output = run(app, "module", "uninstall", "crm", "--yes", ok=False)
    assert "finance, notes, sales, service depend on crm: uninstall them first" in output
    output = run(app, "module", "disable", "crm", ok=False)
    assert "finance, notes, sales, service depend on crm and are enabled" in output
    assert traces(app, "crm")["row"] == "enabled"


def test_disable_keeps_the_data_and_enable_brings_the_module_back(cli_app, tmp_path):
    app = cli_app()
    run(app, "upgrade")
    assert "its tables and data are kept" in run(app, "module", "disable", "notes")
    assert traces(app, "notes") == {**INSTALLED, "row": "disabled"}
    assert "notes" in (tmp_path / "disabled_modules").read_text()

    app = cli_app()
    assert "notes" not in enabled(app)
    run(app, "upgrade")  # leaves a disabled module's data alone
    assert traces(app, "notes") == {**INSTALLED, "row": "disabled"}
    assert line_of(run(app, "module", "list"), "notes").startswith("disabled ")

    with app.app_context():  # an admin takes notes.write from the reps meanwhile
        rep = db.session.scalar(select(Role).where(Role.name == "sales_rep"))
        rep.permissions = [p for p in rep.permissions if p != "notes.write"]
        db.session.commit()
        db.session.remove()
    output = run(app, "module", "enable", "notes")
    assert "Installed:" not in output  # it was installed: enabled again, not installed anew
    assert traces(app, "notes") == INSTALLED  # the managers still have notes.write
    with app.app_context():
        rep = db.session.scalar(select(Role).where(Role.name == "sales_rep"))
        assert "notes.read" in rep.permissions and "notes.write" not in rep.permissions
        db.session.remove()
    assert "notes" in enabled(cli_app())


def test_erp_modules_as_text_is_a_list_and_the_commands_leave_it_to_the_operator(cli_app):
    app = cli_app(ERP_MODULES="crm, notes")
    assert [m.name for m in app.extensions["erp_modules"]] == ["crm", "notes"]
    output = run(app, "module", "disable", "notes", ok=False)
    assert "ERP_MODULES is set (crm, notes)" in output
    output = run(app, "module", "install", "sales", ok=False)
    assert "Add it to ERP_MODULES first" in output


def test_upgrade_names_a_module_whose_code_is_gone_and_forget_fixes_it(cli_app):
    app = cli_app()
    run(app, "upgrade")
    # pip uninstall: the next process finds no Notes at all.
    gone = cli_app(ERP_MODULE_DIRS=[], ERP_DISCOVER_ENTRY_POINTS=False)
    assert "notes" not in gone.extensions["erp_available_modules"]
    for command in ("upgrade", "setup"):
        output = run(gone, command, ok=False)
        assert "Can't locate revision" not in output
        assert "revision '0001_notes' is of module 'notes' (1.0.0" in output, output
        assert "flask --app erp module uninstall notes" in output
        assert "flask --app erp module forget notes" in output
        assert "notes_note" in output  # the tables it left
    assert line_of(run(gone, "module", "list"), "notes").startswith("missing ")
    output = run(gone, "module", "uninstall", "notes", "--yes", ok=False)
    assert "module forget notes" in output

    output = run(gone, "module", "forget", "notes", "--drop-tables", "--yes")
    assert "revisions removed: 0001_notes" in output and "tables dropped: notes_note" in output
    assert traces(gone, "notes") == NONE
    assert {"crm_account", "auth_user"} <= set(inspect_tables(gone))  # what notes refers to
    assert run(gone, "upgrade").strip().endswith("Database is up to date.")


def test_forget_without_drop_tables_keeps_them(cli_app):
    app = cli_app()
    run(app, "upgrade")
    gone = cli_app(ERP_MODULE_DIRS=[], ERP_DISCOVER_ENTRY_POINTS=False)
    assert "tables kept: notes_note" in run(gone, "module", "forget", "notes", "--yes")
    assert traces(gone, "notes") == {**NONE, "tables": ["notes_note"]}
    run(gone, "upgrade")
    output = run(app, "module", "forget", "notes", ok=False)  # its code is here
    assert "module uninstall notes" in output


# --- revision, translations: a module outside the repository ---------------------------------

PINS = '''\
"""Pins: a module made in the test's folder."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from erp.modules import Manifest

manifest = Manifest(name="pins", version="0.1.0", depends=("crm",))
LABEL = _l("Pinned accounts")
MENU = lazy_pgettext("menu", "Pins")


def register(registry):
    pass
'''


@pytest.fixture
def pins(tmp_path):
    """A module ``pins`` (no migrations yet) in a folder of the test's, under a package name
    of its own (the loader imports ``<folder>.pins``: another test's would be in sys.modules)."""
    folder = tmp_path / "outside" / f"pins_{uuid.uuid4().hex[:8]}"
    (folder / "pins" / "templates" / "pins").mkdir(parents=True)
    (folder / "pins" / "__init__.py").write_text(PINS)
    (folder / "pins" / "templates" / "pins" / "tab.html").write_text(
        "<p>{{ _('No pins yet.') }} {{ ngettext('%(num)d pin', '%(num)d pins', 2) }}</p>\n")
    return folder


def test_revision_starts_the_module_branch_then_continues_it(cli_app, pins):
    app = cli_app(ERP_MODULE_DIRS=[str(pins)])
    run(app, "upgrade")
    output = run(app, "module", "revision", "pins", "-m", "pinned accounts",
                 "--depends-on", "0001_sales")
    first = pins / "pins" / "migrations" / "0001_pins.py"
    assert f"Revision 0001_pins written to {first}" in output
    source = first.read_text()
    assert "branch_labels = ('pins',)" in source and "down_revision = None" in source
    with app.app_context():
        crm_head = script_directory(app).get_revisions("crm@head")[0].revision
    # pins depends on crm: after CRM's head, and the revision asked for
    assert f"depends_on = ['{crm_head}', '0001_sales']" in source, source
    assert "pins: pinned accounts" in source

    app = cli_app(ERP_MODULE_DIRS=[str(pins)])  # the new folder is on Alembic's path now
    run(app, "upgrade")
    assert "0001_pins" in traces(app, "pins")["versions"]
    output = run(app, "module", "revision", "pins", "-m", "Pins: an index",
                 "--depends-on", "0001_finance")
    second = pins / "pins" / "migrations" / "0002_pins_an_index.py"
    assert second.is_file(), output
    source = second.read_text()
    assert "down_revision = '0001_pins'" in source and "branch_labels = None" in source
    listing = run(cli_app(ERP_MODULE_DIRS=[str(pins)]), "module", "list")
    assert "installed, migrations due: run upgrade" in line_of(listing, "pins")
    assert line_of(listing, "crm").split()[3:4] == ["installed"]
    assert "depends_on = '0001_finance'" in source


def test_revision_autogenerate_writes_only_the_module_s_changes(cli_app, pins):
    app = cli_app(ERP_MODULE_DIRS=[str(pins)])
    run(app, "module", "revision", "pins", "-m", "start")
    app = cli_app(ERP_MODULE_DIRS=[str(pins)])
    run(app, "upgrade")
    with app.app_context(), db.engine.begin() as conn:  # tables no model describes
        conn.execute(text("CREATE TABLE crm_stray (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE pins_old (id INTEGER PRIMARY KEY)"))
    output = run(app, "module", "revision", "pins", "-m", "drop the old table", "--autogenerate")
    written = list((pins / "pins" / "migrations").glob("0002_pins_*.py"))
    assert len(written) == 1, (output, list((pins / "pins" / "migrations").iterdir()))
    source = written[0].read_text()
    assert "drop_table('pins_old')" in source and "crm_stray" not in source
    output = run(app, "module", "revision", "pins", "-m", "nothing", "--autogenerate",
                 ok=False)
    assert "Target database is not up to date" in output  # 0002 is not applied yet
    run(app, "upgrade")
    assert "pins_old" not in inspect_tables(app)
    output = run(app, "module", "revision", "pins", "-m", "nothing", "--autogenerate",
                 ok=False)
    assert "no revision written" in output  # crm_stray is CRM's business


def test_translations_of_a_module_outside_the_repository(cli_app, pins):
    app = cli_app(ERP_MODULE_DIRS=[str(pins)])
    folder = pins / "pins" / "translations"
    run(app, "module", "translations", "pins", "extract")
    pot = (folder / "messages.pot").read_text()
    assert 'msgid "Pinned accounts"' in pot and 'msgid "No pins yet."' in pot
    assert 'msgctxt "menu"\nmsgid "Pins"' in pot and 'msgid_plural "%(num)d pins"' in pot
    output = run(app, "module", "translations", "pins", "compile", ok=False)
    assert "has no catalog" in output
    assert "pt_BR" in run(app, "module", "translations", "pins", "update")
    po = folder / "pt_BR" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text().replace('msgid "No pins yet."\nmsgstr ""',
                                         'msgid "No pins yet."\nmsgstr "Nenhum alfinete."'))
    run(app, "module", "translations", "pins", "compile")
    assert (folder / "pt_BR" / "LC_MESSAGES" / "messages.mo").is_file()
    run(app, "module", "translations", "pins", "update", "-l", "es")
    assert (folder / "es" / "LC_MESSAGES" / "messages.po").is_file()
    assert "Nenhum alfinete." in po.read_text()  # update keeps what was translated


# --- demo ------------------------------------------------------------------------------------


def test_demo_loads_one_module_s_demo_into_an_existing_database(cli_app, tmp_path, pins):
    (tmp_path / "disabled_modules").write_text("finance\nsales\nservice\n")
    app = cli_app(ERP_MODULE_DIRS=[str(pins)])
    run(app, "upgrade")
    with app.app_context():
        db.session.add(User(username="someone", name="Someone", email="someone@example.com",
                            password_hash="x"))
        db.session.commit()
    output = run(app, "module", "demo", "crm")
    assert "crm's demo data loaded. Users gerente, ana, bruno (password" in output
    with app.app_context():
        from modules.crm.models import Account

        assert db.session.scalar(select(db.func.count(Account.id))) > 0
        names = set(db.session.scalars(select(User.username)))
        db.session.remove()
    assert {"someone", "ana", "bruno", "gerente"} <= names
    assert "pins has no demo data" in run(app, "module", "demo", "pins", ok=False)
    output = run(app, "module", "demo", "sales", ok=False)
    assert "sales is not enabled" in output


# --- the documentation -----------------------------------------------------------------------


def test_the_documented_module_commands_exist_and_the_wrong_one_is_gone():
    from erp.config import PROJECT_ROOT
    from erp.module_cli import module_group

    for doc in ("README.md", "docs/modules.md"):
        source = (PROJECT_ROOT / doc).read_text(encoding="utf-8")
        # Flask-Migrate's `db revision` has no --depends-on: the guide once told to use it.
        assert "--depends-on 0001" not in source and "db revision --" not in source, doc
        named = set(re.findall(r"flask --app erp module (\w+)", source))
        assert "revision" in named and "uninstall" in named, doc
        assert named <= set(module_group.commands), (doc, named - set(module_group.commands))


def test_a_module_without_migrations_whose_code_is_gone_shows_as_missing(cli_app, pins):
    default_dirs = list(cli_app().config["ERP_MODULE_DIRS"])
    app = cli_app(ERP_MODULE_DIRS=[*default_dirs, str(pins)])
    run(app, "upgrade")
    assert traces(app, "pins")["row"] == "enabled"
    gone = cli_app()  # pip uninstall: nothing of it in alembic_version to stop upgrade
    assert run(gone, "upgrade").strip().endswith("Database is up to date.")
    assert traces(gone, "pins")["row"] == "disabled"  # the admin no longer says enabled
    assert line_of(run(gone, "module", "list"), "pins").startswith("missing ")
    assert "pins forgotten" in run(gone, "module", "forget", "pins", "--yes")
    assert traces(gone, "pins") == NONE


def test_list_still_lists_the_modules_when_the_database_cannot_be_read(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'no' / 'such' / 'db'}")
    output = run(app, "module", "list")
    assert output.startswith("(database not readable:")
    assert line_of(output, "crm").startswith("enabled ") and "?" in line_of(output, "crm")
    assert run(app, "modules") == output  # the older name of the same command
    with app.app_context():
        db.engine.dispose()
