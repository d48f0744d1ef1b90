"""The favicon and the web app manifest in a real browser (issue 17, point 11): the icons the
pages name load under the Content-Security-Policy, /favicon.ico is no longer a 404."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_icons_and_manifest_load_without_errors(page):
    failed, errors = [], []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/auth/login")
    icons = page.eval_on_selector_all(
        'link[rel="icon"], link[rel="manifest"]', "links => links.map(l => l.href)")
    assert any(href.endswith("/favicon.ico") for href in icons), icons
    assert any(href.endswith("/manifest.webmanifest") for href in icons), icons
    # What the browser asks on its own and what the links name, fetched from the page (the
    # policy's connect-src applies): every one answers.
    statuses = page.evaluate(
        "async urls => Promise.all(urls.map(async u => (await fetch(u)).status))",
        ["/favicon.ico", *icons])
    assert statuses == [200] * (len(icons) + 1), list(zip(["/favicon.ico", *icons], statuses,
                                                         strict=True))
    manifest = page.evaluate("async () => (await fetch('/static/manifest.webmanifest')).json()")
    for icon in manifest["icons"]:
        assert page.evaluate(f"async () => (await fetch({icon['src']!r})).status") == 200
    page.wait_for_load_state("networkidle")
    assert not failed, failed
    assert not errors, errors
