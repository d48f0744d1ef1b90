"""The access matrix's machinery: routes into cases, cases into requests, answers into
outcomes, and what each (route, actor, record) should answer according to expectations.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from erp import create_app
from tests.conftest import base_config, csrf_token, login_as

from .expectations import (
    ADMIN,
    ADMIN_AJAX,
    ADMIN_INDEX_VIEWS,
    ADMIN_VIEWS,
    ALLOWED,
    ARG_KINDS,
    BAD,
    EXPECTATIONS,
    FORBIDDEN,
    LOGIN,
    LOGIN_PAGE,
    NOT_FOUND,
    OK,
    PUBLIC,
    REDIRECT,
    ROLE_PERMISSIONS,
    SCOPES,
    SHARING,
    STATIC_FILES,
    UNAUTHORIZED,
    Expect,
    Ref,
)
from .world import ACTOR_USERS, ACTORS, LABELS, World

ANONYMOUS = "anonymous"
EVERYONE = (ANONYMOUS, *ACTORS)
API_PREFIX = "/api/v1/"
SPEC = "/api/v1/openapi.json"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Case:
    """One URL rule and one of its methods, with what is expected of it."""

    endpoint: str
    rule: object  # werkzeug.routing.Rule
    method: str
    expect: Expect | None

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule} ({self.endpoint})"

    @property
    def api(self) -> bool:
        return self.rule.rule.startswith(API_PREFIX) and self.rule.rule != SPEC

    @property
    def writes(self) -> bool:
        return self.method in WRITES

    @property
    def kinds(self) -> dict[str, str]:
        """Where the case names a record: URL argument, query or body field -> its kind."""
        found = {}
        blueprint = self.endpoint.rpartition(".")[0]
        for arg in sorted(self.rule.arguments):
            if arg in self.expect.args or arg == "filename":  # static files: see url_of
                continue
            kind = (self.expect.kinds.get(arg) or ARG_KINDS.get(f"{blueprint}.{arg}")
                    or ARG_KINDS.get(arg))
            if kind is None:
                raise LookupError(f"{self}: say in expectations.py what <{arg}> is")
            found[arg] = kind
        for where in (self.expect.query, self.expect.body):
            found.update({name: ref.kind for name, ref in where.items() if isinstance(ref, Ref)})
        return found

    @property
    def labels(self) -> tuple[str | None, ...]:
        return LABELS if self.kinds else (None,)


# --- the cases ----------------------------------------------------------------------------


def admin_endpoints(app) -> set[str]:
    """The blueprints of the admin interface's views (each view is one)."""
    return {view.endpoint for admin in app.extensions.get("admin", []) for view in admin._views}


def expectation_for(app, endpoint: str, method: str) -> Expect | None:
    if endpoint in EXPECTATIONS:
        found = EXPECTATIONS[endpoint]
        return found.get(method) if isinstance(found, dict) else found
    if endpoint == "static" or endpoint.endswith(".static"):
        return STATIC_FILES
    if endpoint.partition(".")[0] in admin_endpoints(app):
        if endpoint == "admin.index" or endpoint.endswith(".index_view"):
            return ADMIN_INDEX_VIEWS
        if endpoint.endswith((".ajax_lookup", ".ajax_update")):
            return ADMIN_AJAX
        return ADMIN_VIEWS
    return None


def route_cases(app) -> list[Case]:
    """Every rule of the URL map, every method (HEAD and OPTIONS are Flask's own)."""
    cases = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cases.append(Case(rule.endpoint, rule, method,
                              expectation_for(app, rule.endpoint, method)))
    return cases


@functools.cache
def collection_app():
    """An app like the suite's, to list the routes when tests are collected (no database)."""
    return create_app(base_config("sqlite://"))


@functools.cache
def known_cases() -> tuple[Case, ...]:
    """The cases with an expectation (the others fail test_every_route_has_an_expectation)."""
    return tuple(case for case in route_cases(collection_app()) if case.expect is not None)


# --- what should happen ---------------------------------------------------------------------


def may(actor: str, access: str) -> bool:
    if access == PUBLIC:
        return True
    if actor == ANONYMOUS:
        return False
    if actor == "admin" or access == LOGIN:
        return True
    return access != ADMIN and access in ROLE_PERMISSIONS[actor]


def visible(kind: str, actor: str, label: str) -> bool:
    """Whether ``actor`` may see the ``label`` record of ``kind`` (see world.py's labels)."""
    sharing = SHARING[kind]
    if sharing == "none":
        return True
    owner = actor == "sales_rep" and label == "own"  # the only actor who owns world records
    if sharing == "user":
        return owner
    if sharing == "user or admin":
        return owner or actor == "admin"
    scope = SCOPES[actor]
    return owner or scope == "all" or (scope == "team" and label in ("own", "team"))


def expected(case: Case, actor: str, label: str | None) -> tuple[str, bool]:
    """What ``actor`` should get from the case on the ``label`` record, and whether that
    is the route doing its work (True) or refusing (False)."""
    expect = case.expect
    if actor == ANONYMOUS and expect.access != PUBLIC:
        return (UNAUTHORIZED if case.api else LOGIN_PAGE), False
    if not may(actor, expect.access):
        return FORBIDDEN, False
    if label is not None and not all(visible(kind, actor, label)
                                     for kind in case.kinds.values()):
        return NOT_FOUND, False
    if actor == ANONYMOUS and expect.anonymous:
        return expect.anonymous, True
    return (expect.write_ok if case.writes else expect.ok), True


def matches(want: str, got: str) -> bool:
    return want == got or (want == ALLOWED and got in (OK, REDIRECT, BAD))


# --- asking ----------------------------------------------------------------------------------


def classify(response) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return OK
    if 300 <= status < 400:
        path = urlsplit(response.headers.get("Location", "")).path
        return LOGIN_PAGE if path.rstrip("/") == "/auth/login" else REDIRECT
    return {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, 400: BAD, 409: BAD,
            422: BAD}.get(status, f"HTTP {status}")


def static_file(app, endpoint: str) -> str:
    """A file the static endpoint serves (any: they are all public)."""
    if endpoint == "static":
        folder = app.static_folder
    else:
        folder = app.blueprints[endpoint.rpartition(".")[0]].static_folder
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file()) if folder else []
    if not files:
        raise LookupError(f"{endpoint} serves no file to ask for")
    return files[0].relative_to(folder).as_posix()


def _value(value, label: str | None, world: World):
    return world.record(value.kind, label) if isinstance(value, Ref) else value


def url_of(app, case: Case, label: str | None, world: World) -> str:
    values = {}
    kinds = case.kinds
    for arg in case.rule.arguments:
        if arg in case.expect.args:
            values[arg] = case.expect.args[arg]
        elif arg == "filename":
            values[arg] = static_file(app, case.endpoint)
        else:
            values[arg] = world.record(kinds[arg], label)
    _domain, path = case.rule.build(values, append_unknown=False)
    query = {name: _value(value, label, world) for name, value in case.expect.query.items()}
    return path + ("?" + urlencode(query) if query else "")


@dataclass
class Actor:
    """A test client signed in as one actor, with its CSRF token and API token."""

    name: str
    client: object
    csrf: str
    token: str | None


def actors(app, world: World) -> dict[str, Actor]:
    found = {}
    for name in EVERYONE:
        client = app.test_client()
        user = ACTOR_USERS.get(name)
        if user is not None:
            login_as(client, world.users[user])
        page = "/auth/login" if user is None else "/auth/preferences"
        found[name] = Actor(name, client, csrf_token(client, page),
                            world.tokens.get(user) if user else None)
    return found


def ask(app, case: Case, actor: Actor, label: str | None, world: World):
    url = url_of(app, case, label, world)
    body = {name: _value(value, label, world) for name, value in case.expect.body.items()}
    if case.api:
        headers = {"Authorization": f"Bearer {actor.token}"} if actor.token else {}
        kwargs = {"json": body} if case.writes else {}
        return url, actor.client.open(url, method=case.method, headers=headers, **kwargs)
    data = {**body, "csrf_token": actor.csrf} if case.writes else None
    return url, actor.client.open(url, method=case.method, data=data)


def check(app, case: Case, cells, everyone: dict[str, Actor], world: World) -> list[str]:
    """Ask each (actor, label) cell; the lines that went otherwise than expected."""
    failures = []
    for actor, label in cells:
        want, _allowed = expected(case, actor, label)
        url, response = ask(app, case, everyone[actor], label, world)
        got = classify(response)
        if not matches(want, got):
            record = f" record={label}" if label else ""
            failures.append(f"{case.endpoint} {case.method} {url} as {actor}{record}: "
                            f"expected {want}, got {got} ({response.status_code})")
    return failures


def cells(case: Case, *, allowed: bool | None = None):
    """(actor, label) pairs of a case; only the allowed (or only the refused) ones if asked."""
    for actor in EVERYONE:
        for label in case.labels:
            if allowed is None or allowed == expected(case, actor, label)[1]:
                yield actor, label
