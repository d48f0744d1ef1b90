"""Every main page in Chromium with the Content-Security-Policy in force (erp/security.py):
no violation report, no console error, no inline script or handler left in the page, and
what moved from inline script to static files still works (issue 13).

On the demo data, as the admin (every page of the ERP and the admin, a record of each
kind, each account tab, an import's pages) and as a sales rep (whatever she may open of
the same).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from erp.auth.models import User
from erp.auth.seed import ensure_default_roles, grant_module_defaults
from erp.db import db
from erp.demo import DEMO_PASSWORD, load_demo
from erp.imports import services as import_services
from erp.security import CONTENT_SECURITY_POLICY
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_login import sign_in
from tests.erp.importing import csv_bytes, make_cnpj

pytestmark = pytest.mark.browser

ADMIN, REP = "admin", "ana"  # the demo's admin and one of its sales reps

# Records each violation the browser reports, before any script of the page runs.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || "?"}:${event.lineNumber} ${event.sample || ""}`);
});
"""

# What the policy would refuse once it runs (a handler only when its event fires): found
# in the page as loaded, so a handler nobody clicks in this test is still caught.
FIND_INLINE = """(checkLinks) => {
  const found = [];
  document.querySelectorAll("script:not([src])").forEach((script) => {
    const text = script.textContent.trim();
    if (text) found.push(`inline <script>: ${text.slice(0, 80)}`);
  });
  document.querySelectorAll("*").forEach((element) => {
    for (const attribute of element.attributes) {
      if (/^on/i.test(attribute.name)) {
        found.push(`<${element.localName} ${attribute.name}="${attribute.value.slice(0, 80)}">`);
      }
    }
  });
  if (checkLinks) {
    document.querySelectorAll('a[href^="javascript:" i]').forEach((link) => {
      found.push(`<a href="${link.getAttribute("href")}">`);
    });
  }
  document.querySelectorAll("style").forEach(() => found.push("<style> element"));
  return found;
}"""

# Parameterless routes that are not pages to look at: the CNPJ look-up's and the catalog
# picker's JSON answers, the
# forms that need an account (visited with one, in record_pages), Flask-Admin's select2
# look-ups and its record views without ?id= (they send back to the list; a few are
# visited with one, in admin_pages). The favicon is a file like the static ones: opened as a
# page, Chromium's own image viewer styles it inline; as an icon it is fetched, not rendered.
SKIP_ENDPOINTS = {"crm.lookup", "finance.new_receivable", "notes.new_note", "sales.new_invoice",
                  "sales.new_order", "sales.new_quote", "favicon",
                  "sales.pick_products"}  # the line pickers' JSON answer
SKIP_SUFFIXES = ("static", ".ajax_lookup", ".details_view", ".edit_view")


@dataclass
class Watcher:
    """A signed-in browser context that visits pages and collects what went wrong."""

    context: object
    page: object
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # what confirm() and alert() asked
    current: str = ""

    def start(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(
            f"{self.current}: uncaught {error}"))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        # The one request the pages do not make: Chromium asks for /favicon.ico by itself.
        if message.type == "error" and not message.location.get("url", "").endswith(
                "/favicon.ico"):
            self.problems.append(f"{self.current}: console error: {message.text}")

    def may_open(self, url: str) -> bool:
        response = self.context.request.get(url, max_redirects=0)
        return response.status == 200 and response.headers.get(
            "content-type", "").startswith("text/html")

    def visit(self, url: str, *, idle: bool = False) -> None:
        self.current = url
        response = self.page.goto(url)
        self.visited.append(url)
        if response is None or response.status != 200:
            self.problems.append(f"{url}: HTTP {response.status if response else '?'}")
            return
        if response.headers.get("content-security-policy") != CONTENT_SECURITY_POLICY:
            self.problems.append(f"{url}: no Content-Security-Policy header")
        if idle:  # pages that fetch more after load (the account page's tabs and counts)
            self.page.wait_for_load_state("networkidle")
        self.check()

    def check(self) -> None:
        """Violations so far on this page, and inline script or handlers in it."""
        violations = self.page.evaluate("window.__cspViolations || []")
        self.problems.extend(f"{self.current}: CSP violation: {v}" for v in violations)
        self.page.evaluate("window.__cspViolations = []")
        path = urlsplit(self.page.url).path
        # Flask-Admin's templates keep their javascript:void(0) links; admin.js cancels
        # them (clicked below).
        inline = self.page.evaluate(FIND_INLINE, not path.startswith("/admin"))
        self.problems.extend(f"{self.current}: {item}" for item in inline)


def _imports(app, user: User) -> dict:
    """Two imports of the rep's: one mapped, waiting for its preview, one run (with a
    rejected row)."""
    rows = [["Razão Social", "CNPJ", "Cidade"], ["Importada Ltda", make_cnpj(11222333), "Recife"],
            ["Sem CNPJ Válido", "123", "Natal"]]
    ids = {}
    for name in ("waiting", "run"):
        job = import_services.store_upload(io.BytesIO(csv_bytes(rows)), f"{name}.csv",
                                           user=user, kind="accounts")
        import_services.save_mapping(job, job.mapping)
        if name == "run":
            assert import_services.start(job, skip_invalid=True, background=False)
        ids[f"import_{name}"] = job.id
    return ids


def _demo(app) -> dict:
    """Load the demo (with the module permissions `flask setup` grants) and pick records:
    each kind on an account of the sales rep, so she may open them too."""
    from modules.crm.models import Account, Contact, Opportunity, Stage, Tag
    from modules.finance.models import Receivable
    from modules.sales.models import Invoice, Order, Product, Quote
    from modules.service.models import ServiceInvoice, ServiceOrder

    with app.app_context():
        roles = ensure_default_roles()
        registry = app.extensions["erp"]
        for module in app.extensions["erp_modules"]:
            grant_module_defaults(registry, module.name, roles)
        load_demo()
        rep = db.session.scalar(select(User).where(User.username == REP))

        def first(model, *where):
            query = select(model.id).order_by(model.id)
            if hasattr(model, "account_id"):
                query = query.join(Account, Account.id == model.account_id).where(
                    Account.owner_id == rep.id)
            return db.session.scalar(query.where(*where))

        tagged = db.session.scalar(
            select(Account.id).where(Account.owner_id == rep.id, Account.tags.any(),
                                     Account.notes.is_not(None)).order_by(Account.id)
        ) or db.session.scalar(select(Account.id).where(Account.owner_id == rep.id,
                                                        Account.tags.any()))
        ids = {
            "account": tagged, "contact": first(Contact), "opportunity": first(Opportunity),
            "quote": first(Quote), "order": first(Order), "invoice": first(Invoice),
            "receivable": first(Receivable), "service_order": first(ServiceOrder),
            "service_invoice": first(ServiceInvoice),
            "product": db.session.scalar(select(Product.id).order_by(Product.id)),
            "tag": db.session.scalar(select(Tag.id).order_by(Tag.id)),
            "stage": db.session.scalar(select(Stage.id).order_by(Stage.id)),
            "user": rep.id,
            **_imports(app, rep),
        }
        db.session.remove()
    missing = [name for name, value in ids.items() if value is None]
    assert not missing, f"the demo data has none of: {missing}"
    return ids


def record_pages(ids: dict) -> list[str]:
    account = ids["account"]
    return [
        f"/crm/accounts/{account}/edit", f"/crm/accounts/{account}/email",
        f"/crm/contacts/{ids['contact']}", f"/crm/contacts/{ids['contact']}/edit",
        f"/crm/contacts/new?account_id={account}",
        f"/crm/opportunities/{ids['opportunity']}",
        f"/crm/opportunities/{ids['opportunity']}/edit",
        f"/crm/opportunities/new?account_id={account}",
        f"/crm/actions/new?account_id={account}",
        f"/crm/settings/tags/{ids['tag']}/edit", f"/crm/settings/stages/{ids['stage']}/edit",
        f"/sales/quotes/{ids['quote']}", f"/sales/quotes/{ids['quote']}/edit",
        f"/sales/quotes/{ids['quote']}/print", f"/sales/quotes/new?account_id={account}",
        f"/sales/orders/{ids['order']}", f"/sales/orders/new?account_id={account}",
        f"/sales/invoices/{ids['invoice']}", f"/sales/invoices/new?account_id={account}",
        f"/sales/products/{ids['product']}/edit",
        f"/finance/receivables/{ids['receivable']}",
        f"/finance/receivables/new?account_id={account}",
        f"/service/orders/{ids['service_order']}", f"/service/orders/{ids['service_order']}/edit",
        f"/service/orders/new?account_id={account}",
        f"/service/invoices/{ids['service_invoice']}",
        f"/notes/new?account_id={account}",
        f"/imports/{ids['import_waiting']}/mapping", f"/imports/{ids['import_waiting']}/preview",
        f"/imports/{ids['import_run']}",
        "/search?q=a", "/crm/accounts?q=a&page=2", "/finance/reports/aging?group=account",
    ]


def main_pages(app) -> list[str]:
    """Every page without parameters in the URL map: a new page is visited without
    anyone adding it here."""
    pages = []
    for rule in app.url_map.iter_rules():
        if (not rule.methods or "GET" not in rule.methods  # (not a view: rules tests add)
                or rule.arguments or rule.rule.startswith("/api/")
                or rule.endpoint in SKIP_ENDPOINTS or rule.endpoint.endswith(SKIP_SUFFIXES)):
            continue
        pages.append(rule.rule)
    return sorted(pages)


def admin_pages(ids: dict) -> list[str]:
    user = ids["user"]
    return ["/admin/user/new/", f"/admin/user/edit/?id={user}", f"/admin/user/details/?id={user}",
            "/admin/role/new/", "/admin/crm_tag/new/",
            f"/admin/sales_product/edit/?id={ids['product']}", "/admin/outbox/?state=queued"]


def open_context(browser, live_server, username: str) -> Watcher:
    context = browser.new_context(base_url=live_server, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(WATCH_VIOLATIONS)
    watcher = Watcher(context=context, page=context.new_page())
    watcher.start()
    watcher.current = "/auth/login"
    sign_in(watcher.page, username, DEMO_PASSWORD)
    watcher.check()
    return watcher


def visit_account_tabs(watcher: Watcher, account: int) -> None:
    page = watcher.page
    watcher.visit(f"/crm/accounts/{account}", idle=True)
    tabs = page.locator("#account-tabs [data-tab]")
    keys = [tabs.nth(i).get_attribute("data-tab") for i in range(tabs.count())]
    assert len(keys) >= 3, keys
    for key in keys:
        watcher.current = f"/crm/accounts/{account} (tab {key})"
        page.locator(f"#tab-{key}").click()
        expect(page.locator(f"#panel-{key}")).to_have_attribute("data-loaded", "true")
        expect(page.locator(f"#panel-{key}")).not_to_have_attribute("aria-busy", "true")
        page.wait_for_load_state("networkidle")
        watcher.check()


def check_moved_behaviour(watcher: Watcher, ids: dict) -> None:
    """What inline script did, now done by erp.js: each still works."""
    page = watcher.page
    # Tag colours (were style="background-color: …").
    watcher.visit(f"/crm/accounts/{ids['account']}")
    badge = page.locator("[data-erp-color]").first
    wanted = badge.get_attribute("data-erp-color")
    rgb = "rgb({}, {}, {})".format(*(int(wanted[i:i + 2], 16) for i in (1, 3, 5)))
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == rgb
    # "Select all" (was an inline script on the opportunities list).
    watcher.visit("/crm/opportunities")
    page.locator("#select-all").check()
    rows = page.locator(".row-check")
    assert rows.count() > 1
    assert all(rows.nth(i).is_checked() for i in range(rows.count()))
    page.locator("#select-all").uncheck()
    assert not any(rows.nth(i).is_checked() for i in range(rows.count()))
    # The quote's Print button (was onclick="window.print()").
    watcher.visit(f"/sales/quotes/{ids['quote']}/print")
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.locator("[data-print]").click()
    assert page.evaluate("window.__printed") is True
    # A new API token is selected when focused, to copy it (was onfocus="this.select()").
    watcher.visit("/auth/api-tokens/")
    page.locator("input[name=name]").fill("CSP test")
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    watcher.current = "/auth/api-tokens/ (new token)"
    token = page.locator("#new-token")
    token.focus()
    assert token.evaluate("e => e.selectionEnd - e.selectionStart") == len(token.input_value())
    watcher.check()


def check_bar_lengths(watcher: Watcher) -> None:
    """Bar lengths (were style="width: …%"): the rep's pipeline on the home page, whose
    longest stage fills its bar and the others less."""
    watcher.visit("/")
    bars = watcher.page.locator('[data-widget="crm.pipeline"] .progress-bar')
    widths = [bars.nth(i).evaluate("e => e.getBoundingClientRect().width / "
                                   "e.parentElement.getBoundingClientRect().width")
              for i in range(bars.count())]
    assert len(widths) > 1 and max(widths) == pytest.approx(1, abs=0.01), widths
    assert min(widths) < 1, widths


def check_admin_clicks(watcher: Watcher) -> None:
    """Flask-Admin's javascript:void(0) links and its former onclick handlers, clicked."""
    page = watcher.page
    watcher.visit("/admin/user/")
    watcher.dialogs.clear()
    # By structure, not text: the demo admin reads Portuguese.
    page.locator('a.nav-link.active[href^="javascript:"]').first.click()  # the List tab
    page.locator("a.dropdown-toggle:has(+ .field-filters)").click()  # Add filter
    page.locator(".field-filters a.filter").first.click()
    expect(page.locator("table.filters tr")).to_have_count(1)
    page.locator("a.dropdown-toggle:has(+ .dropdown-menu [data-erp-admin-action])").click()
    page.locator("[data-erp-admin-action=delete]").click()  # nothing selected: it says so
    delete_row = page.locator("form.icon[data-confirm]").first
    delete_row.locator("button").click()  # asks; dismissed
    nothing_selected = json.loads(page.locator("#message-data").text_content())
    assert watcher.dialogs == [nothing_selected, delete_row.get_attribute("data-confirm")], (
        watcher.dialogs)
    expect(delete_row).to_be_visible()  # still there: nothing was deleted
    watcher.current = "/admin/user/ (clicked)"
    watcher.check()


def test_every_page_runs_under_the_policy(app, browser, live_server, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path / "imports"))
    ids = _demo(app)
    problems, counts = [], {}
    for username in (ADMIN, REP):
        watcher = open_context(browser, live_server, username)
        try:
            pages = main_pages(app) + record_pages(ids)
            if username == ADMIN:
                pages += admin_pages(ids)
            else:  # what the rep may open; the rest answers 403, tested elsewhere
                pages = [url for url in pages if watcher.may_open(url)]
            for url in pages:
                watcher.visit(url)
            checks = ((visit_account_tabs, ids["account"]),
                      *(((check_moved_behaviour, ids), (check_admin_clicks,))
                        if username == ADMIN else ((check_bar_lengths,),)))
            for check, *args in checks:
                try:
                    check(watcher, *args)
                except (AssertionError, PlaywrightError) as error:  # reported below, with the rest
                    watcher.problems.append(f"{check.__name__}: {error}")
            counts[username] = len(watcher.visited)
            problems += [f"{username} {problem}" for problem in watcher.problems]
        finally:
            watcher.context.close()
    assert counts[ADMIN] > 100 and counts[REP] > 40, counts
    problems = list(dict.fromkeys(problem[:300] for problem in problems))  # once each
    assert not problems, "\n".join(problems)


def test_the_policy_is_enforced(page):
    """The other side: the browser does refuse an inline script and a style attribute
    on our pages, and reports it (so the test above would see one)."""
    page.context.add_init_script(WATCH_VIOLATIONS)
    page.goto("/auth/login")
    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.__ran = true";
      document.body.append(script);
      const box = document.createElement("div");
      box.innerHTML = '<p id="styled" style="color: rgb(255, 0, 0)">x</p>';
      document.body.append(box);
    }""")
    expect(page.locator("#styled")).to_be_attached()
    page.wait_for_function("window.__cspViolations.length >= 2")
    violations = page.evaluate("window.__cspViolations")
    assert page.evaluate("window.__ran") is None
    assert page.locator("#styled").evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"
    assert any(v.startswith("script-src-elem") for v in violations), violations
    assert any(v.startswith("style-src-attr") for v in violations), violations
    assert re.search(r"frame-ancestors 'none'", page.evaluate(
        "fetch('/').then(r => r.headers.get('content-security-policy'))") or "")
