"""End to end: a real Scrapy crawl over HTTP of the local news web into a real archive."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import pytest_twisted

from archive.reader import manifests, read_articles, read_quarantine
from extraction.scoring import score_page
from newsweb import seed_clean_body
from newsweb.content import offtopic_article
from seeds import SEEDS_DIR
from tests.conftest import crawl

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

    # A second run into the same archive stores nothing new.
    second = await crawl(web, server, archive)
    assert second.get("archive/stored", 0) == 0
    # stored pages and the copies sighted in run 1 are all known by their URL; off-topic
    # pages are fetched and rejected again
    assert second["dedup/dropped_url"] == len(on_topic)
    assert second.get("dedup/dropped_text", 0) == second.get("archive/sightings", 0) == 0
    assert second["relevance/rejected"] == len(off_topic)
    assert len(list(read_articles(archive))) == len(articles)
    assert [m.status for m in manifests(archive)] == ["finished", "finished"]


@pytest_twisted.ensureDeferred
async def test_bad_input_is_counted_and_quarantined_not_fatal(faulty_newsweb, tmp_path):
    web, server = faulty_newsweb
    archive = tmp_path / "archive"
    # relevance off: this web's healthy articles are all off topic, and this test is about faults
    stats = await crawl(web, server, archive, RELEVANCE_ENABLED=False)
    assert stats["finish_reason"] == "finished"

    faults = {a.fault: a.url for a in web.articles if a.fault}
    quarantined = {q.url: q for q in read_quarantine(archive)}
    assert quarantined[faults["pdf"]].reason == "not an HTML page (Content-Type: application/pdf)"
    assert quarantined[faults["empty"]].reason == "empty page"
    stored_urls = {a.url for a in read_articles(archive)}
    # Malformed HTML in the wrong encoding is still an article: stored, decoded.
    assert faults["malformed-html"] in stored_urls or faults["malformed-html"] in quarantined
    assert stats["fetch/failed/reason/http_404"] >= 1
    assert stats["fetch/failed/reason/http_500"] >= 1
    assert stats["discovery/sitemap_errors/by_source/Faulty Times"] == 1
    assert stats["discovery/feed_errors/by_source/Faulty Times"] == 1
    # Every story of the healthy outlets was still stored, once.
    stories = Counter(web.article(u).story for u in stored_urls if web.article(u).kind != "fault")
    assert stories == Counter({a.story: 1 for a in web.articles if a.kind != "fault" and not a.disallowed})


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
