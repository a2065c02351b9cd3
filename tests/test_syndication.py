"""Syndication over runs: every copy of a seed story, published before the first run or
between two runs, is a sighting of the one stored story; the original publisher's own
page, found after an aggregator's copy was stored, is marked as the original."""

from __future__ import annotations

from collections import Counter

import pytest_twisted

from archive.reader import read_articles, read_sightings
from newsweb import NewsWeb, NewsWebServer
from pipelines.dedup import same_publisher
from tests.conftest import crawl
from tests.test_newsweb import get

AP_ORIGINAL = "http://apnews.test/article/china-blinken-qin-gang-phone-call-3f5e0c1a"


def seed_pages(web: NewsWeb) -> list[str]:
    return [a.url for a in web.crawlable() if a.story.startswith("seed-")]


def test_held_back_copies_appear_in_their_outlets_listings_only_once_published():
    web = NewsWeb(size=7, hold_back_copies=True)
    default = NewsWeb(size=7)
    assert len(seed_pages(web)) == len(seed_pages(default)) - 3 == 8
    outlets = {o.name: o for o in web.outlets}
    listings = {name: (outlets[name].feed_urls or outlets[name].sitemap_urls or outlets[name].section_urls)[0]
                for name in ("Ns News Online", "The Dawn News", "AP News")}
    before = {name: get(web, url) for name, url in listings.items()}
    assert get(web, AP_ORIGINAL)[0] == 404

    new = web.publish_copies()
    assert [(a.story, a.outlet) for a in new] == [
        ("seed-000", "Ns News Online"), ("seed-003", "The Dawn News"), ("seed-002", "AP News")
    ]
    assert new[-1].url == AP_ORIGINAL and new[-1].kind == "original"
    assert all(a.published_at > max(b.published_at for b in web.articles if b not in new) for a in new)
    assert sorted(seed_pages(web)) == sorted(seed_pages(default))
    assert [web.article(a.url) for a in new] == new
    assert get(web, AP_ORIGINAL)[0] == 200
    for name, url in listings.items():
        status, headers, body = get(web, url)
        assert status == 200
        assert next(a.url for a in new if a.outlet == name).encode() in body, name
        assert headers["Last-Modified"] != before[name][1]["Last-Modified"], name
    assert web.publish_copies() == []


@pytest_twisted.ensureDeferred
async def test_every_copy_over_two_runs_is_a_sighting_of_the_one_stored_story(tmp_path):
    web = NewsWeb(size=40, hold_back_copies=True)
    archive = tmp_path / "archive"
    with NewsWebServer(web) as server:
        # -- run 1: each seed story stored once; the copies on the web so far are sightings
        first = await crawl(web, server, archive)
        stored = {web.article(a.url).story: a for a in read_articles(archive)}
        assert sorted(stored) == [f"seed-{i:03d}" for i in range(5)]
        assert first["archive/stored"] == 5
        copies_1 = sorted(set(seed_pages(web)) - {a.url for a in stored.values()})
        sightings_1 = list(read_sightings(archive))
        assert sorted(s.url for s in sightings_1) == copies_1
        assert len(copies_1) == first["archive/sightings"] == 3
        assert all(s.story_id == stored[web.article(s.url).story].id for s in sightings_1)
        assert not [s for s in sightings_1 if s.is_original]
        # AP's story was first stored from an aggregator's copy that credits AP
        ap_story = stored["seed-002"]
        assert web.article(ap_story.url).outlet in ("Ns News Online", "The Dawn News")
        assert same_publisher(ap_story.original_publisher, "AP News")

        # -- between the runs, the held-back copies (and AP's own page) are published
        new = web.publish_copies()
        assert len(new) == 3

        # -- run 2: no new article; each new copy is a sighting of its story's stored article
        second = await crawl(web, server, archive)
    assert second.get("archive/stored", 0) == 0
    assert {a.id for a in read_articles(archive)} == {a.id for a in stored.values()}
    sightings = list(read_sightings(archive))
    sightings_2 = [s for s in sightings if s not in sightings_1]
    assert sorted(s.url for s in sightings_2) == sorted(a.url for a in new)
    assert second["archive/sightings"] == 3
    assert all(s.story_id == stored[web.article(s.url).story].id for s in sightings_2)

    # Over both runs: every page of every seed story but the stored one, sighted exactly once.
    assert Counter(s.url for s in sightings) == Counter(set(seed_pages(web)) - {a.url for a in stored.values()})
    assert len(sightings) == len(seed_pages(web)) - 5 == 6
    # The original publisher's page is the only one marked original.
    assert [(s.url, s.source) for s in sightings if s.is_original] == [(AP_ORIGINAL, "AP News")]
