"""Which URLs an endpoint may have, and its secrets."""

from __future__ import annotations

import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from .models import URL_MAX

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def new_secret() -> str:
    """A new signing secret: 32 random bytes, URL-safe text."""
    return "whsec_" + secrets.token_urlsafe(32)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.match(label) for label in labels)


def check_url(url: str | None, *, allow_http_local: bool = False) -> str:
    """The URL, trimmed, if an endpoint may have it; else ``ValueError`` with the reason
    (a lazily translated message): HTTPS with a host name and no user or password in it,
    or — with ``allow_http_local`` (``ERP_WEBHOOKS_ALLOW_HTTP_LOCAL``) — plain HTTP to
    127.0.0.1 or localhost only."""
    url = (url or "").strip()
    if not url:
        raise ValueError(_l("Enter the endpoint's URL."))
    if len(url) > URL_MAX:
        raise ValueError(_l("The URL is longer than %(max)d characters.", max=URL_MAX))
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError(_l("The URL may not contain spaces or control characters."))
    try:
        parts = urlsplit(url)
        port = parts.port  # a bad port raises here
    except ValueError:
        raise ValueError(_l("This is not a valid URL.")) from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(_l("The URL must start with https:// and name a server."))
    if parts.username is not None or parts.password is not None:
        raise ValueError(_l("The URL may not hold a user name or password: the requests "
                            "are signed with the endpoint's secret instead."))
    if not host or not _valid_host(host):
        raise ValueError(_l("This is not a valid server name."))
    if port == 0:
        raise ValueError(_l("This is not a valid URL."))
    if parts.fragment:
        raise ValueError(_l("The URL may not have a fragment (#…)."))
    if scheme == "http" and not (allow_http_local and host in LOCAL_HOSTS):
        raise ValueError(_l("Only HTTPS URLs are allowed: the events carry your "
                            "customers' data."))
    return url
