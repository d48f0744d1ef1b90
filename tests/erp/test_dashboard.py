"""The home dashboard as the host lays it out, with a made-up module's widgets: order,
width, permission, the quick links, the empty states, and a failing widget becoming a
notice (also after a failed SQL statement, which aborts a PostgreSQL transaction)."""

from __future__ import annotations

import logging
import re

import pytest

from erp.auth.models import Role
from erp.dashboard import Card
from erp.db import db
from erp.registry import DashboardWidget
from tests.conftest import login_as, make_user
from tests.erp.modfactory import modules_folder, unique, write_module

WIDGETS = '''
from sqlalchemy import text

from erp.db import db
from erp.registry import DashboardWidget


def users_seen(user):
    count = db.session.scalar(text("SELECT count(*) FROM auth_user"))
    return f'<p class="seen">{{count}} users, seen by {{user.username}} &amp; co</p>'


def broken(user):
    raise RuntimeError("this widget is broken")


def bad_sql(user):
    db.session.execute(text("SELECT * FROM no_such_table_at_all"))
    return "never"


registry.add(WebBlueprint(bp))
registry.add(MenuItem({name!r}, "Widgets module", {name!r} + ".index"))
registry.add(DashboardWidget("w.wide", "Wide one", render=users_seen, order=50, width=12))
registry.add(DashboardWidget("w.first", "First one", render=lambda u: "<b>1</b>", order=10,
                             width=4))
registry.add(DashboardWidget("w.bad_sql", "Bad SQL", render=bad_sql, order=20))
registry.add(DashboardWidget("w.broken", "Broken one", render=broken, order=30))
registry.add(DashboardWidget("w.readers", "CRM readers only", render=lambda u: "<i>readers</i>",
                             permission="crm.read", order=40))
'''


@pytest.fixture
def widget_app(tmp_path, make_app):
    folder = modules_folder(tmp_path)
    name = unique("widgets")
    write_module(folder, name, body=WIDGETS.format(name=name))
    return make_app(ERP_MODULE_DIRS=[str(folder)], ERP_MODULES=[name])


def widget_keys(html: str) -> list[str]:
    return re.findall(r'data-widget="([^"]+)"', html)


def card_html(html: str, key: str) -> str:
    start = html.index(f'data-widget="{key}"')
    return html[start:html.index("</section>", start)]


def test_widgets_in_order_with_their_width_and_permission(widget_app, users):
    client = widget_app.test_client()
    login_as(client, users["rep_a"])
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert widget_keys(html) == ["w.first", "w.bad_sql", "w.broken", "w.readers", "w.wide"]
    assert "<b>1</b>" in card_html(html, "w.first")  # the widget's HTML, not escaped
    assert "8 users, seen by rep_a &amp; co" in card_html(html, "w.wide")
    # The grid: width 12 is the whole row; width 4 a third on wide screens, half on tablets.
    assert re.search(r'class="col-12 col-md-12 col-xl-12">\s*<section[^>]*data-widget="w.wide"',
                     html)
    assert re.search(r'class="col-12 col-md-6 col-xl-4">\s*<section[^>]*data-widget="w.first"',
                     html)
    assert 'data-quick-link="' in html  # the module links stay, smaller, above the widgets

    client = widget_app.test_client()
    login_as(client, users["nobody"])  # no crm.read: that widget is left out
    html = client.get("/").get_data(as_text=True)
    assert widget_keys(html) == ["w.first", "w.bad_sql", "w.broken", "w.wide"]


def test_a_failing_widget_is_a_notice_and_is_logged(widget_app, users, caplog):
    client = widget_app.test_client()
    login_as(client, users["admin"])
    with caplog.at_level(logging.ERROR, logger="erp.dashboard"):
        response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for key in ("w.broken", "w.bad_sql"):
        card = card_html(html, key)
        assert "data-widget-failed" in card and "could not be shown" in card
    assert "this widget is broken" not in html and "never" not in html
    logged = [r.getMessage() for r in caplog.records]
    assert any("w.broken" in m for m in logged) and any("w.bad_sql" in m for m in logged)
    # The failed SQL statement did not spoil the widgets after it (nor the layout).
    assert "data-widget-failed" not in card_html(html, "w.wide")
    assert "8 users, seen by admin" in card_html(html, "w.wide")
    assert "data-widget-failed" not in card_html(html, "w.first")


def test_host_alone_has_the_empty_state(make_app, users):
    app = make_app(ERP_MODULES=[])
    client = app.test_client()
    login_as(client, users["admin"])
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="dashboard"' not in html and "Your roles give access to no module" in html


def test_no_widget_for_the_user_leaves_the_quick_links(make_app, users):
    app = make_app(ERP_MODULES=["crm", "sales"])
    assert [w.key for w in app.extensions["erp"].items(
        DashboardWidget, None, check_permission=False)] == ["crm.agenda", "crm.pipeline"]
    with app.app_context():  # someone who reads sales only: a link, and no widget
        role = Role(name="sales_viewer", scope="own", permissions=["sales.read"])
        viewer = make_user("viewer", [role])
        db.session.commit()
        viewer_id = viewer.id
        db.session.remove()
    client = app.test_client()
    login_as(client, viewer_id)
    html = client.get("/").get_data(as_text=True)
    assert 'data-quick-link="sales"' in html and 'data-quick-link="crm"' not in html
    assert "data-widget=" not in html and "Nothing on your dashboard." in html


def test_width_is_kept_within_the_grid():
    def card(width) -> Card:
        return Card(DashboardWidget("x.y", "X", render=str, width=width), None)

    assert card(1).width == 3 and card(40).width == 12 and card("bad").width == 6
    assert card(8).grid_class == "col-12 col-md-12 col-xl-8"
    assert card(6).grid_class == "col-12 col-md-6 col-xl-6"
    assert card(6).dom_id == "widget-x-y"
