"""Canonical form of article URLs, shared by extraction and dedup."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "cmpid", "ito"}
)


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


def normalize_url(url: str) -> str:
    """Drop tracking parameters and the fragment, then apply w3lib's canonical form
    (sorted query, normalised percent-encoding, lower-case scheme and host)."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    return canonicalize_url(urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, "")))


def _site(host: str | None) -> str:
    host = (host or "").lower()
    for prefix in ("www.", "m.", "amp.", "mobile."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same site, ignoring www./m./amp. prefixes."""
    return _site(urlsplit(a).hostname) == _site(urlsplit(b).hostname)


def canonical_url(page_url: str, *declared: str | None) -> str:
    """The first declared canonical URL (``<link rel=canonical>``, ``og:url``) that is an
    absolute http(s) URL on the page's own site, else the page URL; normalised."""
    for candidate in declared:
        if not candidate:
            continue
        parts = urlsplit(candidate.strip())
        if parts.scheme in ("http", "https") and parts.hostname and same_site(candidate, page_url):
            return normalize_url(candidate)
    return normalize_url(page_url)
