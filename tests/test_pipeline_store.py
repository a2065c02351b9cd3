"""The store stage's upload thread: age-limited batches, and a storage that refuses writes
(a stand-in for S3 going away; the real outage runs in tests/test_archive_s3.py)."""

import asyncio

import pytest
import pytest_twisted
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from archive.reader import manifests, read_articles
from archive.storage import FileStorage, StorageError
from crawler.report import RunSummary
from pipelines.store import StorePipeline
from tests.test_archive_writer import make_article


@pytest.fixture
def stats():
    return MemoryStatsCollector(get_crawler())


def _await(coro):
    return Deferred.fromFuture(asyncio.ensure_future(coro))


@pytest_twisted.ensureDeferred
async def test_a_batch_is_published_when_it_is_old_enough_not_only_when_full(tmp_path, stats):
    store = StorePipeline(tmp_path, stats, max_records=100, max_seconds=0.3)
    await _await(store.open_spider())
    try:
        await _await(store.process_item(make_article(1)))
        for _ in range(100):  # the stage checks ages every 0.3 s here
            await _await(asyncio.sleep(0.05))
            if stats.get_value("archive/uploaded"):
                break
        (m,) = manifests(tmp_path)
        assert [f.records for f in m.files] == [1]
        assert m.status == "running"
    finally:
        await _await(store.close_spider())
    assert [a.id for a in read_articles(tmp_path)] == [make_article(1).id]
    assert stats.get_value("archive/uploaded") == 1


class Outage(FileStorage):
    """Refuses every publish while ``down``."""

    down = False

    def put_file(self, local, key):
        if self.down:
            raise StorageError(f"cannot upload to {key}: connection refused")
        super().put_file(local, key)

    def put_bytes(self, key, data):
        if self.down:
            raise StorageError(f"cannot write {key}: connection refused")
        super().put_bytes(key, data)


@pytest_twisted.ensureDeferred
async def test_refused_uploads_stay_spooled_are_reported_and_the_next_run_publishes_them(tmp_path, stats):
    store = StorePipeline(tmp_path, stats, max_records=2, retry_seconds=60)
    outage = store.writer.storage = Outage(tmp_path)
    await _await(store.open_spider())
    outage.down = True
    for i in range(5):
        assert await _await(store.process_item(make_article(i)))
    await _await(store.close_spider())
    assert stats.get_value("archive/stored") == 5
    assert stats.get_value("archive/upload_errors") >= 1
    assert stats.get_value("archive/spooled") == 3
    assert stats.get_value("archive/spooled_records") == 5
    assert list(read_articles(tmp_path)) == []
    stats.set_value("finish_reason", "finished")
    summary = RunSummary(stats.get_stats())
    assert not summary.ok
    assert "ARCHIVE UPLOAD PENDING: 3 closed batches (5 records)" in summary.format()

    nxt = MemoryStatsCollector(get_crawler())
    store = StorePipeline(tmp_path, nxt)
    await _await(store.open_spider())
    await _await(store.close_spider())
    assert nxt.get_value("archive/recovery/spooled_uploaded") == 3
    assert [a.id for a in read_articles(tmp_path)] == [make_article(i).id for i in range(5)]
    assert [m.status for m in manifests(tmp_path)] == ["finished", "finished"]
