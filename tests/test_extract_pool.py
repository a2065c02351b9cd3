"""Extraction in worker processes: results, a worker that dies, a worker that hangs, recovery."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import signal
from collections import Counter

import pytest
import pytest_twisted
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from archive.reader import read_articles, read_quarantine
from extraction import ExtractionError, Extractor
from pipelines.extract import ExtractPipeline
from pipelines.extract_pool import WORKER_NAME, ExtractionPool, ExtractionTimeout, WorkerCrashed
from schemas import ArticleCandidate, QuarantineRecord
from tests.conftest import crawl
from tests.faulty_extractor import CRASH, CRASH_EXIT_CODE, HANG, FaultyExtractor, broken_factory
from tests.test_pipelines import HTML, page

TIMEOUT = 1.0


def _aio(coro):
    """Run an asyncio coroutine from a pytest-twisted test (the reactor is asyncio's)."""
    return Deferred.fromFuture(asyncio.ensure_future(coro))


@pytest.fixture
def stats():
    return MemoryStatsCollector(get_crawler())


@pytest.fixture
def pool():
    pool = ExtractionPool(FaultyExtractor, workers=1, timeout=TIMEOUT)
    pool.start()
    try:
        yield pool
    finally:
        pool.terminate()


@pytest_twisted.ensureDeferred
async def test_worker_extracts_what_the_extractor_extracts_inline(pool):
    expected = Extractor().extract(HTML, "https://www.news.test/a")
    assert await _aio(pool.extract(HTML, "https://www.news.test/a")) == expected


@pytest_twisted.ensureDeferred
async def test_extractor_errors_come_back_as_themselves(pool):
    with pytest.raises(ExtractionError, match="^empty page$"):
        await _aio(pool.extract("  ", "https://www.news.test/a"))


@pytest_twisted.ensureDeferred
async def test_a_worker_that_dies_fails_its_page_and_the_pool_recovers(pool):
    with pytest.raises(WorkerCrashed, match=rf"^extraction worker died \(exit code {CRASH_EXIT_CODE}\)$"):
        await _aio(pool.extract(HTML + CRASH, "https://www.news.test/crash"))
    ex = await _aio(pool.extract(HTML, "https://www.news.test/after"))
    assert ex.title == "Xi tells Blinken"


@pytest_twisted.ensureDeferred
async def test_a_worker_that_hangs_is_killed_after_the_timeout_and_the_pool_recovers(pool):
    with pytest.raises(ExtractionTimeout, match=r"^extraction took longer than 1 s; worker killed$"):
        await _aio(pool.extract(HTML + HANG, "https://www.news.test/hang"))
    ex = await _aio(pool.extract(HTML, "https://www.news.test/after"))
    assert ex.title == "Xi tells Blinken"


@pytest_twisted.ensureDeferred
async def test_a_pool_whose_workers_all_died_is_replaced(pool):
    await _aio(pool.extract(HTML, "https://www.news.test/before"))
    workers = [p for p in multiprocessing.active_children() if p.name == WORKER_NAME]
    assert len(workers) == 1
    os.kill(workers[0].pid, signal.SIGKILL)
    ex = await _aio(pool.extract(HTML, "https://www.news.test/after"))
    assert ex.title == "Xi tells Blinken"
    assert pool.restarts == 1


@pytest_twisted.ensureDeferred
async def test_pipeline_quarantines_crashed_and_timed_out_pages_and_carries_on(stats):
    pipeline = ExtractPipeline(stats, FaultyExtractor, workers=2, timeout=TIMEOUT)
    pipeline.open_spider()
    try:
        results = await _aio(
            asyncio.gather(
                *(
                    pipeline.process_item(page(html=html))
                    for html in (HTML + CRASH, HTML, HTML + HANG, HTML, HTML)
                )
            )
        )
    finally:
        await _aio(pipeline.close_spider())
    crashed, _, hung, _, _ = results
    assert isinstance(crashed, QuarantineRecord)
    assert (crashed.stage, crashed.reason) == ("extract", f"extraction worker died (exit code {CRASH_EXIT_CODE})")
    assert isinstance(hung, QuarantineRecord)
    assert (hung.stage, hung.reason) == ("extract", "extraction took longer than 1 s; worker killed")
    assert [type(r) for r in results[1::2] + results[4:]] == [ArticleCandidate] * 3
    assert stats.get_value("extract/extracted") == 3
    assert stats.get_value("extract/quarantined") == 2
    assert stats.get_value("extract/worker_crashed/by_source/News") == 1
    assert stats.get_value("extract/timed_out/by_source/News") == 1
    assert stats.get_value("extract/workers") == 2


def test_inline_pipeline_needs_no_pool(stats):
    pipeline = ExtractPipeline(stats, workers=0)
    pipeline.open_spider()
    assert isinstance(pipeline.process_item(page()), ArticleCandidate)
    assert stats.get_value("extract/workers") == 0


def test_negative_worker_count_is_refused(stats):
    with pytest.raises(ValueError, match="^EXTRACT_WORKERS must be 0 \\(inline\\) or more, got -1$"):
        ExtractPipeline(stats, workers=-1)


@pytest_twisted.ensureDeferred
async def test_crawl_with_the_pool_quarantines_a_crashing_and_a_hanging_page(newsweb, tmp_path):
    web, server = newsweb
    offtopic = [a for a in web.articles if a.kind == "offtopic" and not a.disallowed]
    crash, hang = offtopic[0].url, offtopic[1].url
    stats = await crawl(
        web,
        server,
        tmp_path / "archive",
        EXTRACT_WORKERS=2,
        EXTRACT_TIMEOUT=5,
        RELEVANCE_ENABLED=False,  # off-topic pages are the ones faulted here
        EXTRACT_EXTRACTOR_CLASS=functools.partial(
            FaultyExtractor, crash_urls=frozenset({crash}), hang_urls=frozenset({hang})
        ),
    )
    assert stats["finish_reason"] == "finished"
    assert stats["extract/workers"] == 2
    assert stats["extract/worker_crashed"] == 1
    assert stats["extract/timed_out"] == 1
    quarantined = {q.url: q.reason for q in read_quarantine(tmp_path / "archive")}
    assert quarantined == {
        crash: f"extraction worker died (exit code {CRASH_EXIT_CODE})",
        hang: "extraction took longer than 5 s; worker killed",
    }
    # every other story still stored once
    stored = Counter(web.article(a.url).story for a in read_articles(tmp_path / "archive"))
    expected = {a.story for a in web.articles if not a.disallowed} - {offtopic[0].story, offtopic[1].story}
    assert stored == Counter({story: 1 for story in expected})


@pytest_twisted.ensureDeferred
async def test_the_page_queued_behind_a_hanging_one_is_not_blamed(pool):
    # one worker takes two pages at a time: the second waits in its pipe while the first hangs
    hung, after = await _aio(
        asyncio.gather(
            pool.extract(HTML + HANG, "https://www.news.test/hang"),
            pool.extract(HTML, "https://www.news.test/queued"),
            return_exceptions=True,
        )
    )
    assert isinstance(hung, ExtractionTimeout)
    assert after.title == "Xi tells Blinken"


@pytest_twisted.ensureDeferred
async def test_a_page_far_larger_than_the_pipe_buffer_never_blocks_the_loop(pool):
    # 8 MB for a 64 KB pipe, given to a worker that hangs and never reads it: a blocking
    # write would stall the loop for good (no time limit, no tick); the loop finishes it
    # instead, on the worker that replaces the hung one
    big = HTML.replace("</body>", "<!-- " + "x" * (8 << 20) + " --></body>")
    events = []
    asyncio.get_running_loop().call_later(0.2, events.append, "tick")

    async def hang():
        try:
            await pool.extract(HTML + HANG, "https://www.news.test/hang")
        except ExtractionTimeout:
            events.append("timeout")

    _, ex = await _aio(asyncio.gather(hang(), pool.extract(big, "https://www.news.test/big")))
    assert events == ["tick", "timeout"]
    assert ex.title == "Xi tells Blinken"


@pytest_twisted.ensureDeferred
async def test_workers_are_replaced_after_max_tasks_and_the_pages_carry_on():
    pool = ExtractionPool(FaultyExtractor, workers=1, timeout=30, max_tasks_per_worker=2)
    pool.start()
    pids = set()
    try:
        for i in range(5):
            ex = await _aio(pool.extract(HTML, f"https://www.news.test/{i}"))
            assert ex.title == "Xi tells Blinken"
            pids |= {p.pid for p in multiprocessing.active_children() if p.name == WORKER_NAME}
    finally:
        pool.terminate()
    assert len(pids) >= 3  # 5 pages, 2 per worker
    assert pool.restarts == 0  # a planned replacement is not a restart


@pytest_twisted.ensureDeferred
async def test_closing_lets_the_pages_in_the_pool_finish():
    pool = ExtractionPool(FaultyExtractor, workers=1, timeout=30)
    pool.start()
    pages = [asyncio.ensure_future(pool.extract(HTML, f"https://www.news.test/{i}")) for i in range(4)]
    await _aio(pool.aclose())
    assert [p.result().title for p in pages] == ["Xi tells Blinken"] * 4
    assert not [p for p in multiprocessing.active_children() if p.name == WORKER_NAME]


@pytest_twisted.ensureDeferred
async def test_workers_that_cannot_start_fail_the_pages_with_the_reason_and_are_not_restarted_forever():
    pool = ExtractionPool(broken_factory, workers=1, timeout=TIMEOUT)
    pool.start()
    try:
        for _ in range(2):
            with pytest.raises(WorkerCrashed, match="^extraction workers cannot start: RuntimeError: no language model here$"):
                await _aio(pool.extract(HTML, "https://www.news.test/a"))
        assert pool.running == 0  # three failed starts in a row: no fourth
    finally:
        pool.terminate()


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="SCHED_BATCH is Linux's")
@pytest_twisted.ensureDeferred
async def test_workers_run_as_batch_processes(pool):
    await _aio(pool.extract(HTML, "https://www.news.test/a"))  # the worker is up and set
    workers = [p for p in multiprocessing.active_children() if p.name == WORKER_NAME]
    assert workers
    assert {os.sched_getscheduler(p.pid) for p in workers} == {os.SCHED_BATCH}
    assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the crawl's own process is left as it was
