"""The extract stage learns lines a site repeats under many stories and drops them from that
site's later pages, inline and in the worker pool, and remembers them across runs."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import pytest_twisted
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from extraction.boilerplate import FILE_NAME
from pipelines.extract import ExtractPipeline
from schemas import ArticleCandidate
from tests.test_pipelines import page

TRAILER = "Thanks for reading the Valley Courier!"
SENTENCES = [
    "Chinese President Xi Jinping on Friday told the visiting US diplomat that the two countries should be partners.",
    "The talks in Beijing ran for more than five hours and covered trade, technology and the war in Ukraine.",
    "Officials on both sides described the discussions as candid and constructive, if short of any breakthrough.",
    "Analysts said the meeting was a sign that both governments want to keep channels of communication open.",
]


def _html(story: int) -> str:
    body = "".join(f"<p>Story {story}. {s}</p>" for s in SENTENCES)
    return f"<html><head><title>Story {story}</title></head><body><article><h1>Story {story}</h1>{body}<p>{TRAILER}</p></article></body></html>"


def _page(story: int, host: str = "www.valley.test"):
    url = f"https://{host}/2024/05/01/story-{story}"
    return page(url=url, request_url=url, html=_html(story))


def _pipeline(state_dir, **kwargs) -> ExtractPipeline:
    stats = MemoryStatsCollector(get_crawler())
    return ExtractPipeline(stats, boilerplate_dir=state_dir, boilerplate_min_pages=3, **kwargs)


def _aio(coro):
    """Await an asyncio coroutine from a pytest-twisted test (the reactor is asyncio's)."""
    return Deferred.fromFuture(asyncio.ensure_future(coro))


def _texts(results) -> list[str]:
    assert all(isinstance(r, ArticleCandidate) for r in results), results
    return [r.fields["text"] for r in results]


@pytest_twisted.ensureDeferred
async def test_a_repeated_line_is_dropped_once_learned_and_the_lesson_is_kept_for_the_next_run(tmp_path):
    state = tmp_path / "state"
    first = _pipeline(state, workers=0)
    first.open_spider()
    texts = _texts([first.process_item(_page(n)) for n in range(5)])
    await _aio(first.close_spider())
    # seen under three different stories, the line is boilerplate from the fourth page on
    assert [t.endswith(TRAILER) for t in texts] == [True, True, True, False, False]
    assert all(f"Story {n}. {SENTENCES[-1]}" in t for n, t in enumerate(texts))
    assert json.loads((state / FILE_NAME).read_text())["sites"]["valley.test"]
    assert first.stats.get_value("extract/boilerplate_sites") == 1

    # the next run knows it from its first page on, for this site only
    second = _pipeline(state, workers=0)
    second.open_spider()
    again, other = _texts([second.process_item(_page(9)), second.process_item(_page(9, host="other.test"))])
    assert not again.endswith(TRAILER) and f"Story 9. {SENTENCES[-1]}" in again
    assert other.endswith(TRAILER)


def test_off_the_learned_lines_are_kept(tmp_path):
    pipeline = _pipeline(None, workers=0)
    pipeline.open_spider()
    assert all(t.endswith(TRAILER) for t in _texts([pipeline.process_item(_page(n)) for n in range(5)]))
    assert not (tmp_path / "state").exists()


@pytest_twisted.ensureDeferred
async def test_the_worker_pool_gets_the_learned_lines_too(tmp_path):
    pipeline = _pipeline(tmp_path / "state", workers=1, timeout=30)
    pipeline.open_spider()
    try:
        results = []
        for n in range(5):  # one after the other: each page's lesson applies to the next
            results.append(await _aio(pipeline.process_item(_page(n))))
    finally:
        await _aio(pipeline.close_spider())
    assert [t.endswith(TRAILER) for t in _texts(results)] == [True, True, True, False, False]


@pytest_twisted.ensureDeferred
async def test_an_unreadable_state_file_is_relearned_not_fatal(tmp_path, caplog):
    state = tmp_path / "state"
    state.mkdir()
    (state / FILE_NAME).write_text("{not json")
    pipeline = _pipeline(state, workers=0)
    with caplog.at_level(logging.WARNING):
        pipeline.open_spider()
    assert f"Ignoring unreadable {state}/{FILE_NAME}" in caplog.text
    assert isinstance(pipeline.process_item(_page(1)), ArticleCandidate)
    await _aio(pipeline.close_spider())
    assert json.loads((state / FILE_NAME).read_text())["format"] == 1


def test_min_pages_setting_is_checked(tmp_path):
    crawler = get_crawler(settings_dict={"ARCHIVE_URI": str(tmp_path / "a"), "EXTRACT_SITE_BOILERPLATE_MIN_PAGES": 1})
    with pytest.raises(ValueError, match="^EXTRACT_SITE_BOILERPLATE_MIN_PAGES must be at least 2, got 1$"):
        ExtractPipeline.from_crawler(crawler)
    crawler = get_crawler(settings_dict={"ARCHIVE_URI": str(tmp_path / "a"), "EXTRACT_SITE_BOILERPLATE": False,
                                         "EXTRACT_WORKERS": 0})
    assert ExtractPipeline.from_crawler(crawler).boilerplate_dir is None
