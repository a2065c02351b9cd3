"""Stage 4: write articles and quarantine records into the archive.

Two threads, both off the reactor (see ``archive/writer.py`` for the commit protocol):

- the I/O thread appends records to open batches and closes a batch into the local spool
  when it reaches ``ARCHIVE_BATCH_MAX_RECORDS``/``_BYTES`` or is ``ARCHIVE_BATCH_MAX_SECONDS``
  old; waiting for it is the pipeline's backpressure;
- the upload thread publishes spooled batches (upload, manifest, index). If the storage
  fails (S3 unreachable, a refused write), the batches stay spooled on this machine and
  are tried again every ``ARCHIVE_UPLOAD_RETRY_SECONDS``, and once more when the spider
  closes; what is still spooled then is published by the next run before it crawls.

Files other stages write (the WARC stage's raw responses) are asked for with the
``archive_files_requested`` signal before any batch is spooled, and spooled first, so
they are published before the records that refer to them.

Stats: ``archive/uploaded`` (batches published), ``archive/upload_errors`` (failed
attempts), ``archive/spooled`` and ``archive/spooled_records`` (left for the next run).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from scrapy.crawler import Crawler
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import StatsCollector

from archive import ArchiveWriter, parse_archive_uri
from archive.s3 import s3_options
from archive.storage import open_storage
from archive.writer import new_run_id
from pipelines.outcomes import count
from pipelines.signals import archive_files_requested
from schemas import Article, QuarantineRecord, Sighting

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StorePipeline:
    def __init__(
        self,
        archive_uri: str | Path,
        stats: StatsCollector,
        *,
        max_records: int = 5000,
        max_bytes: int = 64 * 1024 * 1024,
        max_seconds: float | None = 300,
        retry_seconds: float = 30,
        run_id: str | None = None,
        storage_options: dict[str, Any] | None = None,
        signals: SignalManager | None = None,
    ) -> None:
        self.stats = stats
        self.signals = signals
        self.retry_seconds = retry_seconds
        uri = str(archive_uri)
        self.writer = ArchiveWriter(
            parse_archive_uri(uri),
            storage=open_storage(uri, **(storage_options or {})),
            run_id=run_id or new_run_id(),
            max_records=max_records,
            max_bytes=max_bytes,
            max_seconds=max_seconds,
        )
        self._io: ThreadPoolExecutor | None = None
        self._upload: ThreadPoolExecutor | None = None
        self._uploading: asyncio.Future[None] | None = None
        self._retry_at = 0.0
        self._ticker: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        return cls(
            archive_uri=s["ARCHIVE_URI"],
            stats=crawler.stats,
            max_records=s.getint("ARCHIVE_BATCH_MAX_RECORDS"),
            max_bytes=s.getint("ARCHIVE_BATCH_MAX_BYTES"),
            max_seconds=s.getfloat("ARCHIVE_BATCH_MAX_SECONDS") or None,
            retry_seconds=s.getfloat("ARCHIVE_UPLOAD_RETRY_SECONDS"),
            run_id=s.get("ARCHIVE_RUN_ID") or None,
            storage_options={
                **s3_options(s),
                "max_attempts": s.getint("ARCHIVE_S3_MAX_ATTEMPTS"),
                "multipart_threshold": s.getint("ARCHIVE_S3_MULTIPART_SIZE"),
                "multipart_chunksize": s.getint("ARCHIVE_S3_MULTIPART_SIZE"),
            },
            signals=crawler.signals,
        )

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        assert self._io is not None, "store pipeline is not open"
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def _spool_requested_files(self) -> None:
        """Spool the closed files other stages hand over (the WARC stage's raw responses)
        before a batch that may refer to them."""
        if self.signals is None:
            return
        for _receiver, result in await self.signals.send_catch_log_async(archive_files_requested):
            if isinstance(result, BaseException):  # logged by Scrapy; the batch is still published
                self.stats.inc_value("archive/write_errors")
                continue
            for closed in result or ():
                spool = functools.partial(self.writer.spool_file, records=closed.records)
                await self._run(spool, closed.local, closed.key)

    async def open_spider(self) -> None:
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-io")
        self._upload = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-upload")
        # before anything is crawled: check the storage, publish what earlier runs spooled
        recovery = await self._run(self.writer.open)
        self.stats.set_value("archive/run_id", self.writer.run_id)
        self.stats.set_value("archive/root", str(self.writer.root) if self.writer.local else self.writer.storage.uri)
        self.stats.set_value("archive/local_dir", str(self.writer.root))
        for name, value in vars(recovery).items():
            if value:
                self.stats.set_value(f"archive/recovery/{name}", value)
        if recovery.spooled_uploaded:
            self.stats.inc_value("archive/uploaded", recovery.spooled_uploaded)
        self._ticker = asyncio.ensure_future(self._tick_forever())

    async def close_spider(self) -> None:
        if not self.writer.is_open:  # open_spider failed: nothing was written
            self._shutdown()
            return
        try:
            if self._ticker is not None:
                self._ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._ticker
            await self._spool_requested_files()
            for batch in await self._run(self.writer.take_open):
                await self._run(self.writer.spool, batch)
            if self._uploading is not None:
                await asyncio.shield(self._uploading)
            self._retry_at = 0.0
            self._kick()  # a last attempt, even during a back-off
            if self._uploading is not None:
                await asyncio.shield(self._uploading)
            assert self._upload is not None
            try:
                await asyncio.get_running_loop().run_in_executor(self._upload, self.writer.finish)
            except OSError as exc:
                self.stats.inc_value("archive/upload_errors")
                logger.error("Could not publish the manifest of run %s: %s", self.writer.run_id, exc)
            if spooled := self.writer.spooled_count:
                self.stats.set_value("archive/spooled", spooled)
                self.stats.set_value("archive/spooled_records", self.writer.spooled_records)
                logger.error(
                    "%d closed batches (%d records) could not be uploaded to %s; they are kept in %s "
                    "and the next run uploads them before crawling",
                    spooled,
                    self.writer.spooled_records,
                    self.writer.storage.uri,
                    self.writer.spool_dir,
                )
        finally:
            self.writer.index.close()
            self._shutdown()

    def _shutdown(self) -> None:
        for pool in (self._io, self._upload):
            if pool is not None:
                pool.shutdown(wait=True)
        self._io = self._upload = None

    async def process_item(self, item: object) -> object:
        if not isinstance(item, (Article, QuarantineRecord, Sighting)):
            return item
        try:
            full = await self._run(self.writer.add, item)
            if full is not None:
                await self._spool_requested_files()
                await self._run(self.writer.spool, full)
                self._kick()
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

    # -- publishing, on the upload thread ---------------------------------------------

    def _kick(self) -> None:
        """Start publishing the spool unless it is already running or backing off."""
        loop = asyncio.get_running_loop()
        if self._uploading is not None or not self.writer.spooled_count or loop.time() < self._retry_at:
            return
        assert self._upload is not None
        future = loop.run_in_executor(self._upload, self._publish_spooled)
        self._uploading = asyncio.ensure_future(self._after_upload(future))

    def _publish_spooled(self) -> tuple[int, OSError | None]:
        published = 0
        try:
            while (spooled := self.writer.next_spooled()) is not None:
                self.writer.publish(spooled)
                published += 1
        except OSError as exc:
            return published, exc
        return published, None

    async def _after_upload(self, future: asyncio.Future[tuple[int, OSError | None]]) -> None:
        try:
            published, error = await future
        finally:
            self._uploading = None
        if published:
            self.stats.inc_value("archive/uploaded", published)
            self.stats.inc_value("archive/batches", published)
        if error is not None:
            self.stats.inc_value("archive/upload_errors")
            self._retry_at = asyncio.get_running_loop().time() + self.retry_seconds
            logger.warning(
                "Could not publish to %s (%s); %d batches kept in %s, retrying in %g s",
                self.writer.storage.uri,
                error,
                self.writer.spooled_count,
                self.writer.spool_dir,
                self.retry_seconds,
            )

    async def _tick_forever(self) -> None:
        """Close batches that reached their age limit, retry the spool after a back-off."""
        period = min(self.writer.max_seconds or 1.0, self.retry_seconds, 1.0)
        while True:
            await asyncio.sleep(period)
            try:
                if expired := await self._run(self.writer.expired):
                    await self._spool_requested_files()
                for batch in expired:
                    await self._run(self.writer.spool, batch)
            except OSError as exc:
                self.stats.inc_value("archive/write_errors")
                logger.error("Could not close a batch in %s: %s", self.writer.root, exc)
            self._kick()
