"""Stage 1: extract clean text and metadata from a fetched page.

``FetchedPage`` in, ``ArticleCandidate`` out; a page with nothing to extract (not HTML,
empty, no article text) becomes a ``QuarantineRecord`` with the reason.

Extraction is CPU-bound, so by default it runs in a pool of worker processes
(``EXTRACT_WORKERS``, one per core; see ``pipelines/extract_pool.py``) and the reactor only
awaits the result. At most ``EXTRACT_MAX_IN_FLIGHT`` pages are in the pool at once; a page
that waits for a slot keeps its response in Scrapy's scraper slot, whose size limit
(``SCRAPER_SLOT_MAX_ACTIVE_SIZE``) stops new downloads: that is the backpressure that keeps
memory flat. A page that kills its worker, or runs past ``EXTRACT_TIMEOUT`` seconds, is
quarantined with the reason and the pool carries on with a new worker.
``EXTRACT_WORKERS = 0`` extracts inline on the reactor thread (small runs, comparisons).

Lines a site repeats under many different stories ("Back to top button", a sign-off, a
newsletter box) are learned as the crawl goes (``extraction.SiteBoilerplate``, kept in
``<archive>/state/boilerplate.json`` across runs) and dropped from the text of that site's
later pages: ``EXTRACT_SITE_BOILERPLATE`` (on by default) and
``EXTRACT_SITE_BOILERPLATE_MIN_PAGES`` (a line is boilerplate once seen in this many stories
of one site).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.misc import load_object

from archive.writer import STATE, parse_archive_uri
from extraction import Extracted, ExtractionError, Extractor, SiteBoilerplate
from extraction.boilerplate import FILE_NAME as BOILERPLATE_FILE
from pipelines.extract_pool import ExtractionPool, ExtractionTimeout, WorkerCrashed
from pipelines.outcomes import count, quarantine
from schemas import ArticleCandidate, FetchedPage, QuarantineRecord, RawRef
from schemas.article import article_id, content_sha256

logger = logging.getLogger(__name__)


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def article_fields(
    ex: Extracted, extractor: Extractor, *, url: str, source: str, fetched_at: datetime, raw: RawRef | None = None
) -> dict[str, Any]:
    """The Article fields of one extraction: the one mapping used by this stage and by
    ``newsarchive reextract``."""
    return {
        "id": article_id(ex.canonical_url),
        "url": url,
        "canonical_url": ex.canonical_url,
        "source": source,
        "title": ex.title,
        "text": ex.text,
        "authors": ex.authors,
        "published_at": ex.published_at,
        "modified_at": ex.modified_at,
        "language": ex.language,
        "original_publisher": ex.original_publisher,
        "site_name": ex.site_name,
        "description": ex.description,
        "tags": ex.tags,
        "image_url": ex.image_url,
        "fetched_at": fetched_at,
        "content_sha256": content_sha256(ex.text),
        "extractor": {"name": extractor.name, "version": extractor.version},
        "raw": raw,
    }


class ExtractPipeline:
    """``workers = 0`` extracts inline; otherwise ``workers`` processes each build their own
    extractor with ``extractor_factory`` (a class or another picklable callable)."""

    def __init__(
        self,
        stats: StatsCollector,
        extractor_factory: Callable[[], Extractor] = Extractor,
        *,
        workers: int = 0,
        max_in_flight: int = 0,
        timeout: float = 30.0,
        max_tasks_per_worker: int = 0,
        boilerplate_dir: str | os.PathLike[str] | None = None,
        boilerplate_min_pages: int = 5,
    ) -> None:
        if boilerplate_min_pages < 2:
            raise ValueError(f"EXTRACT_SITE_BOILERPLATE_MIN_PAGES must be at least 2, got {boilerplate_min_pages}")
        if workers < 0:
            raise ValueError(f"EXTRACT_WORKERS must be 0 (inline) or more, got {workers}")
        self.stats = stats
        # built here even with a pool: a bad factory fails now, and it names the extractor
        self.extractor = extractor_factory()
        self.workers = workers
        self.max_in_flight = max_in_flight or 4 * workers
        self._pool = (
            ExtractionPool(extractor_factory, workers=workers, timeout=timeout, max_tasks_per_worker=max_tasks_per_worker)
            if workers
            else None
        )
        self._in_flight: asyncio.Semaphore | None = None
        # site boilerplate learned across pages and runs; None = off
        self.boilerplate_dir = boilerplate_dir
        self.boilerplate_min_pages = boilerplate_min_pages
        self.boilerplate: SiteBoilerplate | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        s = crawler.settings
        workers = s.get("EXTRACT_WORKERS")
        return cls(
            stats=crawler.stats,
            extractor_factory=load_object(s.get("EXTRACT_EXTRACTOR_CLASS") or Extractor),
            workers=default_workers() if workers in (None, "") else s.getint("EXTRACT_WORKERS"),
            max_in_flight=s.getint("EXTRACT_MAX_IN_FLIGHT"),
            timeout=s.getfloat("EXTRACT_TIMEOUT", 30.0),
            max_tasks_per_worker=s.getint("EXTRACT_WORKER_MAX_TASKS"),
            boilerplate_dir=(
                parse_archive_uri(s["ARCHIVE_URI"]) / STATE if s.getbool("EXTRACT_SITE_BOILERPLATE", True) else None
            ),
            boilerplate_min_pages=s.getint("EXTRACT_SITE_BOILERPLATE_MIN_PAGES", 5),
        )

    def open_spider(self) -> None:
        self.stats.set_value("extract/workers", self.workers)
        if self.boilerplate_dir is not None:
            try:
                self.boilerplate = SiteBoilerplate.load(self.boilerplate_dir, min_pages=self.boilerplate_min_pages)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # a broken state file costs the learned lines (relearned), never the run
                logger.warning("Ignoring unreadable %s/%s (%s); learning site boilerplate anew",
                               self.boilerplate_dir, BOILERPLATE_FILE, exc)
                self.boilerplate = SiteBoilerplate(min_pages=self.boilerplate_min_pages)
        if self._pool is not None:
            self._in_flight = asyncio.Semaphore(self.max_in_flight)
            self._pool.start()

    async def close_spider(self) -> None:
        if self.boilerplate is not None and self.boilerplate_dir is not None:
            self.boilerplate.save(self.boilerplate_dir)
            self.stats.set_value("extract/boilerplate_sites", len(self.boilerplate.learned()))
        if self._pool is not None:
            await self._pool.aclose()
            if self._pool.restarts:
                self.stats.set_value("extract/worker_restarts", self._pool.restarts)

    def process_item(self, item: object) -> object | Awaitable[object]:
        """The result inline, or an awaitable of it when extraction runs in the pool
        (Scrapy accepts both; unit tests call the inline pipeline directly)."""
        if not isinstance(item, FetchedPage):
            return item
        if item.html is None:
            return self._quarantine(item, f"not an HTML page (Content-Type: {item.content_type or 'missing'})")
        if self._pool is not None:
            return self._extract_in_pool(item)
        try:
            ex = self.extractor.extract(item.html, item.url, **self._options(item.url))
        except ExtractionError as exc:
            return self._quarantine(item, str(exc))
        return self._candidate(item, ex)

    async def _extract_in_pool(self, item: FetchedPage) -> object:
        assert self._pool is not None and self._in_flight is not None, "extract pipeline is not open"
        assert item.html is not None
        async with self._in_flight:
            try:
                ex = await self._pool.extract(item.html, item.url, **self._options(item.url))
            except ExtractionError as exc:
                return self._quarantine(item, str(exc))
            except WorkerCrashed as exc:
                count(self.stats, "extract/worker_crashed", item.source)
                return self._quarantine(item, str(exc))
            except ExtractionTimeout as exc:
                count(self.stats, "extract/timed_out", item.source)
                return self._quarantine(item, str(exc))
        return self._candidate(item, ex)

    def _options(self, url: str) -> dict[str, Any]:
        """Extractor keyword arguments for one page: the site's learned boilerplate lines."""
        if self.boilerplate is None:
            return {}
        lines = self.boilerplate.lines_for(url)
        return {"site_lines": lines} if lines else {}

    def _candidate(self, item: FetchedPage, ex: Extracted) -> ArticleCandidate:
        count(self.stats, "extract/extracted", item.source)
        if self.boilerplate is not None:
            self.boilerplate.observe(item.url, ex.text)
        return ArticleCandidate(
            url=item.url,
            source=item.source,
            fetched_at=item.fetched_at,
            fields=article_fields(ex, self.extractor, url=item.url, source=item.source, fetched_at=item.fetched_at, raw=item.raw),
        )

    def _quarantine(self, page: FetchedPage, reason: str) -> QuarantineRecord:
        return quarantine(
            self.stats,
            "extract",
            url=page.url,
            source=page.source,
            fetched_at=page.fetched_at,
            reason=reason,
            data={
                "status": page.status,
                "content_type": page.content_type,
                "request_url": page.request_url,
                "raw": page.raw.model_dump() if page.raw else None,
            },
        )
