"""``flask --app erp module ...``: one command for everything about a module.

``list`` | ``enable NAME`` | ``disable NAME`` | ``install NAME`` | ``uninstall NAME`` |
``forget NAME`` | ``revision NAME -m MSG`` | ``translations NAME extract|update|compile`` |
``demo NAME``.

Which modules are enabled is configuration: ``ERP_MODULES`` when it is set (then the
commands that change it refuse, and say so), else every discovered module except those
listed in ``ERP_DISABLED_MODULES_FILE`` (``instance/disabled_modules``), which ``enable``,
``disable``, ``install`` and ``uninstall`` keep. A module is *installed* in a database when
its branch is migrated and the module table has its row (``flask --app erp upgrade`` installs
every enabled module).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import click
import flask_migrate
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from .auth.models import Role
from .db import db
from .demo import DEMO_PASSWORD, load_module_demo, module_loaders
from .i18n import EXTRACT_KEYWORDS
from .migrate import (
    HOST_BRANCH,
    OrphanRevisionError,
    check_revisions,
    gone_modules,
    migrated_modules,
    module_tables,
    orphans_of,
    revision_modules,
)
from .models import InstalledModule
from .modules import (
    LoadedModule,
    ModuleError,
    closure,
    dependants,
    disabled_file,
    names_setting,
    read_disabled,
    write_disabled,
)
from .registry import Permission
from .setup import upgrade_database

CLI = "flask --app erp"

# What pybabel reads in a module's folder, and the functions that mark a string: the same as
# the project's babel.cfg and the Makefile's extract-messages (a module installed with pip
# has neither).
BABEL_MAPPING = """\
[python: **.py]
[jinja2: **.html]
extensions = jinja2.ext.i18n

[jinja2: **/templates/**.txt]
extensions = jinja2.ext.i18n
"""


def _keyword_args(keywords: dict) -> list[str]:
    """``erp.i18n.EXTRACT_KEYWORDS`` (babel's form: ``{"pgettext": ((1, "c"), 2)}``) as
    pybabel's ``-k`` options (``-k pgettext:1c,2``)."""
    args = []
    for name, spec in keywords.items():
        if spec is None:
            args += ["-k", name]
            continue
        parts = [f"{p[0]}{p[1]}" if isinstance(p, tuple) else str(p)
                 for p in (spec if isinstance(spec, tuple) else (spec,))]
        args += ["-k", f"{name}:{','.join(parts)}"]
    return args


BABEL_KEYWORDS = _keyword_args(EXTRACT_KEYWORDS)  # the module translators' names
DEFAULT_LOCALE = "pt_BR"


@click.group("module")
def module_group():
    """Modules: list, enable, disable, install, uninstall, forget, revision, translations,
    demo."""


# --- helpers ---------------------------------------------------------------------------------


def _available() -> dict[str, LoadedModule]:
    return current_app.extensions["erp_available_modules"]


def _enabled() -> list[str]:
    return [m.name for m in current_app.extensions["erp_modules"]]


def _module(name: str) -> LoadedModule:
    module = _available().get(name)
    if module is None:
        hint = ""
        if name in gone_modules(current_app):
            hint = (f" The database still has it: `{CLI} module forget {name}` forgets it "
                    "(or reinstall its package, then uninstall it).")
        raise click.ClickException(f"No module named {name!r} was found (modules folder, "
                                   f"ERP_MODULE_DIRS, 'erp.modules' entry points).{hint}")
    return module


def _explicit() -> list[str] | None:
    return names_setting(current_app.config.get("ERP_MODULES"))


def _rows() -> dict[str, InstalledModule]:
    if not inspect(db.engine).has_table(InstalledModule.__tablename__):
        return {}
    return {row.name: row for row in db.session.scalars(select(InstalledModule))}


def _branches() -> dict[str, bool]:
    """The modules the database has migrations of: True when at their branch's head."""
    if not inspect(db.engine).has_table("alembic_version"):
        return {}
    return migrated_modules(current_app)


def _table_names() -> list[str]:
    return inspect(db.engine).get_table_names()


def _tables_of(name: str) -> list[str]:
    """The tables of module ``name`` in the database: those of its models, and every
    ``<name>_...`` table (full-text tables made by raw DDL included)."""
    existing = set(_table_names())
    known = set(_available()) | set(_rows())
    tables = set(module_tables(name, known, existing))
    module = _available().get(name)
    if module is not None:
        prefix = module.package.__name__ + "."
        for mapper in db.Model.registry.mappers:
            if mapper.class_.__module__.startswith(prefix):
                tables.update(t.name for t in mapper.tables if t.name in existing)
    return sorted(tables)


def _permission_keys(name: str) -> set[str]:
    """The permissions module ``name`` brings: those it contributes (when it is enabled here)
    and every ``<name>.`` permission a role holds."""
    registry = current_app.extensions["erp"]
    keys = {p.key for p in registry.items(Permission, check_permission=False)
            if registry.module_of(Permission, p.key) == name}
    for role in db.session.scalars(select(Role)):
        keys.update(p for p in role.permissions or () if p.startswith(f"{name}."))
    return keys


def _remove_permissions(keys: set[str]) -> list[str]:
    """Take ``keys`` out of every role; the names of the roles changed."""
    changed = []
    for role in db.session.scalars(select(Role).order_by(Role.name)):
        kept = [p for p in role.permissions or () if p not in keys]
        if kept != list(role.permissions or ()):
            role.permissions = kept
            changed.append(role.name)
    return changed


def _target_app(names: list[str]):
    """An app where ``names`` are enabled: this one, or a new one made with this one's
    settings (it reads the disabled modules again)."""
    app = current_app._get_current_object()
    if set(names) <= set(_enabled()):
        return app, False
    from . import create_app

    try:
        return create_app(dict(app.config)), True
    except ModuleError as error:
        raise click.ClickException(str(error)) from None


def _upgrade(app, names: list[str] | None = None) -> list[str]:
    db.session.remove()  # SQLite: no read transaction of ours open while it migrates
    try:
        return upgrade_database(app, names)
    except OrphanRevisionError as error:
        raise click.ClickException(str(error)) from None


def _install(names: list[str]) -> list[str]:
    """Migrate and record ``names`` (a module and its dependencies) in an app that enables
    them; the newly installed ones."""
    app, made = _target_app(names)
    try:
        missing = [n for n in names if n not in {m.name for m in app.extensions["erp_modules"]}]
        if missing:
            raise click.ClickException(f"Not enabled after all: {', '.join(missing)}.")
        return _upgrade(app, names)
    finally:
        if made:
            with app.app_context():
                db.engine.dispose()


def _refuse_explicit(name: str, wanted: bool) -> None:
    explicit = _explicit()
    if explicit is None:
        return
    if (name in explicit) != wanted:
        action = "add it to" if wanted else "take it out of"
        raise click.ClickException(
            f"ERP_MODULES is set ({', '.join(explicit)}): the enabled modules are that list. "
            f"{action.capitalize()} ERP_MODULES first for {name!r}.")


def _switch(names: set[str], on: bool, required: bool = True) -> bool:
    """Enable (``on``) or disable ``names`` in ``ERP_DISABLED_MODULES_FILE``; False when
    there is no such file to write (an error if ``required``)."""
    config = current_app.config
    disabled = read_disabled(config)
    after = disabled - names if on else disabled | names
    if after == disabled or _explicit() is not None:
        return True
    if disabled_file(config) is None:
        if not required:
            return False
        raise click.ClickException(
            "ERP_DISABLED_MODULES_FILE is empty: set it (or ERP_MODULES) to choose modules.")
    write_disabled(config, after)
    return True


def _confirm(question: str, yes: bool) -> None:
    if not yes:
        click.confirm(question, abort=True)


def _dispose_session() -> None:
    db.session.commit()
    db.session.remove()


# --- list ------------------------------------------------------------------------------------


def list_modules() -> None:
    available = _available()
    enabled = _enabled()
    try:
        rows = _rows()
        branches = _branches()
        gone = gone_modules(current_app)
        unreachable = None
    except SQLAlchemyError as error:  # still list what the code has
        rows, branches, gone = {}, {}, {}
        unreachable = str(error.orig if getattr(error, "orig", None) else error).strip()
        click.echo(f"(database not readable: {unreachable.splitlines()[0]})")
    disabled = read_disabled(current_app.config)
    for name in enabled + sorted(set(available) - set(enabled)):
        module = available[name]
        state = "enabled" if name in enabled else (
            "disabled" if name in disabled or _explicit() is None else "off")
        row = rows.get(name)
        at = branches.get(name)
        if unreachable:
            installed = "?"
        elif row is None and at is None:
            installed = "not installed"
        elif row is None:
            installed = "migrated, not recorded: run upgrade"
        else:
            installed = "installed"
            if row.version != module.manifest.version:
                installed += f" {row.version}, code {module.manifest.version}: run upgrade"
            elif module.migrations_dir and not at:
                installed += ", migrations due: run upgrade"
        deps = ", ".join(module.manifest.depends) or "-"
        click.echo(f"{state:<8}  {name:<12} {module.manifest.version:<8} {installed:<14}  "
                   f"depends: {deps:<16} {module.origin}")
    for name, row in sorted(gone.items()):
        click.echo(f"{'missing':<8}  {name:<12} {row['version']:<8} {'code gone':<14}  "
                   f"depends: {row['depends'] or '-':<16} {row['origin']} — "
                   f"`{CLI} module forget {name}`")


@module_group.command("list")
@with_appcontext
def list_command():
    """Every discovered module: enabled or not, installed or not, version, dependencies."""
    list_modules()


# --- enable, disable, install ----------------------------------------------------------------


def _enable_and_install(name: str) -> None:
    module = _module(name)
    _refuse_explicit(name, wanted=True)
    needed = closure(_available(), module.name)
    explicit = _explicit()
    if explicit is not None and not set(needed) <= set(explicit):
        missing = ", ".join(sorted(set(needed) - set(explicit)))
        raise click.ClickException(f"{name} depends on {missing}: add to ERP_MODULES first.")
    _switch(set(needed), on=True)
    new = _install(needed)  # migrated in load order: dependencies first
    if new:
        click.echo(f"Installed: {', '.join(new)}.")
    click.echo(f"{name} is enabled and its database is up to date. Restart the app (its web "
               "and worker processes) to load it.")


@module_group.command("enable")
@click.argument("name")
@with_appcontext
def enable_command(name):
    """Enable NAME (and the modules it depends on), installing it if it is not."""
    _enable_and_install(name)


@module_group.command("install")
@click.argument("name")
@with_appcontext
def install_command(name):
    """Enable NAME and its dependencies, migrate their branches, seed their roles and
    permissions and record them in the module table."""
    _enable_and_install(name)


@module_group.command("disable")
@click.argument("name")
@with_appcontext
def disable_command(name):
    """Stop loading NAME; its tables, data and permissions are kept (`enable` brings it
    back; `uninstall` removes it)."""
    module = _module(name)
    _refuse_explicit(name, wanted=False)
    enabled = _enabled()
    using = [d for d in dependants(_available(), module.name) if d in enabled]
    if using:
        raise click.ClickException(
            f"{', '.join(using)} depend{'s' if len(using) == 1 else ''} on {name} and "
            f"{'is' if len(using) == 1 else 'are'} enabled: disable "
            f"{'it' if len(using) == 1 else 'them'} first.")
    _switch({name}, on=False)
    row = _rows().get(name)
    if row is not None and row.enabled:
        row.enabled = False
    _dispose_session()
    click.echo(f"{name} is disabled: its tables and data are kept. Restart the app (its web "
               "and worker processes) to unload it.")


# --- uninstall, forget -----------------------------------------------------------------------


@module_group.command("uninstall")
@click.argument("name")
@click.option("--keep-data", is_flag=True,
              help="Leave its tables (and data) in the database; only forget the module.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def uninstall_command(name, keep_data, yes):
    """Drop NAME's tables (its migrations down to base), take its permissions from the roles,
    remove its row from the module table, and disable it."""
    module = _module(name)
    _refuse_explicit(name, wanted=False)
    rows = _rows()
    enabled = _enabled()
    using = [d for d in dependants(_available(), module.name) if d in enabled or d in rows]
    if using:
        raise click.ClickException(
            f"{', '.join(using)} depend{'s' if len(using) == 1 else ''} on {name}: uninstall "
            f"{'it' if len(using) == 1 else 'them'} first.")
    at = _branches().get(name)
    tables = _tables_of(name)
    keys = _permission_keys(name)
    if at is None and name not in rows and not keys:
        switched = _switch({name}, on=False, required=False)
        click.echo(f"{name} is not installed in this database"
                   + ("; it is disabled." if switched else "."))
        return
    listed = ", ".join(tables) or "none"
    if keep_data:
        question = (f"Uninstall {name}, keeping its tables ({listed}) and their data, and "
                    "forgetting its migrations, permissions and row?")
    else:
        question = (f"Uninstall {name}: its tables are DROPPED with their data ({listed}), "
                    "and its permissions and row removed. Continue?")
    _confirm(question, yes)
    _dispose_session()
    if at is not None:
        if keep_data:
            _forget_revisions([rev for rev, branch in revision_modules(current_app).items()
                               if branch == name])
        else:
            flask_migrate.downgrade(revision=f"{name}@base")
    roles = _remove_permissions(keys)
    db.session.execute(delete(InstalledModule).where(InstalledModule.name == name))
    _dispose_session()
    switched = _switch({name}, on=False, required=False)
    click.echo(f"{name} uninstalled: " + (
        f"tables kept ({listed})" if keep_data else f"tables dropped ({listed})")
        + (f"; permissions taken from {', '.join(roles)}" if roles else "")
        + ". Restart the app (its web and worker processes) to unload it.")
    if not switched:
        click.echo(f"Warning: ERP_DISABLED_MODULES_FILE is empty, so the next upgrade installs "
                   f"{name} again while its code is here: remove its package.")


def _forget_revisions(revisions: list[str]) -> None:
    with db.engine.begin() as conn:
        for revision in revisions:
            conn.execute(text("DELETE FROM alembic_version WHERE version_num = :rev"),
                         {"rev": revision})


def _drop_tables(tables: list[str]) -> None:
    """Drop tables no code describes any more: full-text ones first (their shadow tables
    go with them), then the others in the order their foreign keys need."""
    from sqlalchemy import MetaData

    with db.engine.begin() as conn:
        preparer = conn.dialect.identifier_preparer
        for table in [t for t in tables if t.endswith("_fts")]:
            conn.execute(text(f"DROP TABLE IF EXISTS {preparer.quote(table)}"))
        left = [t for t in tables if t in set(inspect(conn).get_table_names())]
        if left:
            metadata = MetaData()
            metadata.reflect(conn, only=left)  # and the tables they refer to: not those
            metadata.drop_all(conn, tables=[metadata.tables[t] for t in left])


@module_group.command("forget")
@click.argument("name")
@click.option("--drop-tables", is_flag=True, help="Drop its tables too (found by name: "
              "a module's tables start with its name and _).")
@click.option("--revision", "revisions", multiple=True,
              help="A revision of alembic_version that is this module's (when it cannot "
                   "be told from the module table and the revision's name).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def forget_command(name, drop_tables, revisions, yes):
    """Forget a module whose code is gone (pip uninstall without `module uninstall`): its
    place in alembic_version, its permissions, its row; its tables with --drop-tables."""
    if name in _available():
        raise click.ClickException(
            f"{name}'s code is installed: use `{CLI} module uninstall {name}` (it runs its "
            "migrations down) or `module disable`.")
    gone = gone_modules(current_app)
    orphans = [rev for rev, branch in revision_modules(current_app).items() if branch is None]
    owners = orphans_of(orphans, gone)
    for revision in revisions:
        if revision not in orphans:
            raise click.ClickException(f"{revision!r} is not a revision of alembic_version "
                                       "that no available module has.")
    mine = sorted({*revisions, *(rev for rev in orphans if owners[rev] == name)})
    tables = module_tables(name, set(_available()) | set(gone), _table_names())
    keys = {p for role in db.session.scalars(select(Role)) for p in role.permissions or ()
            if p.startswith(f"{name}.")}
    if not (mine or tables or keys or name in gone):
        raise click.ClickException(f"This database has nothing of a module named {name!r}.")
    listed = ", ".join(tables) or "none"
    if drop_tables:
        question = f"Forget {name} and DROP its tables with their data ({listed})?"
    else:
        question = f"Forget {name}, keeping its tables ({listed})?"
    _confirm(question, yes)
    _dispose_session()
    _forget_revisions(mine)
    if drop_tables and tables:
        _drop_tables(tables)
    roles = _remove_permissions(keys)
    db.session.execute(delete(InstalledModule).where(InstalledModule.name == name))
    _dispose_session()
    _switch({name}, on=True, required=False)  # nothing of it left to disable
    click.echo(f"{name} forgotten"
               + (f"; revisions removed: {', '.join(mine)}" if mine else "")
               + (f"; tables dropped: {listed}" if drop_tables and tables else
                  f"; tables kept: {listed}" if tables else "")
               + (f"; permissions taken from {', '.join(roles)}" if roles else "") + ".")


# --- revision --------------------------------------------------------------------------------


def _slug(message: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")


def _next_rev_id(name: str, folder: Path, message: str, taken: set[str]) -> str:
    numbers = [int(m.group(1)) for f in folder.glob("*.py")
               if (m := re.match(r"(\d+)_", f.name))]
    number = max(numbers, default=0) + 1
    base = f"{number:04d}_{name}"
    slug = _slug(message)
    if slug.startswith(f"{name}_"):
        slug = slug[len(name) + 1:]
    rev_id = f"{base}_{slug}"[:32].rstrip("_") if number > 1 and slug else base
    while rev_id in taken:  # alembic_version holds at most 32 characters
        number += 1
        rev_id = f"{number:04d}_{name}"
    return rev_id


def _branch_head(script, name: str) -> str | None:
    try:
        heads = script.get_revisions(f"{name}@head")
    except Exception:  # no branch of that name yet
        return None
    return heads[0].revision if heads else None


def _depends_on(script, module: LoadedModule) -> list[str]:
    """The heads of the branches a module's first revision must come after: each
    dependency's (or, for one without migrations, its own dependencies'), else the host's."""
    available = _available()
    found: list[str] = []
    for dep in module.manifest.depends:
        head = _branch_head(script, dep)
        if head:
            found.append(head)
        elif dep in available:
            found += [h for h in _depends_on(script, available[dep]) if h not in found]
    return found or [_branch_head(script, HOST_BRANCH)]


@module_group.command("revision")
@click.argument("name")
@click.option("-m", "--message", required=True, help="What the revision does.")
@click.option("--autogenerate", is_flag=True,
              help="Compare the module's models with the database (migrated to every head) "
                   "and write the difference; other modules' tables are left out.")
@click.option("--depends-on", "extra_depends", multiple=True,
              help="Another revision this one must come after (e.g. one that creates a "
                   "table it refers to).")
@with_appcontext
def revision_command(name, message, autogenerate, extra_depends):
    """Create a migration in NAME's own migrations folder, on its own branch (the first one
    starts the branch, after its dependencies' heads)."""
    from alembic import command

    module = _module(name)
    if autogenerate and name not in _enabled():
        raise click.ClickException(f"{name} is not enabled: its models are not loaded.")
    folder = module.path / "migrations"
    folder.mkdir(exist_ok=True)
    config = current_app.extensions["migrate"].migrate.get_config()
    locations = config.get_main_option("version_locations").split(os.pathsep)
    if str(folder) not in locations:  # a module's first revision: a new folder
        config.set_main_option("version_locations", os.pathsep.join([*locations, str(folder)]))
    config.set_main_option("file_template", "%%(rev)s")  # 0002_notes_pinned.py
    script = ScriptDirectory.from_config(config)
    head = _branch_head(script, name)
    depends = list(extra_depends)
    if head is None:
        first = _depends_on(script, module)
        depends = first + [d for d in depends if d not in first]
    taken = {rev.revision for rev in script.walk_revisions()}
    rev_id = _next_rev_id(name, folder, message, taken)
    kept: list[bool] = []

    def only_this_module(context, revision, directives):
        if not directives:
            return
        ops = directives[0]
        tables = set(_tables_of(name)) | set(
            module_tables(name, set(_available()), [t.name for t in db.metadata.sorted_tables]))

        def mine(op) -> bool:
            return getattr(op, "table_name", None) in tables

        ops.upgrade_ops.ops[:] = [op for op in ops.upgrade_ops.ops if mine(op)]
        ops.downgrade_ops.ops[:] = [op for op in ops.downgrade_ops.ops if mine(op)]
        if ops.upgrade_ops.is_empty():
            directives[:] = []
        else:
            kept.append(True)

    db.session.remove()
    try:
        made = command.revision(
            config, message=message if message.startswith(f"{name}:") else f"{name}: {message}",
            autogenerate=autogenerate, head=f"{name}@head" if head else "base",
            branch_label=None if head else name, version_path=str(folder), rev_id=rev_id,
            depends_on=depends or None,
            process_revision_directives=only_this_module if autogenerate else None)
    except CommandError as error:  # e.g. "Target database is not up to date."
        raise click.ClickException(f"{error} (run `{CLI} upgrade` first).") from None
    if autogenerate and not kept:
        raise click.ClickException(f"{name}'s models and the database agree: no revision "
                                   "written.")
    path = made.path if made is not None and not isinstance(made, list) else folder
    click.echo(f"Revision {rev_id} written to {path}"
               + (f" (after {', '.join(depends)})" if depends else "") + ".")


# --- translations ----------------------------------------------------------------------------


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    try:
        status = CommandLineInterface().run(["pybabel", *args])
    except SystemExit as exit_:
        status = exit_.code
    except Exception as error:  # babel's OptionError / BaseError
        raise click.ClickException(f"pybabel {args[0]}: {error}") from None
    if status:
        raise click.ClickException(f"pybabel {args[0]} failed ({status}).")


def _extract(module: LoadedModule, pot: Path) -> None:
    with tempfile.TemporaryDirectory() as temp:
        mapping = Path(temp) / "babel.cfg"
        mapping.write_text(BABEL_MAPPING, encoding="utf-8")
        _pybabel("extract", "--no-location", "--sort-output", "-F", str(mapping),
                 *BABEL_KEYWORDS,
                 "-o", str(pot), str(module.path))


@module_group.command("translations")
@click.argument("name")
@click.argument("action", type=click.Choice(["extract", "update", "compile"]))
@click.option("--locale", "-l", "locales", multiple=True,
              help="update: also start a catalog for this language (default, when the module "
                   f"has none: {DEFAULT_LOCALE}).")
@with_appcontext
def translations_command(name, action, locales):
    """pybabel for NAME's folder, wherever it is installed: extract its strings into
    translations/messages.pot; update (extract, then merge into each language's .po, starting
    missing ones); compile the .po files into the .mo files the app reads."""
    module = _module(name)
    folder = module.path / "translations"
    pot = folder / "messages.pot"
    if action in ("extract", "update"):
        folder.mkdir(exist_ok=True)
        _extract(module, pot)
        click.echo(f"Extracted {name}'s strings into {pot}.")
    if action == "update":
        existing = sorted(p.name for p in folder.iterdir()
                          if (p / "LC_MESSAGES" / "messages.po").is_file())
        wanted = list(locales) or ([] if existing else [DEFAULT_LOCALE])
        for locale in existing:
            _pybabel("update", "--no-fuzzy-matching", "-d", str(folder), "-i", str(pot),
                     "-l", locale)
        for locale in (w for w in wanted if w not in existing):
            _pybabel("init", "-d", str(folder), "-i", str(pot), "-l", locale)
        click.echo(f"Catalogs updated: {', '.join(sorted({*existing, *wanted}))}.")
    if action == "compile":
        if not list(folder.glob("*/LC_MESSAGES/messages.po")):
            raise click.ClickException(f"{name} has no catalog: run `{CLI} module "
                                       f"translations {name} update` first.")
        _pybabel("compile", "--statistics", "-d", str(folder))
        click.echo(f"Compiled {name}'s catalogs.")


# --- demo ------------------------------------------------------------------------------------


@module_group.command("demo")
@click.argument("name")
@with_appcontext
def demo_command(name):
    """Load NAME's demo data into this database (its demo users, if missing, then its
    records), whatever is already there."""
    module = _module(name)
    if name not in _enabled():
        raise click.ClickException(f"{name} is not enabled: `{CLI} module enable {name}`.")
    if name not in _rows():
        raise click.ClickException(f"{name} is not installed: `{CLI} module install {name}`.")
    try:
        check_revisions(current_app)
    except OrphanRevisionError as error:
        raise click.ClickException(str(error)) from None
    if not module_loaders(module.name):
        raise click.ClickException(f"{name} has no demo data (no DemoLoader).")
    created = load_module_demo(module.name)
    click.echo(f"{name}'s demo data loaded." + (
        f" Users {', '.join(created)} (password '{DEMO_PASSWORD}')." if created else ""))


__all__ = ["list_modules", "module_group"]
