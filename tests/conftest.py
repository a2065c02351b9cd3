"""Shared fixtures: the local news web served on 127.0.0.1, and a real in-process crawl."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner
from twisted.internet.defer import Deferred

from crawler.runner import crawl_settings
from crawler.spiders.news import NewsSpider
from newsweb import NewsWeb, NewsWebServer


@pytest.fixture(scope="module")
def newsweb():
    """The default local news web (40 off-topic articles), served for one test module."""
    web = NewsWeb(size=40)
    server = NewsWebServer(web).start()
    try:
        yield web, server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def faulty_newsweb():
    """The local news web with its outlet of broken pages, feeds and sitemaps."""
    web = NewsWeb(size=4, faults=True)
    server = NewsWebServer(web).start()
    try:
        yield web, server
    finally:
        server.stop()


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def crawl(web: NewsWeb, server: NewsWebServer, archive: Path, *, extra_sources: str = "",
                sources_toml: str | None = None, spider_args: dict[str, str] | None = None,
                requests: list[Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """Crawl the served news web into ``archive`` with the project's settings; return the stats.

    ``requests``, if given, receives every request that reached the downloader."""
    sources = archive.parent / f"{archive.name}-sources.toml"
    sources.write_text((sources_toml if sources_toml is not None else web.sources_toml()) + extra_sources, encoding="utf-8")
    settings = crawl_settings(
        str(archive),
        {
            "PROXY_URL": server.url,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            "RETRY_TIMES": 0,
            **overrides,
        },
    )
    runner = AsyncCrawlerRunner(settings)
    crawler = runner.create_crawler(NewsSpider)
    def collect(request: Any, spider: Any) -> None:
        assert requests is not None
        requests.append(request)

    if requests is not None:  # (signal receivers are weak references: keep ``collect`` alive here)
        crawler.signals.connect(collect, signal=signals.request_reached_downloader)
    await Deferred.fromFuture(runner.crawl(crawler, **{"sources": str(sources), **(spider_args or {})}))
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())
