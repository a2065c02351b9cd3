"""The ``news`` spider: from each outlet's feeds, sitemaps and pages to its article pages.

    scrapy crawl news -a sources=FILE          the outlets of a sources file
    scrapy crawl news -a urls=FILE             a one-off list of article URLs (one per line)

Discovery paths, per outlet (``schemas/sources.py``): feeds (RSS, Atom, JSON Feed), feeds
named by the home page's ``<link rel="alternate">``, sitemaps and sitemap indexes (gzip,
Google News), the ``Sitemap:`` lines of robots.txt, and section pages whose links are
classified as articles or navigation (``crawler/discovery.py``), up to a bounded depth.

Incremental: an article URL already in the archive (the dedup index) or dropped for good by
an earlier run is never requested (``discovery/skipped_seen``); feeds, sitemaps and pages
are fetched with the validators of their last response, and a ``304`` replays the links
stored with them (``crawler/state.py``). Every article request carries ``meta["kind"] =
"article"``, ``meta["source"]`` and ``meta["link_text"]``.

Each page becomes a ``FetchedPage`` for the pipelines. Documents that cannot be read and
pages that cannot be fetched are logged and counted (``discovery/*``, ``fetch/failed/*``,
with a reason); they never stop the crawl.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from twisted.python.failure import Failure

from archive import DedupIndex, parse_archive_uri, url_key
from archive.writer import STATE
from crawler.discovery import (
    DiscoveryError,
    Document,
    Link,
    classify_url,
    is_http_url,
    page_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
)
from crawler.request import NewsRequest
from crawler.state import STATE_FILE, CrawlState
from pipelines.outcomes import count
from pipelines.warc import http_exchange
from schemas import Article, FetchedPage, Source, SourcesFile, SourcesFileError, load_sources

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_url_list(path: str | Path) -> list[str]:
    """The URLs of a one-off list: one per line; blank lines and ``#`` comments ignored."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesFileError(f"{path}: cannot read URL list: {exc}") from exc
    urls = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.split()[0]
        if not is_http_url(line):
            raise SourcesFileError(f"{path}: line {number}: not an http(s) URL: {line!r}")
        urls.append(line)
    return urls


def _reason(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(IgnoreRequest) and ("max redirections" in str(failure.value) or "redirect loop" in str(failure.value)):
        return "redirect_loop"
    name = type(failure.value).__name__
    for marker, reason in _NETWORK_REASONS:
        if marker in name:
            return reason
    return name


# (part of the exception's class name, reason): unreachable hosts and broken connections
_NETWORK_REASONS = (
    ("ConnectionRefused", "connection_refused"),
    ("DNSLookup", "dns_error"),
    ("NoRouteError", "no_route"),
    ("Timeout", "timeout"),
    ("ConnectionLost", "connection_lost"),
    ("ResponseNeverReceived", "connection_lost"),
    ("ConnectionDone", "connection_lost"),
    ("ResponseFailed", "connection_lost"),
)


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, sources: str | None = None, urls: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not sources and not urls:
            raise ValueError("the news spider needs a sources file or a URL list: -a sources=FILE or -a urls=FILE")
        self.sources: SourcesFile | None = load_sources(sources) if sources else None
        self.url_list = read_url_list(urls) if urls else []
        self._by_name: dict[str, Source] = {s.name: s for s in self.sources.sources} if self.sources else {}
        self.sitemap_max_size = 50 * 1024 * 1024
        self.incremental = True
        self.state_dir: Path | None = None
        self._state: CrawlState | None = None
        self._index: DedupIndex | None = None
        self._discovered: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.sitemap_max_size = settings.getint("NEWS_SITEMAP_MAX_SIZE")
        spider.incremental = settings.getbool("NEWS_INCREMENTAL", True)
        spider.state_dir = parse_archive_uri(settings["ARCHIVE_URI"]) / STATE
        if spider.sources and (slots := spider.sources.download_slots()) and not settings.frozen:
            # per-outlet overrides, for each of the outlet's hosts; explicit settings win
            merged = {**slots, **settings.getdict("DOWNLOAD_SLOTS")}
            priority = max(settings.getpriority("DOWNLOAD_SLOTS") or 0, 30)  # at least "spider"
            settings.set("DOWNLOAD_SLOTS", merged, priority=priority)
        crawler.signals.connect(spider._on_item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        return spider

    # -- state ---------------------------------------------------------------------------

    def _open_state(self) -> None:
        if self.incremental and self._state is None and self.state_dir is not None:
            self._state = CrawlState(self.state_dir / STATE_FILE).open()
            self._index = DedupIndex(self.state_dir / "index.sqlite").open()

    def _on_closed(self, spider: scrapy.Spider, reason: str) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None
        if self._index is not None:
            self._index.close()
            self._index = None

    def _on_item_dropped(self, item: Any, response: Response, exception: BaseException, spider: scrapy.Spider) -> None:
        """A page dropped for good by a pipeline stage (a duplicate, off topic) is not
        requested again. (Quarantined pages are not dropped: they are retried.)"""
        if self._state is None or not isinstance(item, (FetchedPage, Article)):
            return
        reason = getattr(exception, "seen_reason", None) or (
            str(exception).split(" at ", 1)[0].split(":", 1)[0][:80] or type(exception).__name__
        )
        urls = {item.url, item.request_url} if isinstance(item, FetchedPage) else {item.url, item.canonical_url}
        for url in urls:
            self._state.mark_seen(url_key(url), url, reason)

    def _already_archived(self, url: str) -> bool:
        if self._state is None or self._index is None:
            return False
        key = url_key(url)
        if self._index.article_for_url(key) is not None:
            return True
        reason = self._state.seen_reason(key)
        if reason is not None and reason.startswith("off_topic/"):
            # judged off topic: skipped only while the topic profile is the same
            return reason == f"off_topic/{self.crawler.stats.get_value('relevance/profile')}"
        return reason is not None

    # -- requests ------------------------------------------------------------------------

    def _source_for(self, url: str) -> str:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        for source in self._by_name.values():
            if host in {h.removeprefix("www.") for h in source.hosts()}:
                return source.name
        return urlsplit(url).hostname or "unknown"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._open_state()
        for url in self.url_list:
            for request in self._article(Link(url, "article"), self._source_for(url), None):
                yield request
        if self.url_list:
            return
        assert self.sources is not None
        for source in self.sources.sources:
            for request in self._start_requests(source):
                yield request

    def _start_requests(self, source: Source) -> Iterator[scrapy.Request]:
        for url in source.feeds:
            yield self._document(url, "feed", source.name)
        for url in source.sitemaps:
            yield self._document(url, "sitemap", source.name)
        if source.robots_sitemaps and source.home:
            yield self._document(urljoin(source.home, "/robots.txt"), "robots", source.name)
        if source.autodiscover_feeds and source.home:
            yield self._document(source.home, "home", source.name)
        for url in source.sections:
            if not (source.autodiscover_feeds and url == source.home):
                yield self._document(url, "section", source.name)

    def _document(self, url: str, kind: str, source: str, depth: int = 0, *, conditional: bool = True) -> scrapy.Request:
        headers = {}
        if conditional and self._state is not None:
            etag, modified = self._state.validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        return NewsRequest(
            url,
            callback=self.parse_document,
            errback=self.on_error,
            headers=headers,
            cb_kwargs={"source": source},
            meta={"source": source, "kind": kind, "depth": depth, "handle_httpstatus_list": [304]},
            dont_filter=not conditional,
        )

    def _article(self, link: Link, source: str, cutoff: datetime | None) -> Iterator[scrapy.Request]:
        spec = self._by_name.get(source)
        if spec is not None and not spec.is_wanted(link.url):
            count(self.crawler.stats, "discovery/filtered", source)
            return
        if cutoff and link.published and link.published < cutoff:
            count(self.crawler.stats, "discovery/too_old", source)
            return
        key = url_key(link.url)
        if key in self._discovered:  # found again, through another path
            return
        self._discovered.add(key)
        count(self.crawler.stats, "discovery/articles", source)
        if self._already_archived(link.url):
            count(self.crawler.stats, "discovery/skipped_seen", source)
            return
        yield NewsRequest(
            link.url,
            callback=self.parse_article,
            errback=self.on_error,
            cb_kwargs={"source": source},
            meta={"source": source, "kind": "article", "link_text": link.text},
        )

    # -- discovery -----------------------------------------------------------------------

    def parse_document(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        kind = response.meta["kind"]
        depth = response.meta.get("depth", 0)
        stats = self.crawler.stats
        if response.status == 304:
            links = self._state.links(response.url) if self._state is not None else None
            if links is None:  # validators without links: read it again, in full
                yield self._document(response.url, kind, source, depth, conditional=False)
                return
            count(stats, "discovery/not_modified", source)
            count(stats, f"discovery/not_modified/{kind}", None)
            yield from self._follow(links, source)
            return
        try:
            doc = self._read(response, kind, source, depth)
        except DiscoveryError as exc:
            self._discovery_error(kind, response.url, source, exc.reason, exc.detail)
            return
        if doc.problem:
            # counted as an error, but what could be recovered is still followed
            self._discovery_error(kind, response.url, source, doc.problem_reason or "malformed", doc.problem)
        count(stats, f"discovery/read/{kind}", source)
        if self._state is not None and not doc.problem:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            if etag or modified:
                self._state.save_document(
                    response.url,
                    etag.decode("latin-1") if etag else None,
                    modified.decode("latin-1") if modified else None,
                    doc.links,
                )
        yield from self._follow(doc.links, source)

    def _read(self, response: Response, kind: str, source: str, depth: int) -> Document:
        body = response.body
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if kind == "feed":
            return parse_feed(body, response.url, content_type)
        if kind == "sitemap":
            if gzip_magic_number(response):
                try:
                    body = gunzip(body, max_size=self.sitemap_max_size)
                except (OSError, ValueError) as exc:
                    raise DiscoveryError("bad_gzip", f"{type(exc).__name__}: {exc}") from None
            return parse_sitemap(body, response.url)
        if kind == "robots":
            text = response.text if isinstance(response, TextResponse) else body.decode("utf-8", "replace")
            return Document([Link(url, "sitemap") for url in robots_sitemaps(text, response.url)])
        if not isinstance(response, TextResponse):
            raise DiscoveryError("not_html", f"Content-Type {content_type or 'missing'}")
        feeds, anchors = page_links(response.text, response.url)
        doc = Document()
        spec = self._by_name[source]
        if kind == "home" and spec.autodiscover_feeds:
            doc.links += [Link(url, "feed") for url in feeds]
        if kind == "section" or (kind == "home" and spec.home in spec.sections):
            for url, text in anchors:
                what = classify_url(url, response.url)
                if what == "article":
                    doc.links.append(Link(url, "article", text))
                elif what == "pagination" and depth < spec.section_depth:
                    doc.links.append(Link(url, "section", text, depth=depth + 1))
        return doc

    def _follow(self, links: Iterable[Link], source: str) -> Iterator[scrapy.Request]:
        spec = self._by_name[source]
        cutoff = datetime.now(UTC) - timedelta(days=spec.max_age_days) if spec.max_age_days else None
        for link in links:
            if link.kind == "article":
                yield from self._article(link, source, cutoff)
            elif link.kind == "sitemap" and cutoff and link.published and link.published < cutoff:
                count(self.crawler.stats, "discovery/too_old_sitemaps", source)
            elif link.kind == "section" and link.depth > spec.section_depth:
                continue
            else:
                yield self._document(link.url, link.kind, source, link.depth)

    def _discovery_error(self, kind: str, url: str, source: str, reason: str, detail: str) -> None:
        self.logger.warning("Unreadable %s %s (%s): %s", kind, url, source, detail)
        count(self.crawler.stats, f"discovery/{kind}_errors", source)
        count(self.crawler.stats, f"discovery/error_reason/{reason}", source)

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
        reason = _reason(failure)
        if failure.check(IgnoreRequest) and not failure.check(HttpError) and reason != "redirect_loop":
            # a decision (robots.txt forbids it), not a failure of the site
            self.logger.info("Not fetching %s %s (%s): %s", kind, request.url, source, failure.value or "ignored")
            count(stats, f"fetch/ignored/{kind}", source)
            return
        self.logger.warning("Could not fetch %s %s (%s): %s", kind, request.url, source, reason)
        count(stats, f"fetch/failed/{kind}", source)
        count(stats, f"fetch/failed/reason/{reason}", source)
