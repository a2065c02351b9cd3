"""What a page says about itself: schema.org JSON-LD and ``<meta>`` tags (Open Graph,
``article:*``, Twitter cards, Dublin Core), read once per page into plain values."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

# schema.org types whose node describes the article itself (not the site, a breadcrumb
# list or an organisation).
_ARTICLE_TYPES = frozenset(
    t.casefold()
    for t in (
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "SocialMediaPosting",
        "TechArticle",
        "ScholarlyArticle",
        "Report",
    )
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type")
    values = t if isinstance(t, list) else [t]
    return {v.casefold() for v in values if isinstance(v, str)}


def _walk(data: Any):
    """Every dict in a JSON-LD document, depth first (``@graph`` lists included)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            yield node
            stack.extend(reversed([v for v in node.values() if isinstance(v, (dict, list))]))


def _loads(raw: str) -> Any:
    raw = _CONTROL.sub(" ", raw.strip())
    if raw.startswith("<!--"):
        raw = raw.removeprefix("<!--").removesuffix("-->")
    try:
        return json.loads(raw)
    except ValueError:
        return None


def names(value: Any) -> list[str]:
    """Names in a schema.org person/organisation value: a string, a ``{"name": …}`` node,
    or a list of either."""
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append(item["name"])
    return [n.strip() for n in out if n.strip()]


def urls(value: Any) -> list[str]:
    """URLs in a schema.org image value: a string, an ``ImageObject`` or a list of either."""
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            for key in ("url", "contentUrl", "@id"):
                if isinstance(item.get(key), str):
                    out.append(item[key])
                    break
    return [u.strip() for u in out if u.strip()]


def words(value: Any) -> list[str]:
    """Keywords: a comma-separated string or a list of strings."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.extend(part.strip() for part in item.split(","))
    return [w for w in out if w]


@dataclass
class PageData:
    """The page's article node (the first JSON-LD node of an article type, its properties
    merged over those of any other nodes describing the page) and its meta tags."""

    article: dict[str, Any] = field(default_factory=dict)
    publisher: list[str] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)

    def first_meta(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                if value.strip():
                    return value.strip()
        return None

    def all_meta(self, *keys: str) -> list[str]:
        return [v.strip() for key in keys for v in self.meta.get(key, ()) if v.strip()]

    def ld_str(self, key: str) -> str | None:
        value = self.article.get(key)
        if isinstance(value, list) and value and isinstance(value[0], str):
            value = value[0]
        return value.strip() if isinstance(value, str) and value.strip() else None


def read_page_data(tree: HtmlElement) -> PageData:
    data = PageData()
    for raw in tree.xpath('//script[@type="application/ld+json"]/text()'):
        doc = _loads(raw)
        if doc is None:
            continue
        for node in _walk(doc):
            if _types(node) & _ARTICLE_TYPES:
                for key, value in node.items():
                    data.article.setdefault(key, value)
                if not data.publisher:
                    data.publisher = names(node.get("publisher"))
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").strip().lower()
        if key:
            data.meta.setdefault(key, []).append(el.get("content") or "")
    return data
