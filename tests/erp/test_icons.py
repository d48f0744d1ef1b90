"""The favicon and the web app manifest (issue 17, point 11): /favicon.ico was a 404 on every
page; every layout now names an icon and a manifest, which the Content-Security-Policy allows."""

from __future__ import annotations

import json
import re

from erp.security import CONTENT_SECURITY_POLICY
from tests.conftest import login_as
from tests.erp.test_security_headers import assert_secured, directives


def _links(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for tag in re.findall(r"<link\b[^>]*>", html):
        rel = re.search(r'rel="([^"]+)"', tag)
        href = re.search(r'href="([^"]+)"', tag)
        if rel and href:
            found.setdefault(rel.group(1), []).append(href.group(1))
    return found


def test_favicon_ico_is_served_to_anyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert_secured(response)


def test_every_layout_links_icon_and_manifest(client, users):
    login_page = client.get("/auth/login")
    login_as(client, users["admin"])
    for path, response in [("/auth/login", login_page), ("/", None), ("/admin/", None)]:
        response = response or client.get(path)
        assert response.status_code == 200, path
        links = _links(response.get_data(as_text=True))
        assert links.get("icon"), path
        assert links.get("manifest") == ["/static/manifest.webmanifest"], path
        for href in links["icon"] + links["manifest"]:
            assert client.get(href).status_code == 200, href


def test_manifest_names_the_app_and_its_icons(client):
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    for key in ("name", "short_name", "icons", "start_url", "display", "theme_color"):
        assert manifest.get(key), key
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.mimetype == icon["type"], icon["src"]


def test_the_policy_allows_the_icons_and_the_manifest():
    policy = directives(CONTENT_SECURITY_POLICY)
    # Icons are images from this origin, the manifest falls back to default-src.
    assert "'self'" in policy["img-src"]
    assert policy.get("manifest-src", policy["default-src"]) == ["'self'"]
