"""The ``news`` spider: from each source's feeds and sitemaps to its article pages.

    scrapy crawl news -a sources=FILE

Each article page becomes a ``FetchedPage`` for the pipelines. Feeds and sitemaps that
cannot be read, and pages that cannot be fetched, are logged and counted in the stats
(``discovery/*``, ``fetch/failed/*``); they never stop the crawl.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import lxml.etree
import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from pipelines.outcomes import count
from pipelines.warc import http_exchange
from schemas import FetchedPage, load_sources

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_STRICT_XML = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _xml_problem(body: bytes) -> str | None:
    """Why ``body`` is not well-formed XML, or None (entities are never expanded)."""
    try:
        lxml.etree.fromstring(body, parser=_STRICT_XML)
    except lxml.etree.XMLSyntaxError as exc:
        return str(exc)
    return None


def _is_http_url(url: object) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, sources: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not sources:
            raise ValueError("the news spider needs a sources file: scrapy crawl news -a sources=FILE")
        self.sources = load_sources(sources)
        self.sitemap_max_size = 50 * 1024 * 1024

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sitemap_max_size = crawler.settings.getint("NEWS_SITEMAP_MAX_SIZE")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources.sources:
            for url in source.feeds:
                yield self._request(url, self.parse_feed, source.name, "feed")
            for url in source.sitemaps:
                yield self._request(url, self.parse_sitemap, source.name, "sitemap")

    def _request(self, url: str, callback: Any, source: str, kind: str, link_text: str = "") -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            cb_kwargs={"source": source},
            meta={"source": source, "kind": kind, "link_text": link_text},
        )

    # -- discovery -----------------------------------------------------------------------

    def parse_feed(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        # A stream, never a string: feedparser fetches strings that look like URLs.
        feed = feedparser.parse(io.BytesIO(response.body))
        links = [entry.get("link") for entry in feed.entries if _is_http_url(entry.get("link"))]
        texts = {e.get("link"): f"{e.get('title', '')}\n{e.get('summary', '')}".strip() for e in feed.entries}
        if feed.bozo and not links:
            self._discovery_error("feed", response.url, source, f"{type(feed.bozo_exception).__name__}: {feed.bozo_exception}")
            return
        count(self.crawler.stats, "discovery/feed_links", source, len(links))
        for link in links:
            yield self._request(response.urljoin(link), self.parse_article, source, "article", texts.get(link, ""))

    def parse_sitemap(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        body = response.body
        try:
            if gzip_magic_number(response):
                body = gunzip(body, max_size=self.sitemap_max_size)
            if problem := _xml_problem(body):
                # counted as an error, but what can be recovered is still followed
                self._discovery_error("sitemap", response.url, source, f"malformed XML: {problem}")
            sitemap = Sitemap(body)
            entries = list(sitemap)
        except (lxml.etree.XMLSyntaxError, StopIteration, OSError, ValueError) as exc:
            self._discovery_error("sitemap", response.url, source, f"{type(exc).__name__}: {exc}")
            return
        if sitemap.type not in ("urlset", "sitemapindex"):
            self._discovery_error("sitemap", response.url, source, f"not a sitemap (root element {sitemap.type!r})")
            return
        locs = [e["loc"] for e in entries if _is_http_url(e.get("loc"))]
        if sitemap.type == "sitemapindex":
            for loc in locs:
                yield self._request(response.urljoin(loc), self.parse_sitemap, source, "sitemap")
            return
        count(self.crawler.stats, "discovery/sitemap_links", source, len(locs))
        for loc in locs:
            yield self._request(response.urljoin(loc), self.parse_article, source, "article")

    def _discovery_error(self, kind: str, url: str, source: str, reason: str) -> None:
        self.logger.warning("Unreadable %s %s (%s): %s", kind, url, source, reason)
        count(self.crawler.stats, f"discovery/{kind}_errors", source)

    # -- articles ------------------------------------------------------------------------

    def parse_article(self, response: Response, source: str) -> Iterator[FetchedPage]:
        count(self.crawler.stats, "news/pages", source)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        is_html = isinstance(response, TextResponse) and (
            content_type is None or any(t in content_type.lower() for t in _HTML_TYPES)
        )
        yield FetchedPage(
            url=response.url,
            request_url=response.request.url if response.request else response.url,
            source=source,
            status=response.status,
            content_type=content_type,
            html=response.text if is_html else None,
            fetched_at=datetime.now(UTC),
            exchange=http_exchange(response),  # for the WARC stage (pipelines/warc.py)
        )

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        source = request.meta.get("source")
        kind = request.meta.get("kind", "page")
        stats = self.crawler.stats
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # a decision (robots.txt forbids it), not a failure of the site
            self.logger.info("Not fetching %s %s (%s): %s", kind, request.url, source, failure.value or "ignored")
            count(stats, f"fetch/ignored/{kind}", source)
            return
        if failure.check(HttpError):
            reason = f"http_{failure.value.response.status}"
        else:
            reason = type(failure.value).__name__
        self.logger.warning("Could not fetch %s %s (%s): %s", kind, request.url, source, reason)
        count(stats, f"fetch/failed/{kind}", source)
        stats.inc_value(f"fetch/failed/reason/{reason}")
