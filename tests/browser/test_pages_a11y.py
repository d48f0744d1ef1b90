"""Every main page on a phone (390 px) and a laptop (1366 px), in pt-BR and in English
(issue 17, points 1 and 11): the page does not scroll sideways
(``document.documentElement.scrollWidth <= innerWidth``) and each of its tables is in a
box that scrolls on its own (.table-responsive: a longer name than the demo's cannot push
the page out either), the browser logs no error, no request fails or answers 400 or more,
and axe-core finds no serious or critical accessibility violation (nor landmark-unique,
which the issue named). Each page is loaded on the laptop's width and then made a phone's
(the layout is CSS's; erp.js follows resizes), which halves the page loads.

On the demo data (an account with contacts, opportunities, quotes with lines, orders,
invoices, receivables, service orders: erp.demo.load_demo, as `flask demo` loads it), as
the admin over every main page (home, each module's lists, the account page with each of
its tabs, the opportunity and quote forms new and edit, the funnel, the agenda, every
report, the imports, the admin's home) and as a sales rep over the home and the lists.

axe-core is vendored as a test asset (tests/browser/assets/axe-core: axe.min.js from the
npm package, MPL-2.0, with its licence files), evaluated in the page after it loaded (the
pages' Content-Security-Policy refuses inline script, which an injected <script> tag is;
the DevTools protocol's evaluation is not subject to it).

The page list is written out below; test_every_main_page_is_checked_or_excluded reads the
URL map so that a new page without parameters is either added to it or excluded with a
reason, never forgotten.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from erp.auth.models import User
from erp.db import db
from erp.demo import DEMO_PASSWORD
from erp.testing.app import empty_tables
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_csp import _demo
from tests.browser.test_login import sign_in

# What this sweep checks is what the browser gets (layout, accessibility, scripts,
# requests): the same on either database. The pages' queries run on PostgreSQL in their
# own tests; the CI's PostgreSQL pass skips the sweep to stay within its time.
SQLITE_PASS_ONLY = pytest.mark.skipif(bool(os.environ.get("ERP_TEST_DATABASE_URL")),
                                      reason="the page sweep runs in the SQLite pass")

pytestmark = [pytest.mark.browser, SQLITE_PASS_ONLY]

AXE = Path(__file__).parent / "assets" / "axe-core" / "axe.min.js"
ADMIN, REP = "admin", "ana"  # the demo's administrator and one of its sales reps
LOCALES = ("pt_BR", "en")
PHONE, LAPTOP = 390, 1366
WIDTHS = (LAPTOP, PHONE)
HEIGHT = 900
# What axe-core reports and this test fails on: every rule of WCAG 2.x A/AA and axe's
# best practices, at these impacts; plus one moderate rule the issue named (two
# landmarks of one kind, e.g. two <nav>, that no label tells apart).
FAILING_IMPACTS = {"serious", "critical"}
FAILING_RULES = {"landmark-unique"}

# The pages, by path; {name} is a record picked from the demo (tests/browser/test_csp.py's
# _demo: each kind on an account of the rep's). The account page is visited with each of
# its tabs (ACCOUNT_PAGE).
ACCOUNT_PAGE = "/crm/accounts/{account}"
ADMIN_PAGES = (
    "/",
    # CRM
    "/crm/accounts", "/crm/accounts/new", "/crm/accounts/{account}/edit", "/crm/contacts",
    "/crm/contacts/new", "/crm/contacts/{contact}/edit",
    "/crm/opportunities", "/crm/opportunities/new", "/crm/opportunities/{opportunity}",
    "/crm/opportunities/{opportunity}/edit", "/crm/actions/new", "/crm/agenda",
    "/crm/funnel", "/crm/drafts", "/crm/settings", "/crm/settings/stages",
    "/crm/settings/loss-reasons", "/crm/settings/tags",
    "/crm/contacts/{contact}", "/crm/duplicates/account", "/crm/duplicates/contact",
    "/crm/accounts/merge", "/crm/contacts/merge", "/crm/merges",
    # Sales
    "/sales/quotes", "/sales/quotes/new?account_id={account}", "/sales/quotes/{quote}",
    "/sales/quotes/{quote}/edit", "/sales/orders", "/sales/orders/{order}", "/sales/invoices",
    "/sales/invoices/{invoice}", "/sales/products", "/sales/products/new",
    # Finance
    "/finance/", "/finance/receivables/{receivable}",
    "/finance/receivables/new?account_id={account}",
    # Service
    "/service/", "/service/orders/new", "/service/orders/{service_order}",
    "/service/orders/{service_order}/edit",
    "/service/invoices", "/service/invoices/{service_invoice}",
    # Notes (the example module)
    "/notes/new?account_id={account}",
    # Reports
    "/reports", "/crm/reports/actions", "/crm/reports/actions/list", "/crm/reports/funnel",
    "/crm/reports/losses", "/finance/reports/aging",
    # Imports
    "/imports/", "/imports/new", "/imports/{import_waiting}/mapping",
    "/imports/{import_waiting}/preview", "/imports/{import_run}",
    # Search, the user's own pages, the admin's home
    "/search?q=a", "/auth/preferences", "/auth/api-tokens/", "/auth/calendar", "/admin/",
    ACCOUNT_PAGE,
)
# The rep: the home page and the lists (what she may open of them).
REP_PAGES = ("/", "/crm/accounts", "/crm/contacts", "/crm/opportunities", "/crm/agenda",
             "/crm/funnel", "/sales/quotes", "/sales/orders", "/sales/invoices", "/finance/",
             "/service/", "/service/invoices", "/reports")

# Parameterless GET routes that are not in ADMIN_PAGES, and why.
EXCLUDED = {
    # Redirects to a page in the list: /crm/ to /crm/accounts, /sales/ to /sales/quotes,
    # /finance/aging to /finance/reports/aging.
    "/crm/", "/sales/", "/finance/aging",
    # Needs an account (visited with one above): the opportunity form opened from the
    # menu picks it in the form, the others are reached from the account page.
    "/sales/quotes/new", "/sales/orders/new", "/sales/invoices/new",
    "/finance/receivables/new", "/notes/new",
    # Not pages: the CNPJ look-up's and the product picker's JSON, the favicon.
    "/crm/lookup/cnpj", "/sales/products/pick", "/favicon.ico",
    # Signed out: the login page (the test signs in through it).
    "/auth/login",
}
# Flask-Admin's model views (its own templates, tested in tests/erp/test_admin*.py):
# only the admin's home is a page of ours.
EXCLUDED_PREFIXES = ("/admin/", "/api/", "/static/")


def main_routes(app) -> set[str]:
    """Every GET route without parameters in the URL map."""
    return {rule.rule for rule in app.url_map.iter_rules()
            if rule.methods and "GET" in rule.methods and not rule.arguments
            and not rule.endpoint.endswith("static")}


def test_every_main_page_is_checked_or_excluded(app):
    listed = {page.split("?")[0] for page in ADMIN_PAGES if "{" not in page.split("?")[0]}
    forgotten = sorted(
        route for route in main_routes(app) - listed - EXCLUDED
        if route == "/admin/" or not route.startswith(EXCLUDED_PREFIXES))
    assert not forgotten, (
        f"pages in no list: add them to ADMIN_PAGES, or to EXCLUDED saying why: {forgotten}")
    # And every page listed is still one (a record's id in place of each {name}).
    adapter = app.url_map.bind("localhost")
    stale = []
    for page in (*ADMIN_PAGES, *REP_PAGES, *EXCLUDED):
        path = page.split("?")[0].format_map(defaultdict(lambda: "1"))
        try:
            adapter.match(path, method="GET")
        except HTTPException:  # NotFound, MethodNotAllowed, a slash's RequestRedirect
            stale.append(page)
    assert not stale, f"listed pages that are no longer routes: {stale}"


# --- the checks -----------------------------------------------------------------------------

# axe.run over the whole document; what it found, as plain data.
RUN_AXE = """async () => {
  const results = await axe.run(document, {
    resultTypes: ["violations"],
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                    "best-practice"]},
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " :: " + n.failureSummary
      .replace(/\\s+/g, " ").slice(0, 160)),
    count: v.nodes.length,
  }));
}"""

# What pushes the page wider than the window (null when nothing does): the outermost
# elements that reach past its right edge, not counting what a box that scrolls sideways
# (a .table-responsive) keeps inside itself. And the tables that are in no such box: one
# that fits with the demo's data would push the page out with a longer name.
LAYOUT = """() => {
  const scrolls = (e) => ["auto", "scroll", "hidden", "clip"]
    .includes(getComputedStyle(e).overflowX);
  // Whether a box that scrolls (or clips) holds e: one of its ancestors, or for an
  // absolutely positioned e (a .visually-hidden text) one of its containing block's.
  const inScroller = (e) => {
    const position = getComputedStyle(e).position;
    if (position === "fixed") return false;
    const from = position === "absolute" ? e.offsetParent : e.parentElement;
    for (let up = from; up && up !== document.body; up = up.parentElement) {
      if (scrolls(up)) return true;
    }
    return false;
  };
  const name = (e) => e.localName + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className.trim()
       ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  const edge = window.innerWidth + 1;
  const out = [...document.body.querySelectorAll("*")].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width && box.right > edge && !inScroller(e)
      && !(e.parentElement && e.parentElement.getBoundingClientRect().right > edge);
  });
  const root = document.documentElement;
  return {
    overflow: root.scrollWidth > window.innerWidth
      ? {width: root.scrollWidth, window: window.innerWidth,
         by: out.slice(0, 4).map((e) => name(e) + " right="
                                 + Math.round(e.getBoundingClientRect().right))}
      : null,
    unwrapped: [...document.querySelectorAll("main table")]
      .filter((t) => t.getClientRects().length && !inScroller(t)).map(name),
  };
}"""


class Visitor:
    """One signed-in browser page, reused from page to page, that collects what went wrong
    on the current one: console errors, uncaught exceptions, failed requests."""

    def __init__(self, context, page):
        self.context, self.page = context, page
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console error: {m.text} ({m.location.get('url', '')})"))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        # Not ERR_ABORTED: a request the browser dropped itself when the test went on to
        # the next page (the icon Chromium fetches after the load, once in a while).
        page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED" and self.errors.append(
            f"request failed: {r.method} {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(
            f"HTTP {r.status}: {r.request.method} {r.url}"))

    def refused(self, url: str) -> bool:
        """Whether the page is not the user's (403); any other answer is checked."""
        return self.context.request.get(url, max_redirects=0).status == 403

    def open(self, url: str, *, idle: bool = False) -> list[str]:
        """Open ``url`` on a laptop's screen; ``idle``: wait until it fetched what it
        fetches after loading (the account page's tab counts)."""
        self.errors.clear()
        self.page.set_viewport_size({"width": LAPTOP, "height": HEIGHT})
        response = self.page.goto(url)
        if response is None or response.status != 200:
            return [f"HTTP {response.status if response else '?'}"]
        if idle:
            self.page.wait_for_load_state("networkidle")
        return []

    def check_widths(self, where: str = "") -> list[str]:
        """The page as it is, on a laptop's screen and then a phone's (the same page made
        narrower: the layout is CSS's, and erp.js follows resizes); back to the laptop's."""
        problems = []
        for width in WIDTHS:
            if self.page.viewport_size["width"] != width:
                self.page.set_viewport_size({"width": width, "height": HEIGHT})
                # Two frames: the layout, and what ResizeObserver callbacks changed.
                self.page.evaluate("() => new Promise((done) => requestAnimationFrame("
                                   "() => requestAnimationFrame(done)))")
            problems += [f"{width}px{where}: {problem}" for problem in self.check()]
        self.page.set_viewport_size({"width": LAPTOP, "height": HEIGHT})
        return problems

    def check(self) -> list[str]:
        """What is wrong with the page as it is now."""
        page = self.page
        problems = list(self.errors)
        self.errors.clear()
        layout = page.evaluate(LAYOUT)
        if layout["overflow"]:
            problems.append("scrolls sideways: " + json.dumps(layout["overflow"]))
        if layout["unwrapped"]:
            problems.append("tables in no .table-responsive: " + ", ".join(layout["unwrapped"]))
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.evaluate(AXE.read_text(encoding="utf-8"))
        for violation in page.evaluate(RUN_AXE):
            if violation["impact"] in FAILING_IMPACTS or violation["id"] in FAILING_RULES:
                problems.append(
                    f"axe {violation['impact']} {violation['id']} ({violation['help']}) "
                    f"x{violation['count']}: " + " | ".join(violation["nodes"]))
        return problems


@pytest.fixture(autouse=True)
def _clean_tables():
    """Replaces the test kit's (which empties the tables after each test): the demo data
    is loaded once for the module, and emptied after it (see `demo`)."""
    yield


@pytest.fixture(scope="module")
def demo(app, tmp_path_factory):
    saved = app.config.get("IMPORT_FOLDER")
    app.config["IMPORT_FOLDER"] = str(tmp_path_factory.mktemp("imports"))
    try:
        yield _demo(app)
    finally:
        app.config["IMPORT_FOLDER"] = saved
        empty_tables(app)


def set_locale(app, username: str, locale: str) -> None:
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).locale = locale
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="module", params=LOCALES)
def locale(request, app, demo):
    """The admin reads the pages in this language."""
    set_locale(app, ADMIN, request.param)
    return request.param


@pytest.fixture(scope="module")
def visitors(browser, live_server, demo):
    """visitor(username): a browser page signed in as the demo user, made once."""
    made = {}

    def visitor(username: str) -> Visitor:
        if username not in made:
            context = browser.new_context(base_url=live_server, locale="en-US")
            context.set_default_timeout(TIMEOUT_MS)
            made[username] = Visitor(context, context.new_page())
            sign_in(made[username].page, username, DEMO_PASSWORD)
        return made[username]

    yield visitor
    for made_visitor in made.values():
        made_visitor.context.close()


def check_page(visitor: Visitor, url: str) -> list[str]:
    return visitor.open(url) or visitor.check_widths()


def check_account_page(visitor: Visitor, url: str) -> list[str]:
    """The account page, and each of its tabs opened."""
    page = visitor.page
    problems = visitor.open(url, idle=True)
    if problems:
        return problems
    problems = visitor.check_widths()
    tabs = page.locator("#account-tabs [data-tab]")
    keys = [tabs.nth(i).get_attribute("data-tab") for i in range(tabs.count())]
    assert len(keys) >= 3, keys
    for key in keys:
        page.locator(f"#tab-{key}").click()
        expect(page.locator(f"#panel-{key}")).to_have_attribute("data-loaded", "true")
        expect(page.locator(f"#panel-{key}")).not_to_have_attribute("aria-busy", "true")
        problems += visitor.check_widths(f" tab {key}")
    return problems


def report(url: str, problems: list[str]) -> str:
    return f"{url}:\n  " + "\n  ".join(dict.fromkeys(problems))


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_page_as_the_admin(path, demo, locale, visitors):
    url = path.format(**demo)
    visitor = visitors(ADMIN)
    check = check_account_page if path == ACCOUNT_PAGE else check_page
    problems = check(visitor, url)
    assert not problems, report(url, problems)


@pytest.mark.parametrize("path", REP_PAGES)
def test_page_as_a_sales_rep(app, path, demo, visitors):
    """In pt-BR (the demo's language): the admin's run covers English."""
    set_locale(app, REP, "pt_BR")
    visitor = visitors(REP)
    if visitor.refused(path):
        pytest.skip(f"{path} is not the rep's")
    problems = check_page(visitor, path)
    assert not problems, report(path, problems)


# Templates whose tables are not in a .table-responsive box, and why.
UNWRAPPED_TABLES = {
    # Flask-Admin's own list filters (copied by erp/admin_csp.py, not ours to change).
    "erp/templates/admin/model/layout.html",
    # The printed quote: laid out for a sheet of paper, not a screen.
    "modules/sales/templates/sales/quote_print.html",
}


def test_every_template_table_is_in_a_box_that_scrolls():
    """The pages above show only the demo's tables; this reads every template, those of
    pages the test does not open included: a file has a .table-responsive box per table."""
    root = Path(__file__).resolve().parents[2]
    folders = [root / "erp" / "templates", *root.glob("modules/*/templates"),
               *root.glob("examples/*/**/templates")]
    found = []
    templates = sorted({p for folder in folders for p in folder.rglob("*.html")})
    assert len(templates) > 50
    for path in templates:
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if name in UNWRAPPED_TABLES:
            continue
        tables = text.count("<table")
        if tables > text.count("table-responsive"):
            found.append(f"{name}: {tables} tables, {text.count('table-responsive')} boxes")
    assert not found, "\n".join(found)
