"""The checks of the module contract (erp.testing.contract) that are not about the
account page: API operations by module, migrations, translations, the API fuzz."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from ..db import db
from ..i18n import EXTRACT_KEYWORDS
from ..migrate import branches, include_object
from ..models import InstalledModule
from ..registry import ApiBlueprint
from ..setup import upgrade_database
from .contract_world import ALL, contributions, module_permissions, modules, without

SPEC = "/api/v1/openapi.json"
WRITES = ("POST", "PUT", "PATCH", "DELETE")

# --- API operations, by module ------------------------------------------------------------------


def api_operations(app, *, params: bool = True) -> list:
    """(module, method, path) of every operation of the enabled modules' API blueprints in
    the OpenAPI document: each path's endpoint belongs to a blueprint, and the registry
    says which module contributed it (the host's own API is no module's)."""
    enabled = set(modules(app))
    owners = {item.key: module for module, item in contributions(app, ApiBlueprint)
              if module in enabled}
    document = app.test_client().get(SPEC).get_json()
    adapter = app.url_map.bind("localhost")
    found = []
    for path, operations in document["paths"].items():
        for method in operations:
            if method == "parameters":
                continue
            sample = re.sub(r"\{[^}]+\}", "1", path)
            endpoint, _args = adapter.match(sample, method=method.upper())
            module = owners.get(endpoint.partition(".")[0])
            if module is not None:
                found.append((module, method.upper(), path))
    if not params:
        return found
    return [pytest.param(*case, id=f"{case[0]}:{case[1]} {case[2]}") for case in found]


def module_operations(app, names) -> set[tuple[str, str]]:
    """(METHOD, path) of the operations of the modules ``names`` (a name or several)."""
    names = {names} if isinstance(names, str) else set(names)
    return {(method, path) for module, method, path in api_operations(app, params=False)
            if module in names}


def api_call(client, world, name: str, method: str, url: str):
    headers = {"Authorization": f"Bearer {world.tokens[name]}"}
    return client.open(url, method=method, headers=headers,
                       **({"json": {}} if method in WRITES and method != "DELETE" else {}))


def concrete(client, world, path: str) -> str | None:
    """``path`` with each {name} replaced by a record's id from the list before it (the
    item's ``name`` field, else its ``id``), chosen so that the lists further down are not
    empty; None when no record can be found that way."""

    def ids(url: str, name: str) -> list[str]:
        listing = api_call(client, world, ALL, "GET", url)
        body = listing.get_json() if listing.status_code == 200 else None
        items = body.get("items", []) if isinstance(body, dict) else body or []
        return [str(item.get(name, item.get("id"))) for item in items[:10]
                if isinstance(item, dict) and item.get(name, item.get("id")) is not None]

    def resolve(built: str, parts: list[str]) -> str | None:
        if not parts:
            return built
        part, rest = parts[0], parts[1:]
        if not part.startswith("{"):
            return resolve(f"{built}/{part}", rest)
        for record_id in ids(built, part.strip("{}")):
            found = resolve(f"{built}/{record_id}", rest)
            if found is not None:
                return found
        return None

    return resolve("", path.strip("/").split("/"))


def check_api_operation(app, world, module: str, method: str, path: str) -> None:
    """The operation answers a user holding every permission (no 401/403), refuses with 403
    a user lacking one it needs, and needs only its module's (and dependencies')."""
    client = app.test_client()
    url = concrete(client, world, path)
    assert url is not None, f"no record to call {path} on: the demo data should hold one"
    # Every permission in turn withheld: those the operation needs are the 403s.
    needs = {permission for permission in world.permissions
             if api_call(client, world, without(permission), method, url).status_code == 403}
    assert needs, f"{method} {url} answers without any permission"
    assert needs <= module_permissions(app, module), \
        f"{method} {url} needs another module's permission: {needs}"
    answer = api_call(client, world, ALL, method, url)
    assert answer.status_code not in (401, 403), answer.get_json()
    document = client.get(SPEC).get_json()
    assert "403" in document["paths"][path][method.lower()]["responses"]


# --- the API fuzzed, by module --------------------------------------------------------------------

# Generated requests per operation (the host's own suite runs a longer fuzz of the same
# operations besides: tests/test_api_schemathesis.py).
MAX_EXAMPLES = 10
# Schema-valid data may still break a rule of the services, which no JSON schema can say
# (a CNPJ's check digits, an owner you may assign): a 422; or name a record that is not
# there (404), or a duplicate (409).
ACCEPTED = ["2xx", "404", "409", "422"]


def api_schema(app, token: str | None = None, *, operations=None):
    """The app's OpenAPI document as a schemathesis schema (in-process, WSGI), with
    ``token`` as its bearerAuth, limited to ``operations`` ((METHOD, path) pairs) if given."""
    import schemathesis

    config = {"generation": {"max-examples": MAX_EXAMPLES},
              "phases": {"stateful": {"enabled": False}},
              "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}
    if token:
        config["auth"] = {"openapi": {"bearerAuth": {"bearer": token}}}
    schema = schemathesis.openapi.from_wsgi(SPEC, app,
                                            config=schemathesis.Config.from_dict(config))
    if operations is not None:
        wanted = set(operations)
        schema = schema.include(
            lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in wanted)
    return schema


def fuzz_operations(app, token: str, module: str) -> None:
    """Generated requests to each of the module's operations: no 5xx, every answer as the
    document says (status, content type, headers, body)."""
    wanted = module_operations(app, module)
    schema = api_schema(app, token, operations=wanted)
    ran = set()
    with _rate_limits_off(app):
        _fuzz(schema, ran)
    assert ran == wanted, f"operations of {module} not in the document: {wanted - ran}"


@contextmanager
def _rate_limits_off(app):
    """The fuzz's hundreds of requests are no client to slow down (the limit answers 429,
    which a module's document need not describe; the host's tests cover the limit)."""
    limiters = list(app.extensions.get("limiter", ()))
    enabled = [limiter.enabled for limiter in limiters]
    for limiter in limiters:
        limiter.enabled = False
    try:
        yield
    finally:
        for limiter, was in zip(limiters, enabled, strict=True):
            limiter.enabled = was


def _fuzz(schema, ran: set) -> None:
    from hypothesis import HealthCheck, given, settings

    for result in schema.get_all_operations():
        operation = result.ok()
        ran.add((operation.method.upper(), operation.path))

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate()

        run()


# --- migrations -----------------------------------------------------------------------------------


def schema_diff(app) -> list:
    """What differs between the database's schema and the models (alembic's autogenerate)."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(context, db.metadata)


def trigger_names(conn, like: str = "%") -> set[str]:
    """The names of the database's triggers (``conn``'s) that are LIKE ``like``."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE :like"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE :like"
    return set(conn.execute(text(query), {"like": like}).scalars())


def missing_triggers(app) -> tuple[set[str], set[str]]:
    """SQLite: the triggers the models make (``create_all``, in memory) that the database
    lacks, and those it has that they do not make. Autogenerate compares no triggers, and
    SQLite drops a table's triggers when a migration rebuilds it (batch_alter_table): a
    maintained aggregate (erp.aggregates) would then silently stop counting. (A table
    that another table's trigger names cannot even be rebuilt until that trigger is
    dropped.) Two empty sets elsewhere (PostgreSQL alters tables in place)."""
    if db.engine.dialect.name != "sqlite":
        return set(), set()
    models = create_engine("sqlite://")
    try:
        db.metadata.create_all(models)
        with models.connect() as conn:
            expected = trigger_names(conn)
    finally:
        models.dispose()
    with db.engine.connect() as conn:
        found = trigger_names(conn)
    return expected - found, found - expected


def check_migrated_schema(app) -> None:
    """On an empty database: every branch migrated builds the models' schema, records every
    enabled module, and a second run changes nothing."""
    newly_installed = upgrade_database(app)
    enabled = set(modules(app))
    assert set(newly_installed) == enabled
    assert schema_diff(app) == []
    with app.app_context():
        assert missing_triggers(app) == (set(), set())
    with app.app_context():
        recorded = db.session.scalars(select(InstalledModule.name)).all()
        assert enabled <= set(recorded)
    assert upgrade_database(app) == []
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def check_downgrade_and_upgrade(app) -> None:
    """Every branch goes down to base (no table left but alembic's), then up again to a
    schema equal to the models."""
    upgrade_database(app)
    with app.app_context():
        for branch in reversed(branches(app)):
            flask_migrate.downgrade(revision=f"{branch}@base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(app)
    assert schema_diff(app) == []
    with app.app_context():
        assert missing_triggers(app) == (set(), set())
        db.engine.dispose()


# --- translations ---------------------------------------------------------------------------------

# What pybabel extracts (the project's babel.cfg, which a module's package does not ship).
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2"), ("**/templates/**.txt", "jinja2")]
OPTIONS_MAP = {"**.html": {"extensions": "jinja2.ext.i18n"},
               "**/templates/**.txt": {"extensions": "jinja2.ext.i18n"}}
# The names a module translates with (its translator's, erp.i18n.module_i18n), plural and
# context forms included.
KEYWORDS = EXTRACT_KEYWORDS
LOCALE = "pt_BR"


def catalog_cases(app) -> list:
    """(module name, its folder) of each enabled module, wherever it is installed."""
    return [pytest.param((name, module.path), id=name)
            for name, module in modules(app).items()]


def extracted(folder: Path) -> set[tuple[str, str | None]]:
    """The translatable strings of the code and templates under ``folder``: (msgid, context)."""
    from babel.messages.extract import extract_from_dir

    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(folder), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS):
        found.add((message if isinstance(message, str) else message[0], context))
    return found


def _translated(messages, msgid: str, context: str | None) -> bool:
    """Translated, every plural form too, and not fuzzy."""
    entry = messages.get(msgid, context=context)
    if entry is None or entry.fuzzy:
        return False
    strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
    return bool(strings) and all(strings)


def check_catalog(catalog: tuple[str, Path]) -> None:
    """Every translatable string of the module has a pt-BR translation in its own catalog
    (``<module>/translations/pt_BR/LC_MESSAGES/messages.po``)."""
    from babel.messages.pofile import read_po

    name, folder = catalog
    found = extracted(folder)
    if not found:
        return
    po_file = folder / "translations" / LOCALE / "LC_MESSAGES" / "messages.po"
    assert po_file.exists(), f"{name} has strings but no {LOCALE} catalog ({po_file})"
    with open(po_file, "rb") as fh:
        messages = read_po(fh)
    missing = sorted(f"{m} (context {c})" if c else m
                     for m, c in found if not _translated(messages, m, c))
    assert not missing, (f"untranslated in {po_file} (flask --app erp module translations "
                         f"{name} update): {missing}")
