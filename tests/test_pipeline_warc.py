"""The WARC stage: raw exchange in, reference out; the store stage publishes the files first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import pytest_twisted
from scrapy.exceptions import NotConfigured
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from archive import Archive
from pipelines.extract import ExtractPipeline
from pipelines.signals import archive_files_requested
from pipelines.store import StorePipeline
from pipelines.warc import WarcPipeline
from schemas import FetchedPage, HttpExchange


def _await(coro):
    return Deferred.fromFuture(asyncio.ensure_future(coro))


def page(body: bytes) -> FetchedPage:
    return FetchedPage(
        url="http://news.test/a", request_url="http://news.test/a", source="News", status=200,
        content_type="text/html", html=body.decode(), fetched_at=datetime(2024, 5, 1, tzinfo=UTC),
        exchange=HttpExchange(status=200, headers=[("Content-Type", "text/html")], body=body),
    )


@pytest_twisted.ensureDeferred
async def test_pages_get_a_raw_reference_and_quarantine_records_keep_it(tmp_path):
    stats = MemoryStatsCollector(get_crawler())
    signals = SignalManager()
    warc = WarcPipeline(tmp_path, stats, max_bytes=1 << 20, name="run1")
    signals.connect(warc.closed_files, signal=archive_files_requested)
    store = StorePipeline(tmp_path, stats, run_id="run1", signals=signals)
    warc.open_spider()
    await _await(store.open_spider())

    item = await _await(warc.process_item(page(b"")))  # empty: quarantined by the extract stage
    assert item.exchange is None
    assert item.raw.warc == "warc/date=2024-05-01/run1-00001.warc.gz"
    record = ExtractPipeline(stats).process_item(item)
    assert record.reason == "empty page"
    assert record.data["raw"] == item.raw.model_dump()
    await _await(store.process_item(record))
    await _await(warc.close_spider())
    await _await(store.close_spider())

    archive = Archive.open(tmp_path)
    (manifest,) = archive.manifests()
    assert [(f.kind, f.records) for f in manifest.files] == [("warc", 1), ("quarantine", 1)]
    assert archive.raw(item.raw).body == b""
    assert stats.get_value("warc/records/by_source/News") == 1
    assert stats.get_value("warc/files") == 1


def test_the_stage_is_off_when_disabled():
    with pytest.raises(NotConfigured, match="WARC_ENABLED is off"):
        WarcPipeline.from_crawler(get_crawler(settings_dict={"WARC_ENABLED": False}))


def test_the_gzip_level_setting_reaches_the_writer(tmp_path):
    def level(**settings):
        settings = {"WARC_ENABLED": True, "WARC_MAX_BYTES": 1 << 20, "ARCHIVE_URI": str(tmp_path), **settings}
        return WarcPipeline.from_crawler(get_crawler(settings_dict=settings)).writer.gzip_level

    assert level() == 3
    assert level(WARC_GZIP_LEVEL=0) == 0
    assert level(WARC_GZIP_LEVEL=1) == 1
    with pytest.raises(ValueError, match="gzip level must be 0 to 3"):
        level(WARC_GZIP_LEVEL=4)
