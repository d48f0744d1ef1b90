"""The authorization matrix, a permanent test (issue 13).

Every route of the URL map and every operation of the OpenAPI document, every method, as
an anonymous visitor, each seeded role and a user without one, on the rep's own record, a
team-mate's and another team's (where the route names a record): the answer must be the
one tests/access/expectations.py gives. A route without an expectation fails.

One world (tests/access/world.py) serves the whole module: reads and refused writes
first (a refused write changes nothing), then the allowed writes, whose bodies are empty
or harmless (a form error, an idempotent state change). Writes that remove what other
cells need are in test_matrix_destructive.py.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from erp.auth.models import Role
from erp.db import db
from erp.testing.app import empty_tables
from modules.crm.kinds import AccountTab

from .expectations import (
    EXPECTATIONS,
    FORBIDDEN,
    LOGIN_PAGE,
    NOT_FOUND,
    OK,
    ROLE_PERMISSIONS,
)
from .matrix import (
    ANONYMOUS,
    API_PREFIX,
    EVERYONE,
    SPEC,
    actors,
    cells,
    check,
    classify,
    expected,
    known_cases,
    may,
    route_cases,
    visible,
)
from .world import build_world

CASES = known_cases()
WRITES = [case for case in CASES if case.writes and not case.expect.destroys]


@pytest.fixture(autouse=True)
def _clean_tables():
    """Replaces tests/conftest.py's: the module's world must outlive each test."""
    yield


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path_factory.mktemp("imports")))
    try:
        yield build_world(app)
    finally:
        empty_tables(app)
        patch.undo()


@pytest.fixture(scope="module")
def everyone(app, world):
    return actors(app, world)


# --- completeness -------------------------------------------------------------------------


def test_every_route_has_an_expectation(app):
    cases = route_cases(app)
    missing = sorted(str(case) for case in cases if case.expect is None)
    assert not missing, "add these routes to tests/access/expectations.py:\n" + "\n".join(
        missing)
    endpoints = {case.endpoint for case in cases}
    stale = sorted(set(EXPECTATIONS) - endpoints)
    assert not stale, f"no such endpoint any more, remove from expectations.py: {stale}"
    assert {str(case) for case in cases} == {str(case) for case in CASES}
    for case in cases:
        assert case.kinds is not None  # every URL argument is known (raises otherwise)


def test_every_api_operation_is_a_route_in_the_matrix(app):
    """The OpenAPI document and the URL map list the same operations (so the matrix, made
    from the URL map, covers the document), and each documents the refusals it can give."""
    document = app.test_client().get(SPEC).get_json()
    adapter = app.url_map.bind("localhost")
    by_rule = {(case.rule.rule, case.method): case for case in CASES}
    documented = set()
    undocumented_refusals = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            method = method.upper()
            sample = re.sub(r"\{[^}]+\}", "1", path)  # /accounts/{account_id} -> /accounts/1
            rule, _args = adapter.match(sample, method=method, return_rule=True)
            case = by_rule.get((rule.rule, method))
            assert case is not None, f"{method} {path}: not in the matrix"
            documented.add((rule.rule, method))
            outcomes = {expected(case, actor, label)[0] for actor, label in cells(case)}
            for status, outcome in (("403", FORBIDDEN), ("404", NOT_FOUND)):
                if outcome in outcomes and status not in operation.get("responses", {}):
                    undocumented_refusals.append(f"{method} {path}: {status}")
    api_routes = {(case.rule.rule, case.method) for case in CASES
                  if case.rule.rule.startswith(API_PREFIX) and case.rule.rule != SPEC}
    assert api_routes - documented == set(), "API routes missing from the OpenAPI document"
    assert not undocumented_refusals, "answers the OpenAPI document does not mention"


def test_the_seeded_roles_hold_the_permissions_the_matrix_expects(app, world):
    with app.app_context():
        roles = {role.name: set(role.permissions or ())
                 for role in db.session.scalars(select(Role))}
    for role, permissions in ROLE_PERMISSIONS.items():
        if role != "nobody":
            assert roles[role] == permissions, role


def test_account_tabs_follow_their_permissions(app, world, everyone):
    """The tab routes above ask one tab (contacts); each module's tab has its own permission:
    without it, the tab (and its count) is not found, as if the module were not there."""
    account = world.record("account", "own")
    failures = []
    for tab in app.extensions["erp"].items(AccountTab, check_permission=False):
        for actor in EVERYONE:
            if actor == ANONYMOUS:
                want = LOGIN_PAGE
            elif not may(actor, "crm.read"):
                want = FORBIDDEN
            elif not visible("account", actor, "own"):
                want = NOT_FOUND
            else:
                want = OK if tab.permission is None or may(actor, tab.permission) else NOT_FOUND
            for url in (f"/crm/accounts/{account}/tabs/{tab.key}",
                        f"/crm/accounts/{account}/tabs/{tab.key}/count"):
                got = classify(everyone[actor].client.get(url))
                if got != want:
                    failures.append(f"{url} as {actor}: expected {want}, got {got}")
    assert not failures, "\n".join(failures)


# --- the matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_access(app, world, everyone, case):
    """Reads: every cell. Writes: the refused cells (anonymous, no permission, out of
    scope), sent with a valid CSRF token so that the refusal is the route's own."""
    asked = cells(case) if not case.writes else cells(case, allowed=False)
    failures = check(app, case, asked, everyone, world)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("case", WRITES, ids=str)
def test_allowed_writes(app, world, everyone, case):
    """The allowed cells of the writes: not refused (after every read of the module)."""
    failures = check(app, case, cells(case, allowed=True), everyone, world)
    assert not failures, "\n".join(failures)
