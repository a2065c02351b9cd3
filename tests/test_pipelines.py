"""Each pipeline stage alone, built with plain values (no crawl)."""

import asyncio
from datetime import UTC, datetime

import pytest
import pytest_twisted
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from twisted.internet.defer import Deferred

import archive.writer
from archive import ArchiveWriter
from archive.reader import read_articles, read_quarantine
from crawler.report import RunSummary
from pipelines.dedup import DedupPipeline
from pipelines.extract import ExtractPipeline
from pipelines.store import StorePipeline
from pipelines.validate import ValidatePipeline
from schemas import Article, ArticleCandidate, FetchedPage, QuarantineRecord, Sighting

PARAS = [
    "Chinese President Xi Jinping on Friday told top US diplomat Antony Blinken that the world's two biggest "
    "economies should be partners, not rivals, but that there were a number of issues to be resolved.",
    "Blinken, in China for the second time in less than a year, met leading Chinese politicians in Beijing. "
    "US officials said he would directly raise crucial areas of difference including Russia, Taiwan and trade.",
]
HTML = (
    '<html lang="en"><head><title>Xi tells Blinken - News</title>'
    '<link rel="canonical" href="https://www.news.test/xi-blinken?utm_source=rss">'
    '<meta property="article:published_time" content="2024-04-26T09:30:00+00:00"></head>'
    "<body><nav><a href='/'>Home</a></nav><article><h1>Xi tells Blinken</h1>"
    '<p class="byline">By Jane Doe</p>' + "".join(f"<p>{p}</p>" for p in PARAS) + "<p>Back to top button</p>"
    "</article><footer>Copyright</footer></body></html>"
)
FETCHED = datetime(2024, 4, 27, 8, tzinfo=UTC)


def page(**changes) -> FetchedPage:
    fields = {
        "url": "https://www.news.test/xi-blinken?utm_source=rss",
        "request_url": "https://www.news.test/xi-blinken?utm_source=rss",
        "source": "News",
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "html": HTML,
        "fetched_at": FETCHED,
    }
    fields.update(changes)
    return FetchedPage(**fields)


@pytest.fixture
def stats():
    return MemoryStatsCollector(get_crawler())


def test_extract_then_validate_makes_an_article(stats):
    candidate = ExtractPipeline(stats).process_item(page())
    assert isinstance(candidate, ArticleCandidate)
    article = ValidatePipeline(stats).process_item(candidate)
    assert isinstance(article, Article)
    assert article.text == "\n".join(PARAS)
    assert article.title == "Xi tells Blinken"
    assert article.canonical_url == "https://www.news.test/xi-blinken"
    assert article.published_at == datetime(2024, 4, 26, 9, 30, tzinfo=UTC)
    assert article.language == "en"
    assert article.fetched_at == FETCHED
    assert stats.get_value("extract/extracted/by_source/News") == 1
    assert stats.get_value("validate/valid") == 1


@pytest.mark.parametrize(
    ("changes", "stage", "reason"),
    [
        ({"html": None, "content_type": "application/pdf"}, "extract", "not an HTML page (Content-Type: application/pdf)"),
        ({"html": ""}, "extract", "empty page"),
        ({"html": "   \n  "}, "extract", "empty page"),
        ({"html": "<html><body><div></div></body></html>"}, "extract", "no article text found"),
        (
            {"html": "<html><body><nav><a href='/'>Home</a></nav></body></html>"},
            "validate",
            "text: Value error, text has 1 words, fewer than the 25 an article needs",
        ),
        ({"html": "\x00\x01\x02 binary garbage \xff\xfe"}, "extract", "not parseable as HTML"),
    ],
)
def test_bad_pages_are_quarantined_with_the_reason(stats, changes, stage, reason):
    item = ExtractPipeline(stats).process_item(page(**changes))
    if not isinstance(item, QuarantineRecord):
        item = ValidatePipeline(stats).process_item(item)
    assert isinstance(item, QuarantineRecord)
    assert item.url == page().url
    assert item.source == "News"
    assert item.stage == stage
    assert item.reason.startswith(reason)
    assert stats.get_value("extract/quarantined", 0) + stats.get_value("validate/quarantined", 0) == 1


def test_invalid_candidate_is_quarantined_with_fields_and_reason(stats):
    candidate = ExtractPipeline(stats).process_item(page())
    candidate.fields["text"] = "Too short."
    candidate.fields["published_at"] = datetime(2024, 4, 26)  # naive
    record = ValidatePipeline(stats).process_item(candidate)
    assert isinstance(record, QuarantineRecord)
    assert record.stage == "validate"
    assert "text: Value error, text has 2 words" in record.reason
    assert "published_at: Input should have timezone info" in record.reason
    assert record.data["text"] == "Too short."
    assert stats.get_value("validate/quarantined/by_source/News") == 1


def test_other_items_pass_through(stats):
    marker = {"not": "ours"}
    assert ExtractPipeline(stats).process_item(marker) is marker
    assert ValidatePipeline(stats).process_item(marker) is marker


def _article(stats, **page_changes) -> Article:
    return ValidatePipeline(stats).process_item(ExtractPipeline(stats).process_item(page(**page_changes)))


def test_dedup_within_a_run_by_url_and_by_text(tmp_path, stats):
    dedup = DedupPipeline(tmp_path, stats)
    dedup.open_spider()
    try:
        first = _article(stats)
        assert dedup.process_item(first) is first
        with pytest.raises(DropItem, match="Duplicate URL"):
            dedup.process_item(_article(stats, url="https://www.news.test/xi-blinken?utm_campaign=x#top"))
        syndicated = HTML.replace("www.news.test/xi-blinken", "copies.test/2024/04/xi").replace("’", "'")
        copy = dedup.process_item(_article(stats, url="https://copies.test/2024/04/xi", html=syndicated))
        assert isinstance(copy, Sighting)
        assert (copy.story_id, copy.url, copy.match, copy.similarity) == (first.id, "https://copies.test/2024/04/xi", "text", 1.0)
    finally:
        dedup.close_spider()
    assert stats.get_value("dedup/dropped_url") == 1
    assert stats.get_value("dedup/dropped_text/by_source/News") == 1


def test_dedup_across_runs_uses_the_archive_index(tmp_path, stats):
    first = _article(stats)
    writer = ArchiveWriter(tmp_path, run_id="run1")
    writer.open()
    writer.add(first)
    writer.close()

    dedup = DedupPipeline(tmp_path, stats)  # the next run
    dedup.open_spider()
    try:
        with pytest.raises(DropItem, match=f"stored as article {first.id}"):
            dedup.process_item(_article(stats))
        other = HTML.replace(PARAS[1], "A different second paragraph, long enough to be a new story entirely.")
        fresh = _article(stats, url="https://www.news.test/other", html=other.replace("xi-blinken?utm_source=rss", "other"))
        assert dedup.process_item(fresh) is fresh
    finally:
        dedup.close_spider()


def _await(coro):
    """Run an asyncio coroutine from a pytest-twisted test (the reactor is asyncio's)."""
    return Deferred.fromFuture(asyncio.ensure_future(coro))


@pytest_twisted.ensureDeferred
async def test_store_writes_batches_and_counts_per_source(tmp_path, stats):
    store = StorePipeline(tmp_path, stats, max_records=1)
    await _await(store.open_spider())
    article = _article(stats)
    assert await _await(store.process_item(article)) is article
    record = ExtractPipeline(stats).process_item(page(html=""))
    await _await(store.process_item(record))
    await _await(store.close_spider())
    assert stats.get_value("archive/stored/by_source/News") == 1
    assert stats.get_value("archive/quarantined") == 1
    assert stats.get_value("archive/batches") == 2
    assert [a.id for a in read_articles(tmp_path)] == [article.id]
    assert [q.reason for q in read_quarantine(tmp_path)] == ["empty page"]


@pytest_twisted.ensureDeferred
async def test_store_write_error_is_counted_and_fails_the_run(tmp_path, stats, monkeypatch):
    store = StorePipeline(tmp_path, stats, max_records=1)
    await _await(store.open_spider())

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.writer.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        await _await(store.process_item(_article(stats)))
    monkeypatch.undo()
    await _await(store.close_spider())
    assert stats.get_value("archive/write_errors") == 1
    stats.set_value("finish_reason", "finished")
    summary = RunSummary(stats.get_stats(), sources=["News"])
    assert not summary.ok
    assert "ARCHIVE WRITE ERRORS: 1" in summary.format()
