"""The shared page parts of erp/templates/macros.html that every module's templates use
(issue 14): one sub-navigation, one status badge, one filter bar."""

from __future__ import annotations

import re

import pytest
from flask_login import login_user


class Holder:
    """A signed-in user holding ``permissions``, enough for Flask-Login and the macros."""

    is_active = is_authenticated = True
    is_anonymous = False

    def __init__(self, *permissions: str):
        self.permissions = set(permissions)

    def get_id(self) -> str:
        return "0"

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


@pytest.fixture
def render(app):
    """render(source, user, url, **context): the macros rendered in a request to ``url``."""

    def render(source: str, user: Holder | None = None, url: str = "/", **context) -> str:
        with app.test_request_context(url):
            if user is not None:
                login_user(user)
            return app.jinja_env.from_string(source).render(**context)

    return render


ENTRIES = [
    ("lists", "/m/lists", "Lists", None),
    ("items", "/m/items", "Items & <more>", "m.read"),
    ("settings", "/m/settings", "Settings", "m.manage"),
]
SUBNAV = '{% from "macros.html" import subnav %}{{ subnav(entries, active, id="m-nav") }}'


def test_subnav_draws_the_entries_the_user_may_open(render):
    html = render(SUBNAV, Holder("m.read"), entries=ENTRIES, active="items")
    assert 'class="nav nav-underline mb-3" id="m-nav"' in html
    assert re.findall(r'href="([^"]+)"', html) == ["/m/lists", "/m/items"]  # not settings
    assert "Items &amp; &lt;more&gt;" in html  # labels are escaped
    active = re.findall(r'<a class="nav-link active" aria-current="page" href="([^"]+)"', html)
    assert active == ["/m/items"] and html.count("active") == 1

    manager = render(SUBNAV, Holder("m.read", "m.manage"), entries=ENTRIES, active="settings")
    assert re.findall(r'href="([^"]+)"', manager) == ["/m/lists", "/m/items", "/m/settings"]
    assert 'aria-current="page" href="/m/settings"' in manager


def test_status_badge_reads_labels_and_tones(render):
    source = ('{% from "macros.html" import status_badge %}'
              '{{ status_badge(value, labels, tones, id=id) }}')
    labels, tones = {"paid": "Paid <now>"}, {"paid": "text-bg-success"}
    html = render(source, value="paid", labels=labels, tones=tones, id="the-status")
    assert html == ('<span class="badge text-bg-success" id="the-status" data-status="paid">'
                    "Paid &lt;now&gt;</span>")
    unknown = render(source, value="<odd>", labels=labels, tones=None, id=None)
    assert unknown == ('<span class="badge text-bg-light" data-status="&lt;odd&gt;">'
                       "&lt;odd&gt;</span>")


FILTERS = """
{%- from "macros.html" import filter_check, filter_search, filter_select, list_filters %}
{% call list_filters("/m/lists", id="m-filters") %}
  {{ filter_search("q", "Search") }}
  {{ filter_select("status", "Status", ["open", "done"], labels={"open": "Open"}, all="All") }}
  {{ filter_select("owner", "Owner", owners, key="id", text="name", all="All") }}
  {{ filter_check("mine", "Mine") }}
{% endcall %}"""


class Person:
    def __init__(self, id_: int, name: str):
        self.id, self.name = id_, name


def test_list_filters_keep_the_query_and_the_account(render):
    owners = [Person(1, "Ana"), Person(2, "Bruno")]
    url = '/m/lists?q="><b>x&status=done&owner=2&mine=1&account_id=7'
    html = render(FILTERS, url=url, owners=owners)
    assert '<form method="get" action="/m/lists"' in html and 'id="m-filters"' in html
    assert '<input type="hidden" name="account_id" value="7">' in html
    assert 'name="q" value="&#34;&gt;&lt;b&gt;x"' in html  # the query is escaped
    assert re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html) == [
        ("", "", "All"), ("open", "", "Open"), ("done", " selected", "done"),
        ("", "", "All"), ("1", "", "Ana"), ("2", " selected", "Bruno")]
    assert re.search(r'name="mine" value="1" checked>', html)

    plain = render(FILTERS, url="/m/lists", owners=owners)
    assert 'type="hidden"' not in plain and " selected" not in plain and "checked" not in plain
    assert 'value=""' in plain  # an empty search box
