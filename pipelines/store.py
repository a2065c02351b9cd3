"""Stage 4: write articles and quarantine records into the archive.

All file work runs on one I/O thread, off the reactor: appending a record, and committing
a full batch (fsync, rename, manifest, index; see ``archive/writer.py``). Waiting for that
thread is the pipeline's backpressure.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from scrapy.crawler import Crawler
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import StatsCollector

from archive import ArchiveWriter, parse_archive_uri
from archive.writer import new_run_id
from pipelines.outcomes import count
from pipelines.signals import archive_files_requested
from schemas import Article, QuarantineRecord, Sighting

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StorePipeline:
    def __init__(
        self,
        archive_root: Path,
        stats: StatsCollector,
        *,
        max_records: int = 5000,
        max_bytes: int = 64 * 1024 * 1024,
        run_id: str | None = None,
        signals: SignalManager | None = None,
    ) -> None:
        self.stats = stats
        self.signals = signals
        self.writer = ArchiveWriter(
            Path(archive_root), run_id=run_id or new_run_id(), max_records=max_records, max_bytes=max_bytes
        )
        self._io: ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        return cls(
            archive_root=parse_archive_uri(s["ARCHIVE_URI"]),
            stats=crawler.stats,
            max_records=s.getint("ARCHIVE_BATCH_MAX_RECORDS"),
            max_bytes=s.getint("ARCHIVE_BATCH_MAX_BYTES"),
            run_id=s.get("ARCHIVE_RUN_ID") or None,
            signals=crawler.signals,
        )

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        assert self._io is not None, "store pipeline is not open"
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def open_spider(self) -> None:
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-io")
        recovery = await self._run(self.writer.open)
        self.stats.set_value("archive/run_id", self.writer.run_id)
        self.stats.set_value("archive/root", str(self.writer.root))
        for name in ("tmp_files_removed", "orphans_removed", "batches_reindexed", "runs_interrupted"):
            if value := getattr(recovery, name):
                self.stats.set_value(f"archive/recovery/{name}", value)

    async def _publish_requested_files(self) -> None:
        """Publish the closed files other stages hand over (the WARC stage's raw responses)
        before a batch that may refer to them."""
        if self.signals is None:
            return
        for _receiver, result in await self.signals.send_catch_log_async(archive_files_requested):
            if isinstance(result, BaseException):  # logged by Scrapy; the batch is still published
                self.stats.inc_value("archive/write_errors")
                continue
            for closed in result or ():
                publish = functools.partial(self.writer.publish_file, kind=closed.kind, records=closed.records)
                await self._run(publish, closed.local, closed.key)

    async def close_spider(self) -> None:
        try:
            await self._publish_requested_files()
            committed = await self._run(self.writer.close)
            self.stats.inc_value("archive/batches", len(committed))
        finally:
            assert self._io is not None
            self._io.shutdown(wait=True)
            self._io = None

    async def process_item(self, item: object) -> object:
        if not isinstance(item, (Article, QuarantineRecord, Sighting)):
            return item
        try:
            full = await self._run(self.writer.add, item)
            if full is not None:
                await self._publish_requested_files()
                await self._run(self.writer.commit, full)
                self.stats.inc_value("archive/batches")
        except OSError as exc:
            # counted so that the run is reported as failed; the article is not marked as
            # seen, so the next run fetches it again
            self.stats.inc_value("archive/write_errors")
            logger.error("Could not write %s to the archive: %s", getattr(item, "url", item), exc)
            raise
        if isinstance(item, Article):
            count(self.stats, "archive/stored", item.source)
        elif isinstance(item, Sighting):
            count(self.stats, "archive/sightings", item.source)
        else:
            count(self.stats, "archive/quarantined", item.source)
        return item
