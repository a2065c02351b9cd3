"""Canonical form of article URLs, shared by extraction, dedup and request fingerprinting.

Two forms:

* :func:`normalize_url` is the canonical URL stored with an article (``canonical_url``):
  tracking parameters, AMP markers and the fragment removed, a mobile/AMP host mapped to
  the main host, then w3lib's canonical form (lower-case scheme and host, sorted query,
  normalised percent-encoding, ``/`` for an empty path; the path's case and a trailing
  slash are kept, as w3lib keeps them: servers may tell ``/A`` from ``/a``) and the
  default port dropped.
* :func:`dedup_form` is what "the same page" is decided on (the index's URL keys and the
  request fingerprints): the canonical URL without its scheme and without a ``www.``
  prefix, so ``http://news.test/a``, ``https://www.news.test/a?utm_source=x`` and
  ``https://m.news.test/a/amp`` are one page.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "ref_url", "referrer", "cmpid", "ito", "_ga", "_gl",
        "mkt_tok", "oly_enc_id", "oly_anon_id", "vero_id", "wt.mc_id", "ncid", "sr_share", "at_medium",
        "at_campaign", "ocid", "spm", "s_cid", "__twitter_impression",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")

# Query parameters that only select the AMP rendering of the page.
_AMP_PARAMS = {"amp": None, "outputtype": "amp", "output": "amp", "format": "amp", "_amp": None}
_AMP_VALUES = frozenset({"", "1", "true", "yes", "amp"})
# Host labels of mobile and AMP variants of a site.
_VARIANT_HOST_LABELS = ("amp.", "m.", "mobile.")
_AMP_SUFFIX = re.compile(r"\.amp(?=(?:\.html?)?$)", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith(_TRACKING_PREFIXES) or name in _TRACKING_PARAMS


def _is_amp_param(name: str, value: str) -> bool:
    name = name.lower()
    if name not in _AMP_PARAMS:
        return False
    wanted = _AMP_PARAMS[name]
    return value.lower() == wanted if wanted else value.lower() in _AMP_VALUES


def _main_host(host: str) -> str:
    """``m.news.test``, ``mobile.news.test``, ``amp.news.test`` → ``www.news.test``."""
    for label in _VARIANT_HOST_LABELS:
        if host.startswith(label) and host.count(".") >= 2:
            return "www." + host[len(label) :]
    return host


def _main_path(path: str) -> str:
    """Drop an ``amp`` path segment (``/story/amp/``, ``/amp/story``) and an AMP suffix
    (``story.amp``, ``story.amp.html``)."""
    segments = path.split("/")
    kept = [s for s in segments if s.lower() != "amp"]
    if len(kept) != len(segments):
        trailing = path.endswith("/")
        path = "/".join(kept)
        if trailing and not path.endswith("/"):
            path += "/"
    last = path.rsplit("/", 1)
    if len(last) == 2 and last[1]:
        stem = _AMP_SUFFIX.sub("", last[1])
        if stem and not stem.startswith("."):
            path = f"{last[0]}/{stem}"
    return path or "/"


def normalize_url(url: str) -> str:
    """The canonical URL of a page; see the module docstring for every rule."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _main_host((parts.hostname or "").lower().rstrip("."))
    netloc = host
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
    return canonicalize_url(urlunsplit((scheme, netloc, _main_path(parts.path or "/"), _kept_query(parts.query), "")))


def _kept_query(query: str) -> str:
    """The query without tracking and AMP parameters. The kept parameters stay as they
    were written (w3lib then sorts and re-encodes them): decoding and encoding them again
    here would turn bytes that are not UTF-8 (``?q=%E9``) into U+FFFD, making pages with
    different queries one."""
    kept = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if pair and not _is_tracking(unquote_plus(name)) and not _is_amp_param(unquote_plus(name), unquote_plus(value)):
            kept.append(pair)
    return "&".join(kept)


def dedup_form(url: str) -> str:
    """The form two URLs of one page share: the canonical URL without scheme and ``www.``."""
    parts = urlsplit(normalize_url(url))
    netloc = parts.netloc.removeprefix("www.")
    return urlunsplit(("", netloc, parts.path, parts.query, "")).removeprefix("//")


def _site(host: str | None) -> str:
    host = (host or "").lower().rstrip(".")
    for prefix in ("www.", *_VARIANT_HOST_LABELS):
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same site, ignoring www./m./amp./mobile. prefixes."""
    return _site(urlsplit(a).hostname) == _site(urlsplit(b).hostname)


def _agrees(candidate: str, page_url: str) -> bool:
    """A declared canonical URL is believed when it is an absolute http(s) URL on the
    page's own site, and not the site's home page declared by an article page (a common
    template mistake that would merge every article of a site into one)."""
    try:
        parts = urlsplit(candidate.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:  # malformed (a bad port, an unclosed IPv6 bracket): ignored
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or not same_site(candidate, page_url):
        return False
    page_path = urlsplit(page_url).path
    return not (parts.path in ("", "/") and not parts.query and page_path not in ("", "/"))


def canonical_url(page_url: str, *declared: str | None) -> str:
    """The first declared canonical URL (``<link rel=canonical>``, ``og:url``) that agrees
    with the site (see :func:`_agrees`), else the page URL; normalised."""
    for candidate in declared:
        if candidate and _agrees(candidate, page_url):
            return normalize_url(candidate)
    return normalize_url(page_url)
