"""URL rules: resolving against a base, keeping only web URLs, canonical links.

A canonical link is the one a reader should be sent to and the one duplicates are
recognised by: http(s) only, scheme and host lower-cased, default port and fragment
dropped, tracking parameters (``utm_*``, ``fbclid``, ``gclid`` …) removed, the other
parameters kept in their order.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

WEB_SCHEMES = frozenset({"http", "https"})

#: Query parameters that only say how a reader arrived; they never change the page.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "wt_mc", "__twitter_impression", "ocid", "cmpid", "ref_src",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "stm_")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def absolute_url(url: str | None, base: str | None) -> str | None:
    """``url`` resolved against ``base``, or None unless the result is an http(s) URL."""
    if not url:
        return None
    url = url.strip()
    try:
        resolved = urljoin(base, url) if base else url
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return resolved


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


#: What no host name (of any script) or address literal holds: controls, spaces, quotes,
#: brackets, percent signs, and the other delimiters of a URL.
_NOT_IN_HOST = re.compile(r"[\x00-\x20\"'<>`\\{}|^%\x7f/?#@\[\]]")


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The canonical form of an http(s) link, or None when there is no such link."""
    resolved = absolute_url(url, base)
    if resolved is None:
        return None
    parts = urlsplit(resolved)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        return None
    if not host or _NOT_IN_HOST.search(host):
        return None  # no host, or one no name or address can be ("pmm\x06<gseu")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    # Rebuilt from host and port alone, so credentials never reach a published link.
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    # Filter the raw pairs rather than re-encoding them: "?item", "%20" and "/" stay as
    # the publisher wrote them.
    pairs = [pair for pair in parts.query.split("&") if pair]
    kept = [p for p in pairs if not is_tracking_parameter(unquote_plus(p.split("=")[0]))]
    query = "&".join(kept)
    # Encoded, so the canonical form of a canonical link is itself ("/ #" gave "/ ").
    return encoded_url(urlunsplit((scheme, netloc, parts.path or "/", query, "")))


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part: a password in a source's URL is for
    fetching it, never for what is published."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


#: Characters a URL may not hold as they are (RFC 3986) that also end or break an HTML
#: attribute or a YAML scalar a theme prints: quotes, angle brackets, spaces and the like.
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\"'<>`\\{}|^\x7f]")


def encoded_url(url: str) -> str:
    """``url`` with those characters percent-encoded; letters of any script and what is
    already encoded stay as they are."""
    return _UNSAFE_IN_URL.sub(lambda m: f"%{ord(m.group(0)):02X}", url)
