"""Reading the documents that lead to articles: feeds, sitemaps, robots.txt, home and section pages.

Pure functions of bytes and URLs, so each can be tested on its own; the ``news`` spider
(``crawler/spiders/news.py``) does the fetching, the counting and the following.

Hostile input is expected: XML with entity declarations (the "billion laughs" bomb) is
rejected before any parser sees it, and the XML parser never resolves entities, loads a
DTD or touches the network.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import feedparser
import lxml.etree
import lxml.html

_SAFE_XML = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json",
               "application/rdf+xml", "application/xml", "text/xml")


class DiscoveryError(ValueError):
    """A feed, sitemap or page that cannot be read. ``reason`` is a short stats key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Link:
    """Something discovered: an article, or a further document to read."""

    url: str
    kind: Literal["article", "feed", "sitemap", "section"]
    text: str = ""  # anchor text, or feed title + summary, or news sitemap title
    published: datetime | None = None  # when the source says the entry was published/modified
    depth: int = 0  # for section pages: pagination steps from the configured page

    def as_json(self) -> list[object]:
        return [self.url, self.kind, self.text, self.published.isoformat() if self.published else None, self.depth]

    @classmethod
    def from_json(cls, data: list[object]) -> Link:
        url, kind, text, published, depth = data
        return cls(str(url), kind, str(text), _parse_date(published) if published else None, int(depth))  # type: ignore[arg-type]


@dataclass
class Document:
    """What one feed/sitemap/page leads to, and what was wrong with it (if recoverable)."""

    links: list[Link] = field(default_factory=list)
    problem: str | None = None  # recoverable: counted, but the links found are followed
    problem_reason: str | None = None


# -- XML ------------------------------------------------------------------------------------

_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[", re.IGNORECASE)


def check_xml_safe(body: bytes) -> None:
    """Reject XML that declares entities (entity expansion bombs, external entities)."""
    head = body[:65536]
    if m := _DOCTYPE_SUBSET.search(head):
        if b"<!ENTITY" in head[m.end():]:
            raise DiscoveryError("entity_declarations", "XML declares entities in its DOCTYPE (refused: possible entity bomb)")
        if b"]" not in head[m.end():]:
            raise DiscoveryError("entity_declarations", "XML DOCTYPE subset longer than 64 KiB (refused)")


def _parse_xml(body: bytes) -> tuple[lxml.etree._Element, str | None]:
    """The root element, and the well-formedness error if only a recovered tree could be built."""
    check_xml_safe(body)
    try:
        return lxml.etree.fromstring(body, parser=lxml.etree.XMLParser(**_SAFE_XML)), None
    except lxml.etree.XMLSyntaxError as exc:
        problem = str(exc)
    root = lxml.etree.fromstring(body, parser=lxml.etree.XMLParser(recover=True, **_SAFE_XML))
    if root is None:
        raise DiscoveryError("malformed_xml", problem)
    return root, problem


def _parse_date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00+00:00"
    text = re.sub(r"Z$", "+00:00", text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: lxml.etree._Element, *path: str) -> str | None:
    node: lxml.etree._Element | None = element
    for name in path:
        node = next((c for c in node if _local(c.tag) == name), None) if node is not None else None
    return (node.text or "").strip() if node is not None and node.text else None


def parse_sitemap(body: bytes, base_url: str) -> Document:
    """A sitemap index (-> sitemaps) or urlset (-> articles, with Google News titles and dates)."""
    root, problem = _parse_xml(body)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError("not_a_sitemap", f"root element {kind!r}")
    doc = Document(problem=f"malformed XML: {problem}" if problem else None, problem_reason="malformed_xml" if problem else None)
    child, link_kind = ("sitemap", "sitemap") if kind == "sitemapindex" else ("url", "article")
    for entry in root:
        if _local(entry.tag) != child:
            continue
        loc = _child_text(entry, "loc")
        if not loc or not is_http_url(loc) or "." not in (urlsplit(loc).hostname or ""):
            continue  # <loc> must be an absolute URL
        published = _parse_date(_child_text(entry, "news", "publication_date")) or _parse_date(_child_text(entry, "lastmod"))
        title = _child_text(entry, "news", "title") or ""
        doc.links.append(Link(loc, link_kind, title, published))  # type: ignore[arg-type]
    return doc


# -- feeds ----------------------------------------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")


def _plain(text: object) -> str:
    return re.sub(r"\s+", " ", _TAGS.sub(" ", text)).strip() if isinstance(text, str) else ""


def _feed_text(title: object, summary: object) -> str:
    return " ".join(t for t in (_plain(title), _plain(summary)) if t)


def parse_feed(body: bytes, base_url: str, content_type: str = "") -> Document:
    """RSS 0.9x/1.0/2.0 and Atom (feedparser), or JSON Feed 1.0/1.1 (json)."""
    stripped = body.lstrip()
    if "json" in content_type.lower() or stripped[:1] in (b"{", b"["):
        return _parse_json_feed(body, base_url)
    check_xml_safe(body)
    # A stream, never a string: feedparser fetches strings that look like URLs.
    feed = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
    doc = Document()
    for entry in feed.entries:
        link = entry.get("link")
        if not link:
            link = next((lk.get("href") for lk in entry.get("links", []) if lk.get("rel") == "alternate"), None)
        if not isinstance(link, str) or not is_http_url(urljoin(base_url, link)):
            continue
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime(*parsed[:6], tzinfo=UTC) if parsed else None
        doc.links.append(Link(urljoin(base_url, link), "article", _feed_text(entry.get("title"), entry.get("summary")), published))
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    if feed.bozo and not isinstance(feed.bozo_exception, benign):
        detail = f"{type(feed.bozo_exception).__name__}: {feed.bozo_exception}"
        if not doc.links:
            raise DiscoveryError("malformed_feed", detail)
        doc.problem, doc.problem_reason = f"malformed feed: {detail}", "malformed_feed"
    elif not feed.version and not doc.links:
        raise DiscoveryError("not_a_feed", "neither RSS, Atom nor JSON Feed")
    return doc


def _parse_json_feed(body: bytes, base_url: str) -> Document:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DiscoveryError("malformed_feed", f"JSON: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise DiscoveryError("not_a_feed", "JSON without a JSON Feed version")
    items = data.get("items")
    if not isinstance(items, list):
        raise DiscoveryError("malformed_feed", "JSON Feed without an items list")
    doc = Document()
    for item in items:
        if not isinstance(item, dict):
            continue
        url = item.get("url") or item.get("external_url")
        if not isinstance(url, str) or not is_http_url(urljoin(base_url, url)):
            continue
        summary = item.get("summary") or item.get("content_text") or ""
        published = _parse_date(item.get("date_published")) or _parse_date(item.get("date_modified"))
        doc.links.append(Link(urljoin(base_url, url), "article", _feed_text(item.get("title"), summary), published))
    return doc


# -- robots.txt and HTML pages --------------------------------------------------------------


def robots_sitemaps(text: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt."""
    urls = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "sitemap":
            url = urljoin(base_url, value.split("#", 1)[0].strip())
            if is_http_url(url) and url not in urls:
                urls.append(url)
    return urls


def page_links(html: bytes | str, base_url: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Feeds named by ``<link rel="alternate">``, and every ``<a href>`` as (URL, anchor text),
    fragment removed, first occurrence of each URL (with the longest text seen)."""
    try:
        tree = lxml.html.fromstring(html, base_url=base_url)
    except ValueError:  # a str with an XML encoding declaration
        tree = lxml.html.fromstring(html.encode("utf-8") if isinstance(html, str) else html, base_url=base_url)
    except lxml.etree.ParserError:
        return [], []
    feeds = []
    for el in tree.iter("link"):
        rels = (el.get("rel") or "").lower().split()
        if "alternate" in rels and (el.get("type") or "").split(";")[0].strip().lower() in _FEED_TYPES and el.get("href"):
            url = urljoin(base_url, el.get("href").strip())
            if is_http_url(url) and url not in feeds:
                feeds.append(url)
    anchors: dict[str, str] = {}
    for el in tree.iter("a"):
        href = (el.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urlunsplit(urlsplit(urljoin(base_url, href))._replace(fragment=""))
        text = re.sub(r"\s+", " ", el.text_content()).strip()
        if url not in anchors or len(text) > len(anchors[url]):
            anchors[url] = text
    return feeds, list(anchors.items())


# -- which links are articles ---------------------------------------------------------------

_STATIC = re.compile(r"\.(jpe?g|png|gif|webp|svg|ico|css|js|pdf|zip|gz|xml|rss|json|mp[34]|m4a|avi|mov|woff2?)$", re.I)
_NAV_SEGMENTS = frozenset(
    "tag tags topic topics author authors profile profiles user users people login log-in signin sign-in logout "
    "register signup sign-up subscribe subscription newsletter newsletters search share print feed feeds rss "
    "comments contact about about-us privacy privacy-policy terms cookies account wp-login.php wp-admin "
    "cart shop advertise careers jobs help faq".split()
)
_NAV_QUERY = frozenset("share replytocom s q search login action output print".split())
_PAGINATION_PATH = re.compile(r"/page[/-]?\d+/?$|/p/\d+/?$", re.I)
_PAGINATION_QUERY = frozenset(("page", "p", "pg", "start", "offset"))
_DATE_PATH = re.compile(r"/(19|20)\d{2}[/-](0?[1-9]|1[0-2])([/-](0?[1-9]|[12]\d|3[01]))?/|/(19|20)\d{2}(0[1-9]|1[0-2])([0-3]\d)\D")
_ID = re.compile(r"\d{5,}")
_ARTICLE_SEGMENT = frozenset("article articles story stories news-story post posts a".split())


def _same_site(host: str, other: str) -> bool:
    return host.removeprefix("www.") == other.removeprefix("www.")


def classify_url(url: str, page_url: str) -> Literal["article", "pagination", "navigation", "ignore"]:
    """Is a link on ``page_url`` an article, a further page of the same listing, other
    navigation (tag, author, section, login, share…), or not for us at all (another site,
    a file)? URL shape only: date paths, long slugs and numeric ids say "article"."""
    parts, page = urlsplit(url), urlsplit(page_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not page.hostname:
        return "ignore"
    if not _same_site(parts.hostname, page.hostname) or _STATIC.search(parts.path):
        return "ignore"
    segments = [s.lower() for s in parts.path.split("/") if s]
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if any(s in _NAV_SEGMENTS for s in segments) or any(k.lower() in _NAV_QUERY for k in query):
        return "navigation"
    if parts.path == page.path and set(query) - set(dict(parse_qsl(page.query))) <= _PAGINATION_QUERY and query != dict(parse_qsl(page.query)):
        return "pagination"
    if _PAGINATION_PATH.search(parts.path) and _PAGINATION_PATH.sub("/", parts.path).rstrip("/") == page.path.rstrip("/"):
        return "pagination"
    if not segments:
        return "navigation"
    last = re.sub(r"\.(html?|ece|shtml|php|aspx?)$", "", segments[-1])
    if _DATE_PATH.search(parts.path + "/"):
        return "article"
    if _ID.search(parts.path) or any(k.lower() in ("id", "articleid", "story_id", "storyid", "p") and _ID.search(v)
                                     for k, v in query.items()):
        return "article"
    if last.count("-") >= 3 or last.count("_") >= 3:
        return "article"
    if len(segments) >= 2 and segments[-2] in _ARTICLE_SEGMENT:
        return "article"
    return "navigation"


def is_http_url(url: object) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)
