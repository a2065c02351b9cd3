"""The local news web's data: outlets and the article pages they publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Outlet:
    name: str
    host: str
    theme: str  # "newscms" | "wordpress" | "blogger"
    home_url: str
    feed_urls: tuple[str, ...]
    sitemap_urls: tuple[str, ...]
    section_urls: tuple[str, ...]
    mix: str = "rss"  # how the outlet lets crawlers discover its articles (see newsweb/site.py)
    head_feed_url: str = ""  # the feed URL article pages name in <link rel="alternate">


@dataclass(frozen=True)
class WebArticle:
    """One article page. ``paragraphs`` is the body as published, without boilerplate:
    what a perfect extractor returns."""

    url: str
    outlet: str
    story: str  # "seed-000"…; "offtopic-00001"…; "fault-pdf"…
    kind: str  # "original" | "copy-exact" | "copy-edited" | "offtopic" | "fault"
    title: str
    paragraphs: tuple[str, ...]
    authors: tuple[str, ...]
    published_at: datetime
    original_publisher: str | None = None
    disallowed: bool = False
    fault: str | None = None
    headings: frozenset[int] = field(default_factory=frozenset)
