"""Stage 0: keep the raw HTTP exchange of every fetched article page in WARC files.

``FetchedPage`` in (with its ``exchange``), the same page out with ``raw`` set to where
its response record is, and the exchange dropped. The extract stage carries ``raw`` into
the ``Article`` (or the quarantine record), so a consumer can read the page as it was
served, and ``newsarchive reextract`` can run extraction again. When the article has been
stored (Scrapy's ``item_scraped``), a metadata record linking its id to the response
record is added, so the WARC files alone also tell which response became which article.

The files are written on this stage's own I/O thread under the archive's ``tmp/``; the
store stage asks for closed files (signal ``archive_files_requested``) before it publishes
a batch and at the end of the run, and publishes them first (see ``archive/warc.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from archive import parse_archive_uri
from archive.warc import GZIP_LEVEL, ClosedFile, WarcWriter
from archive.writer import TMP, new_run_id
from pipelines.outcomes import count
from pipelines.signals import archive_files_requested
from schemas import Article, FetchedPage, HttpExchange

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _header_pairs(headers: object) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()  # type: ignore[attr-defined]
        for value in values
    ]


def http_exchange(response: Response) -> HttpExchange:
    """The request and response of a Scrapy response, for the WARC stage."""
    request = response.request
    return HttpExchange(
        method=request.method if request else "GET",
        request_headers=_header_pairs(request.headers) if request else [],
        protocol=response.protocol or "HTTP/1.1",
        status=response.status,
        headers=_header_pairs(response.headers),
        body=response.body,
    )


class WarcPipeline:
    def __init__(
        self, archive_root: Path, stats: StatsCollector, *, max_bytes: int, name: str | None = None,
        gzip_level: int = GZIP_LEVEL,
    ) -> None:
        self.stats = stats
        self.writer = WarcWriter(Path(archive_root) / TMP, name=name or new_run_id(), max_bytes=max_bytes,
                                 gzip_level=gzip_level)
        self._io: ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcPipeline:
        s = crawler.settings
        if not s.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off: raw responses are not kept")
        pipe = cls(
            archive_root=parse_archive_uri(s["ARCHIVE_URI"]),
            stats=crawler.stats,
            max_bytes=s.getint("WARC_MAX_BYTES"),
            gzip_level=s.getint("WARC_GZIP_LEVEL", GZIP_LEVEL),
            name=s.get("ARCHIVE_RUN_ID") or None,
        )
        crawler.signals.connect(pipe.closed_files, signal=archive_files_requested)
        crawler.signals.connect(pipe.item_scraped, signal=signals.item_scraped)
        return pipe

    async def _run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        assert self._io is not None, "WARC pipeline is not open"
        return await asyncio.get_running_loop().run_in_executor(self._io, lambda: fn(*args, **kwargs))

    def open_spider(self) -> None:
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-io")

    async def close_spider(self) -> None:
        # The store stage takes the last file when it closes (stages close concurrently):
        # nothing is written any more, so only the thread is stopped here.
        assert self._io is not None
        self._io.shutdown(wait=True)
        self._io = None

    async def closed_files(self) -> list[ClosedFile]:
        """Handler of ``archive_files_requested``: close the open file, hand over all closed ones."""
        files = await asyncio.to_thread(self.writer.rotate)
        self.stats.inc_value("warc/files", len(files))
        return files

    async def item_scraped(self, item: object) -> None:
        """An article was stored: link its id to its response record in the WARC files."""
        if isinstance(item, Article) and item.raw is not None and self._io is not None:
            await self._run(
                self.writer.link, url=item.url, record_id=item.raw.record_id, article_id=item.id, when=item.fetched_at
            )

    async def process_item(self, item: object) -> object:
        if not isinstance(item, FetchedPage) or item.exchange is None:
            return item
        try:
            item.raw = await self._run(
                self.writer.write,
                url=item.url,
                request_url=item.request_url,
                source=item.source,
                fetched_at=item.fetched_at,
                exchange=item.exchange,
            )
        except OSError as exc:
            # the page is still extracted and stored, without its raw response
            self.stats.inc_value("warc/write_errors")
            logger.error("Could not write the raw response of %s to a WARC file: %s", item.url, exc)
        else:
            count(self.stats, "warc/records", item.source)
        item.exchange = None
        return item
