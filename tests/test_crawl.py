"""End to end: a real Scrapy crawl over HTTP of the local news web into a real archive."""

from __future__ import annotations

import shutil
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import pytest_twisted

from archive.reader import manifests, read_articles, read_quarantine
from extraction.scoring import score_page
from newsweb import NewsWeb, NewsWebServer, seed_clean_body
from newsweb.content import offtopic_article
from seeds import SEEDS_DIR
from tests.conftest import closed_port, crawl

ROOT = Path(__file__).resolve().parent.parent
SEED_IDS = ["000", "001", "002", "003", "004"]

# Every boilerplate line listed in seeds/README.md. Distinctive phrases must not appear
# anywhere in a stored text; generic words must not stand as a line of their own.
BOILERPLATE_PHRASES = [
    "Read Full Article at RT.com",
    "Your email address will not be published",
    "Required fields are marked",
    "ConflictNorth AmericaWorld",
    "Ns News Online Desk",
    "By Associated Press",
    "Back to top button",
    "Skip to main content",
    "from The Dawn News",
    "https://ift.tt/",
    "Popular posts from this blog",
    "The Republican primary race for president in 2024",
    "Police identify person of interest in mass shootings",
    "All-out war: Israel pounds Gaza",
    "Source: Kuwait News Agency",
]
BOILERPLATE_LINES = ["Read more", "Source link", "Leave a Reply", "Related Articles", "Comments", "Archives"]


def assert_no_boilerplate(text: str, where: str) -> None:
    for phrase in BOILERPLATE_PHRASES:
        assert phrase not in text, f"{phrase!r} in the text of {where}"
    lines = {line.strip().casefold() for line in text.splitlines()}
    for line in BOILERPLATE_LINES:
        assert line.casefold() not in lines, f"line {line!r} in the text of {where}"


@pytest_twisted.ensureDeferred
async def test_crawl_stores_each_story_once_clean_and_a_second_run_stores_nothing(newsweb, tmp_path):
    web, server = newsweb
    archive = tmp_path / "archive"
    first = await crawl(web, server, archive)

    articles = list(read_articles(archive))
    by_story = Counter(web.article(a.url).story for a in articles)
    crawlable = [a for a in web.articles if not a.disallowed]
    on_topic = [a for a in crawlable if a.story.startswith("seed-")]
    off_topic = [a for a in crawlable if not a.story.startswith("seed-")]

    # Each on-topic story once (every seed story: original + syndicated copies); no
    # off-topic article is stored, and each is listed with its score.
    assert by_story == Counter({a.story: 1 for a in on_topic})
    assert first["archive/stored"] == len(by_story) == 5
    assert first["relevance/kept"] == len(on_topic) == 11  # copies too: then known as duplicates
    copies = len(on_topic) - len(by_story)
    assert first.get("dedup/dropped_url", 0) + first.get("dedup/dropped_text", 0) == copies
    assert first["archive/sightings"] == copies  # each copy is a sighting of its stored story
    assert first["relevance/rejected"] == len(off_topic) == 40
    threshold = first["relevance/threshold"]
    rejected = first["relevance/rejected_items"]
    assert sorted(r["url"] for r in rejected) == sorted(a.url for a in off_topic)
    assert all(0 <= r["score"] < threshold for r in rejected)
    assert all(threshold <= a.relevance <= 1 for a in articles)
    assert first.get("archive/quarantined", 0) == 0
    assert first["finish_reason"] == "finished"

    # The seeds: clean body, no boilerplate, metadata of the page it came from.
    for article in articles:
        page = web.article(article.url)
        assert_no_boilerplate(article.text, article.url)
        assert article.title == page.title
        assert article.published_at == page.published_at
        assert article.language == "en"
        assert article.source == page.outlet
        assert article.original_publisher == page.original_publisher
        if page.story.startswith("seed-"):
            seed = page.story.removeprefix("seed-")
            f1 = score_page(article.text, seed_clean_body(seed)).f1
            assert f1 >= 0.98, f"seed {seed} stored from {article.url}: F1 {f1:.3f}"
    assert sorted(s for s in by_story if s.startswith("seed-")) == [f"seed-{i}" for i in SEED_IDS]

    # robots.txt is obeyed: a disallowed page is never requested.
    disallowed = {a.url.split("/", 3)[3] for a in web.articles if a.disallowed}
    assert disallowed
    assert not [r for r in server.requests if r[2].lstrip("/") in disallowed]
    assert first["fetch/ignored/article"] == len(disallowed)

    # A second run into the same archive requests no article page and stores nothing new:
    # stored pages are known from the dedup index, dropped copies from the crawl state.
    served = len(server.requests)
    second = await crawl(web, server, archive)
    assert second.get("archive/stored", 0) == 0
    assert second.get("news/pages", 0) == 0
    assert second["discovery/skipped_seen"] == len(crawlable)
    assert second.get("dedup/dropped_url", 0) == second.get("dedup/dropped_text", 0) == 0
    article_urls = {a.url for a in web.articles}
    assert not [r for r in server.requests[served:] if f"http://{r[1]}{r[2]}" in article_urls]
    assert len(list(read_articles(archive))) == len(articles)
    assert [m.status for m in manifests(archive)] == ["finished", "finished"]


@pytest_twisted.ensureDeferred
async def test_bad_input_is_counted_and_quarantined_not_fatal(faulty_newsweb, tmp_path):
    web, server = faulty_newsweb
    archive = tmp_path / "archive"
    # relevance off: this web's healthy articles are all off topic, and this test is about faults
    unreachable = f'\n[[sources]]\nname = "Unreachable Daily"\nfeeds = ["http://127.0.0.1:{closed_port()}/rss"]\n'
    stats = await crawl(web, server, archive, extra_sources=unreachable, RELEVANCE_ENABLED=False)
    assert stats["finish_reason"] == "finished"

    faults = {a.fault: a.url for a in web.articles if a.fault}
    quarantined = {q.url: q for q in read_quarantine(archive)}
    assert quarantined[faults["pdf"]].reason == "not an HTML page (Content-Type: application/pdf)"
    assert quarantined[faults["empty"]].reason == "empty page"
    stored_urls = {a.url for a in read_articles(archive)}
    # Malformed HTML in the wrong encoding is still an article: stored, decoded.
    assert faults["malformed-html"] in stored_urls or faults["malformed-html"] in quarantined
    # Every story of the healthy outlets was still stored, once.
    stories = Counter(web.article(u).story for u in stored_urls if web.article(u).kind != "fault")
    assert stories == Counter({a.story: 1 for a in web.articles if a.kind != "fault" and not a.disallowed})

    # Each fault is a counted outcome with its reason, in the stats and in the run report.
    report = json.loads(Path(stats["report/path"]).read_text())
    assert report["status"] == "ok" and report["problems"] == []
    faulty = report["outlets"]["Faulty Times"]
    assert faulty["status"] == "ok"
    assert faulty["failed_reasons"] == {
        "http_404": 2,  # a feed and an article
        "http_500": 2,  # a feed and an article
        "http_429": 1,  # a feed (no retries in this test)
        "redirect_loop": 1,  # a feed
    }
    assert faulty["discovery_errors"] == {
        "entity_declarations": 2,  # the billion laughs, in a feed and in a sitemap: refused, never expanded
        "malformed_feed": 1,
        "malformed_xml": 1,  # a truncated sitemap
    }
    assert faulty["failed"] == 2 and faulty["quarantined"] == 3 and faulty["discovery_failed"] == 8
    assert report["outlets"]["Unreachable Daily"] == {
        **{k: 0 for k in report["totals"]},
        "discovery_failed": 1,
        "status": "failed",
        "failed_reasons": {"connection_refused": 1},
        "discovery_errors": {},
    }
    assert stats["discovery/feed_errors/by_source/Faulty Times"] == 2
    assert stats["discovery/sitemap_errors/by_source/Faulty Times"] == 2


@pytest_twisted.ensureDeferred
async def test_politeness_user_agent_with_contact_and_retries_after_retry_after_or_a_backoff(tmp_path):
    web = NewsWeb(size=0, faults=True)
    with NewsWebServer(web) as server:
        unreachable = f'\n[[sources]]\nname = "Unreachable Daily"\nfeeds = ["http://127.0.0.1:{closed_port()}/rss"]\n'
        stats = await crawl(web, server, tmp_path / "archive", RETRY_TIMES=2, NEWS_RETRY_BACKOFF_BASE=0.01,
                            NEWS_CONTACT="mailto:ops@example.org", extra_sources=unreachable)
        assert server.user_agents == {
            "newsarchive/0.1 (news archiver; +https://pypi.org/project/newsarchive/; contact: mailto:ops@example.org)"
        }
        busy = [r[3] for r in server.requests if r[2] == "/busy-feed.xml"]
        errors = [r[3] for r in server.requests if r[2] == "/error-feed.xml"]
    assert busy == [429, 200]  # Retry-After: 1 honoured, then read
    assert errors == [500, 500, 500]  # 2 retries, then given up
    assert stats["retry/retry_after_honoured"] == 1
    # 1 s asked by the 429; 0.01 + 0.02 s of backoff for each of the two 500s (the error
    # feed and the error article) and each of the two refused connections (the unreachable
    # outlet's robots.txt and feed)
    assert stats["retry/waited_seconds"] == pytest.approx(1.0 + 4 * (0.01 + 0.02))
    assert stats["fetch/failed/reason/connection_refused/by_source/Unreachable Daily"] == 1
    assert stats["discovery/read/feed/by_source/Faulty Times"] == 2  # the healthy feed, and the busy one on its retry


def test_scrapy_crawl_command_works_from_the_project_root(newsweb, tmp_path):
    web, server = newsweb
    sources = tmp_path / "sources.toml"
    sources.write_text(web.sources_toml(), encoding="utf-8")
    archive = tmp_path / "archive"
    proc = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "crawl", "news",
            "-a", f"sources={sources}",
            "-s", f"PROXY_URL={server.url}",
            "-s", f"ARCHIVE_URI={archive}",
            "-s", "AUTOTHROTTLE_ENABLED=False",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "'finish_reason': 'finished'" in proc.stderr
    stories = {web.article(a.url).story for a in read_articles(archive)}
    assert {f"seed-{i}" for i in SEED_IDS} <= stories


def topic(story: str) -> str:
    """The subject of one of the news web's off-topic stories."""
    return offtopic_article(int(story.removeprefix("offtopic-"))).topic


@pytest_twisted.ensureDeferred
async def test_a_document_added_to_the_seeds_changes_what_the_next_run_collects(newsweb, tmp_path):
    web, server = newsweb
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    archive = tmp_path / "archive"
    first = await crawl(web, server, archive, RELEVANCE_SEEDS_DIR=str(seeds))
    assert first["archive/stored"] == 5
    assert {web.article(a.url).story for a in read_articles(archive)} == {f"seed-{i}" for i in SEED_IDS}

    # The user likes an arts story and adds it to the seeds: the next run collects the arts
    # stories (and no more sports, weather or science).
    liked = next(a for a in web.articles if a.kind == "offtopic" and not a.disallowed)
    assert topic(liked.story) == "culture"
    (seeds / "005_liked.txt").write_text(liked.title + "\n" + "\n".join(liked.paragraphs), encoding="utf-8")
    second = await crawl(web, server, archive, RELEVANCE_SEEDS_DIR=str(seeds))
    stored = {web.article(a.url).story for a in read_articles(archive)} - {f"seed-{i}" for i in SEED_IDS}
    culture = {a.story for a in web.articles if a.kind == "offtopic" and not a.disallowed and topic(a.story) == "culture"}
    assert liked.story in stored
    assert culture <= stored
    assert {topic(s) for s in stored} <= {"culture", "business"}
    assert second["archive/stored"] == len(stored)
    assert second["relevance/seeds"] == 6
    assert second["relevance/threshold"] != first["relevance/threshold"]


def test_scrapy_crawl_with_an_empty_seeds_folder_fails_at_start_naming_it(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n')
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    proc = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"sources={sources}",
            "-s", f"ARCHIVE_URI={tmp_path / 'archive'}", "-s", f"RELEVANCE_SEEDS_DIR={seeds}",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stderr.rstrip().endswith(
        f"relevance.settings.RelevanceConfigError: seeds folder {seeds}: has no .txt seed documents"
    )
    assert not (tmp_path / "archive").exists()


@pytest_twisted.ensureDeferred
async def test_best_first_fetches_each_outlets_on_topic_articles_first(newsweb, tmp_path):
    # One request at a time, so that the fetch order is the scheduler's order. Scrapy's
    # scheduler takes turns between sites (DownloaderAwarePriorityQueue), highest priority
    # first within each site.
    web, server = newsweb
    firsts = {}
    for prioritise in (True, False):
        before = len(server.requests)
        stats = await crawl(
            web, server, tmp_path / f"archive-{prioritise}", CONCURRENT_REQUESTS=1, RELEVANCE_PRIORITY_ENABLED=prioritise
        )
        assert stats["finish_reason"] == "finished"
        fetched = [web.article(f"http://{host}{path}") for _, host, path, _ in server.requests[before:]]
        fetched = [a for a in fetched if a is not None]
        assert len(fetched) == 51
        # per outlet: are its on-topic articles the first ones fetched?
        firsts[prioritise] = {}
        for outlet in web.outlets:
            mine = [a for a in fetched if a.outlet == outlet.name]
            n = sum(a.story.startswith("seed-") for a in mine)
            firsts[prioritise][outlet.name] = all(a.story.startswith("seed-") for a in mine[:n])
    assert all(firsts[True].values())
    # without priorities, the order of the feeds and sitemaps (which varies with timing)
    assert not all(firsts[False].values())
