"""The news spider's discovery paths and incremental crawls, against the local news web."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest_twisted

from archive.reader import read_articles
from newsweb import NewsWeb, NewsWebServer
from tests.conftest import crawl

# requests a crawl makes besides feeds, sitemaps, pages and articles
_ROBOTS = "/robots.txt"


def _served(server: NewsWebServer, since: int = 0) -> list[tuple[str, str, int]]:
    return [(host, path, status) for _, host, path, status in server.requests[since:]]


@pytest_twisted.ensureDeferred
async def test_every_article_of_every_outlet_is_found_then_only_new_ones_are_fetched(tmp_path):
    web = NewsWeb(size=40)
    archive = tmp_path / "archive"
    crawlable = {a.url: a for a in web.crawlable()}
    with NewsWebServer(web) as server:
        # -- first crawl: every article of every outlet, each through its outlet's own path
        requests: list = []
        first = await crawl(web, server, archive, requests=requests, RELEVANCE_ENABLED=False)
        fetched = {r.url for r in requests if r.meta.get("kind") == "article"}
        assert fetched == set(crawlable)
        titled = 0
        for request in requests:
            if request.url in crawlable:
                assert request.meta["kind"] == "article"
                assert request.meta["source"] == crawlable[request.url].outlet
                assert isinstance(request.meta["link_text"], str)
                titled += crawlable[request.url].title in request.meta["link_text"]
        # anchor text, feed title + summary or Google News title; plain sitemaps give none
        # (The Dawn News, and The Hindu's gzip sitemap: all but the 5 of its news sitemap)
        outlets = Counter(a.outlet for a in crawlable.values())
        assert titled == len(crawlable) - outlets["The Dawn News"] - max(0, outlets["The Hindu"] - 5)
        per_outlet = Counter(a.outlet for a in web.articles)  # robots-disallowed ones are found, then not fetched
        for outlet in web.outlets:
            assert first[f"discovery/articles/by_source/{outlet.name}"] == per_outlet[outlet.name], outlet.name
        read = {k.split("/")[2]: v for k, v in first.items() if k.startswith("discovery/read/") and "by_source" not in k}
        assert {k: v for k, v in first.items() if k.startswith("discovery/read/") and "/by_source/" in k} == {
            "discovery/read/feed/by_source/RT": 1,  # RSS 2.0
            "discovery/read/robots/by_source/The Hindu": 1,  # robots.txt Sitemap: ->
            "discovery/read/sitemap/by_source/The Hindu": 3,  # index -> Google News sitemap + gzip sitemap
            "discovery/read/section/by_source/AP News": 2,  # section page and its page 2
            "discovery/read/feed/by_source/France 24": 1,  # Atom
            "discovery/read/feed/by_source/Kuwait News Agency": 1,  # JSON Feed
            "discovery/read/home/by_source/Ns News Online": 1,  # home page <link rel="alternate"> ->
            "discovery/read/feed/by_source/Ns News Online": 1,  # RSS
            "discovery/read/sitemap/by_source/The Dawn News": 1,  # plain sitemap
        }
        assert sum(read.values()) == 12
        stories = Counter(web.article(a.url).story for a in read_articles(archive))
        assert stories == Counter({a.story: 1 for a in crawlable.values()})
        totals = json.loads(Path(first["report/path"]).read_text())["totals"]
        assert totals["discovered"] == len(web.articles) == len(crawlable) + totals["ignored"]
        assert totals["fetched"] == len(crawlable) and totals["stored"] == len(stories)
        assert totals["duplicate"] == len(crawlable) - len(stories)

        # -- second crawl right after: no article page requested, 304 for every feed, sitemap, page
        since = len(server.requests)
        second = await crawl(web, server, archive, RELEVANCE_ENABLED=False)
        served = _served(server, since)
        assert [s for s in served if f"http://{s[0]}{s[1]}" in crawlable] == []
        documents = [s for s in served if s[1] != _ROBOTS or s[0] == "www.thehindu.test"]
        assert len(documents) == 12 + 1  # the 12 documents, and The Hindu's robots.txt (read twice: by Scrapy too)
        assert Counter(s[2] for s in documents) == Counter({304: 12, 200: 1})
        assert second["discovery/not_modified"] == 12
        assert second["discovery/skipped_seen"] == len(crawlable)
        assert second.get("news/pages", 0) == 0
        totals = json.loads(Path(second["report/path"]).read_text())["totals"]
        assert (totals["discovered"], totals["skipped_seen"], totals["fetched"]) == (len(web.articles), len(crawlable), 0)
        assert (totals["not_modified"], totals["documents_read"]) == (12, 0)

        # -- the web publishes new articles: the next crawl fetches exactly those
        new = web.publish(9)
        since = len(server.requests)
        third = await crawl(web, server, archive, RELEVANCE_ENABLED=False)
        pages = {f"http://{h}{p}" for h, p, _ in _served(server, since)} & ({a.url for a in web.articles})
        assert pages == {a.url for a in new}
        assert third["archive/stored"] == 9
        assert third["discovery/skipped_seen"] == len(crawlable)
    assert len(list(read_articles(archive))) == len(stories) + 9


@pytest_twisted.ensureDeferred
async def test_max_age_skips_old_sitemap_and_feed_entries(newsweb, tmp_path):
    web, server = newsweb
    dated = sorted((a for a in web.crawlable() if a.outlet == "The Dawn News"), key=lambda a: a.published_at)
    cutoff = dated[len(dated) // 2].published_at
    days = (datetime.now(UTC) - cutoff).total_seconds() / 86400 + 0.01
    sources = (
        f'[[sources]]\nname = "The Dawn News"\nsitemaps = ["{web.outlets[6].sitemap_urls[0]}"]\nmax_age_days = {days}\n'
        f'[[sources]]\nname = "France 24"\nfeeds = ["{web.outlets[3].feed_urls[0]}"]\nmax_age_days = {days}\n'
    )
    requests: list = []
    stats = await crawl(web, server, tmp_path / "archive", sources_toml=sources, requests=requests, RELEVANCE_ENABLED=False)
    fetched = {r.url for r in requests if r.meta.get("kind") == "article"}
    expected = {a.url for a in web.crawlable() if a.outlet in ("The Dawn News", "France 24") and a.published_at >= cutoff}
    assert fetched == expected
    assert stats["discovery/too_old"] == len([a for a in web.crawlable() if a.outlet in ("The Dawn News", "France 24")]) - len(expected)


@pytest_twisted.ensureDeferred
async def test_allow_and_deny_patterns_filter_article_urls(newsweb, tmp_path):
    web, server = newsweb
    sources = (
        f'[[sources]]\nname = "RT"\nfeeds = ["{web.outlets[0].feed_urls[0]}"]\n'
        "allow = ['/news/']\ndeny = ['/news/7\\d+-']\n"
    )
    requests: list = []
    stats = await crawl(web, server, tmp_path / "archive", sources_toml=sources, requests=requests, RELEVANCE_ENABLED=False)
    rt = [a for a in web.articles if a.outlet == "RT"]
    wanted = [a for a in rt if "/news/" in a.url and not urlsplit(a.url).path.startswith("/news/7")]
    assert {r.url for r in requests if r.meta.get("kind") == "article"} == {a.url for a in wanted}
    assert stats["discovery/filtered"] == len(rt) - len(wanted) > 0


@pytest_twisted.ensureDeferred
async def test_a_url_list_crawls_exactly_those_urls(newsweb, tmp_path):
    web, server = newsweb
    picked = [a for a in web.crawlable() if a.kind == "offtopic"][:3]
    urls = tmp_path / "urls.txt"
    urls.write_text("# one-off\n" + "\n".join(a.url for a in picked) + "\n\nhttp://unknown-outlet.test/2024/01/01/a-story-of-ours/\n")
    requests: list = []
    stats = await crawl(web, server, tmp_path / "archive", spider_args={"urls": str(urls)}, requests=requests, RELEVANCE_ENABLED=False)
    assert sorted(r.url for r in requests if r.meta.get("kind") == "article") == sorted(
        [a.url for a in picked] + ["http://unknown-outlet.test/2024/01/01/a-story-of-ours/"]
    )
    assert {a.url: a.source for a in read_articles(tmp_path / "archive")} == {a.url: a.outlet for a in picked}
    assert stats["fetch/failed/reason/http_502/by_source/unknown-outlet.test"] == 1


def test_per_outlet_overrides_reach_scrapys_download_slots(tmp_path):
    from scrapy.crawler import Crawler

    from crawler.runner import crawl_settings
    from crawler.spiders.news import NewsSpider

    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\ndownload_delay = 3.0\nconcurrency = 1\n')
    settings = crawl_settings(str(tmp_path / "archive"), {"DOWNLOAD_SLOTS": {"b.test": {"delay": 1.0}}})
    crawler = Crawler(NewsSpider, settings)  # as Crawler.crawl() does: the spider first, then settings freeze
    NewsSpider.from_crawler(crawler, sources=str(sources))
    assert crawler.settings.getdict("DOWNLOAD_SLOTS") == {"a.test": {"delay": 3.0, "concurrency": 1}, "b.test": {"delay": 1.0}}
