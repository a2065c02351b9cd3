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


@pytest.fixture(scope="session")
def s3server(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1 for the whole session."""
    from tests.s3server import SeaweedS3

    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs") / "data").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3server, request, monkeypatch, tmp_path):
    """A fresh bucket on the session's S3 server; remote archives keep their local folder
    under this test's tmp_path."""
    import re
    import uuid

    monkeypatch.setenv("NEWSARCHIVE_CACHE_DIR", str(tmp_path / "cache"))
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-")
    bucket = f"{name}-{uuid.uuid4().hex[:8]}"
    s3server.create_bucket(bucket)
    return bucket


@pytest.fixture(params=["file", "s3"])
def archive_uri(request, tmp_path):
    """An archive URI for each backend: a local folder, and a prefix in a fresh bucket.
    Returns (uri, storage options)."""
    if request.param == "file":
        return str(tmp_path / "archive"), {}
    s3server = request.getfixturevalue("s3server")
    bucket = request.getfixturevalue("s3_bucket")
    return f"s3://{bucket}/news/archive", s3server.storage_options
