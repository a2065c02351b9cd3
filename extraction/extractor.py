"""trafilatura, configured once, plus the metadata and cleaning it leaves to us."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from urllib.parse import urljoin

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Extractor as _TrafilaturaOptions
from trafilatura.utils import load_html

from extraction.cleaning import clean_text
from extraction.urls import canonical_url

_LANG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)
# Not names: dates that themes put in "byline" elements (Blogger's post-timestamp).
_NOT_A_NAME = re.compile(
    r"\d|^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?$|^(?:admin|staff|editor|guest)$", re.IGNORECASE
)

# Where pages declare their publication time, most specific first.
_DATE_XPATHS = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@name="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//meta[@name="pubdate"]/@content',
    '//meta[@name="date"]/@content',
    '//time[contains(concat(" ", normalize-space(@class), " "), " published ")]/@datetime',
    '//abbr[contains(concat(" ", normalize-space(@class), " "), " published ")]/@title',
    "//article//time/@datetime",
)


class ExtractionError(ValueError):
    """The page has no extractable article; the message says why."""


@dataclass(frozen=True)
class Extracted:
    """What extraction found on one page (not yet validated)."""

    url: str
    canonical_url: str
    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    original_publisher: str | None = None


def _parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date or datetime; a naive one is taken as UTC, a bare date as 00:00 UTC."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _first(tree: HtmlElement, *xpaths: str) -> str | None:
    for xp in xpaths:
        for value in tree.xpath(xp):
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _json_ld_dates(tree: HtmlElement) -> str | None:
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                if isinstance(node.get("datePublished"), str):
                    return node["datePublished"]
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
    return None


def _published_at(tree: HtmlElement, fallback: str | None) -> datetime | None:
    for raw in (_first(tree, *_DATE_XPATHS), _json_ld_dates(tree), fallback):
        if raw and (parsed := _parse_datetime(raw)):
            return parsed
    return None


def _language(tree: HtmlElement, content_language: str | None) -> str | None:
    for raw in (
        tree.get("lang"),
        _first(tree, '//meta[@property="og:locale"]/@content', '//meta[@http-equiv="content-language"]/@content'),
        content_language,
    ):
        if raw and (m := _LANG.match(raw.strip().split(",")[0])):
            return m.group(1).lower()
    return None


def _authors(raw: str | None) -> list[str]:
    if not raw:
        return []
    names: list[str] = []
    for part in re.split(r";|\band\b|,", raw):
        name = _BY.sub("", part).strip(" .")
        if name and name not in names and not _NOT_A_NAME.search(name):
            names.append(name)
    return names


class Extractor:
    """Extracts one article from HTML. Build once; call :meth:`extract` per page.

    trafilatura runs with ``include_comments=False`` and never with its process-wide
    ``deduplicate`` cache.
    """

    name = "trafilatura"

    def __init__(self) -> None:
        self._options = _TrafilaturaOptions(
            output_format="python", comments=False, dedup=False, with_metadata=True, tables=True
        )
        self.version = f"{version('trafilatura')}+newsarchive.1"

    def extract(self, html: str | bytes, url: str, *, content_language: str | None = None) -> Extracted:
        if not html or not (html.strip() if isinstance(html, str) else html.strip()):
            raise ExtractionError("empty page")
        tree = load_html(html)
        if tree is None:
            raise ExtractionError("not parseable as HTML")
        link_canonical = _first(tree, '//link[@rel="canonical"]/@href')
        og_url = _first(tree, '//meta[@property="og:url"]/@content')
        page_dates = _published_at(tree, None)
        language = _language(tree, content_language)

        options = copy.copy(self._options)
        options.url = url
        options.source = url
        try:
            doc = trafilatura.bare_extraction(tree, options=options)
        except Exception as exc:  # trafilatura raises assorted errors on hostile input
            raise ExtractionError(f"trafilatura failed: {type(exc).__name__}: {exc}") from exc
        if doc is None or not (doc.text or "").strip():
            raise ExtractionError("no article text found")

        cleaned = clean_text(doc.text, doc.title)
        return Extracted(
            url=url,
            canonical_url=canonical_url(
                url,
                urljoin(url, link_canonical) if link_canonical else None,
                og_url,
            ),
            title=(doc.title or "").strip() or None,
            text=cleaned.text,
            authors=_authors(doc.author),
            published_at=page_dates or _published_at(tree, doc.date),
            language=language or (doc.language or None),
            site_name=doc.sitename or None,
            original_publisher=cleaned.original_publisher,
        )
