"""Running a crawl from Python (the CLI uses this; so can cron wrappers)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.spiders.news import NewsSpider


def crawl_settings(archive_uri: str, overrides: dict[str, Any] | None = None) -> Settings:
    """The project settings (``crawler.settings``, wherever the process runs) with the
    archive location and any overrides applied at command-line priority."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARCHIVE_URI", archive_uri, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(settings: Settings, **spider_kwargs: Any) -> dict[str, Any]:
    """Run the ``news`` spider to completion in this process; return its final stats.

    Uses a CrawlerProcess, so it can run once per process (Twisted's reactor cannot restart).
    """
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, **spider_kwargs)
    process.start()
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())
