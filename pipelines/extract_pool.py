"""The process pool that runs extraction off the reactor (used by ``pipelines/extract.py``).

Extraction is pure CPU (~20 ms a page), so it runs in worker processes, each holding one
extractor built once by the factory it was given (a class or any other picklable callable).
The pool is pebble's ``ProcessPool`` with the ``spawn`` start method (forking a process that
runs Twisted and its threads is unsafe):

- a task that runs longer than ``timeout`` seconds has its worker killed and fails with
  :class:`ExtractionTimeout`;
- a worker that dies during a task (``os._exit``, a segfault in a C extension, the OOM
  killer) fails that task with :class:`WorkerCrashed`;

in both cases pebble starts a new worker and the other pages carry on. Should the pool
itself break (every worker gone at once while idle), the next submission starts a new one
and the pages that were waiting in the broken one are tried again there, once.

This module imports no Scrapy: workers import only it and the extractor.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pebble import ProcessExpired, ProcessPool

logger = logging.getLogger(__name__)

# The one extractor of this worker process (set by ``_init_worker``; never in the crawler).
_extractor: Any = None


class WorkerCrashed(RuntimeError):
    """The worker process died while extracting the page."""


class ExtractionTimeout(RuntimeError):
    """Extraction ran past the time limit and its worker was killed."""


def _init_worker(factory: Callable[[], Any]) -> None:
    global _extractor
    _extractor = factory()


def _extract(html: str, url: str, options: dict[str, Any]) -> Any:
    return _extractor.extract(html, url, **options)


def _ready() -> bool:
    return _extractor is not None


class ExtractionPool:
    """``workers`` processes running ``factory().extract(html, url, **options)``.

    :meth:`extract` returns the extractor's result, or raises the extractor's own exception,
    :class:`WorkerCrashed` or :class:`ExtractionTimeout`; :meth:`submit` is the same as a
    :class:`concurrent.futures.Future` with pebble's errors.
    """

    def __init__(
        self,
        factory: Callable[[], Any],
        *,
        workers: int,
        timeout: float,
        max_tasks_per_worker: int = 0,
        start_method: str = "spawn",
    ) -> None:
        if workers < 1:
            raise ValueError(f"an extraction pool needs at least one worker, got {workers}")
        self.factory = factory
        self.workers = workers
        self.timeout = timeout
        self.max_tasks_per_worker = max_tasks_per_worker
        self.start_method = start_method
        self.restarts = 0
        self._pool: ProcessPool | None = None

    def start(self) -> None:
        """Start the workers now (they import the extractor while the crawl starts)."""
        self._new_pool()
        assert self._pool is not None
        self._pool.schedule(_ready)

    def _new_pool(self) -> None:
        self._pool = ProcessPool(
            max_workers=self.workers,
            max_tasks=self.max_tasks_per_worker,
            initializer=_init_worker,
            initargs=(self.factory,),
            context=multiprocessing.get_context(self.start_method),
        )

    def submit(self, html: str, url: str, **options: Any) -> Future[Any]:
        """Schedule one page; ``options`` are the extractor's keyword arguments
        (``content_language``, ``site_lines``), passed only when given."""
        if self._pool is None:
            raise RuntimeError("the extraction pool is not started")
        if not self._pool.active:
            logger.warning("The extraction pool broke; starting a new one")
            broken = self._pool
            broken.stop()
            threading.Thread(target=broken.join, name="extract-pool-cleanup", daemon=True).start()
            self._new_pool()
            self.restarts += 1
        return self._pool.schedule(_extract, args=(html, url, options), timeout=self.timeout)

    async def extract(self, html: str, url: str, **options: Any) -> Any:
        """Await the extractor's result from a worker (on the running asyncio loop).

        A page caught in a broken pool (not its own fault) is tried once more on a new one.
        """
        try:
            try:
                return await asyncio.wrap_future(self.submit(html, url, **options))
            except BrokenProcessPool:
                return await asyncio.wrap_future(self.submit(html, url, **options))
        except BrokenProcessPool as exc:
            raise WorkerCrashed(f"extraction pool broke twice: {exc}") from None
        except ProcessExpired as exc:
            raise WorkerCrashed(f"extraction worker died (exit code {exc.exitcode})") from None
        except TimeoutError as exc:
            if exc.args[:1] != ("Task timeout",):  # pebble's; anything else is the extractor's own
                raise
            raise ExtractionTimeout(f"extraction took longer than {self.timeout:g} s; worker killed") from None

    def close(self, timeout: float = 30.0) -> None:
        """Let the submitted pages finish (up to ``timeout`` seconds), then stop the workers."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        pool.close()
        try:
            pool.join(timeout)
        except TimeoutError:
            logger.warning("Extraction workers still busy after %g s; stopping them", timeout)
            pool.stop()
            pool.join()
