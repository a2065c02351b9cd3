"""The process pool that runs extraction off the reactor (used by ``pipelines/extract.py``).

Extraction is pure CPU (~10-20 ms a page), so it runs in worker processes, each holding one
extractor built once by the factory it was given (a class or any other picklable callable),
started with ``spawn`` (forking a process that runs Twisted and its threads is unsafe).

The pool lives on the crawl's asyncio loop and has no threads of its own: each worker has a
pipe for pages and a pipe for results, both watched by the loop (``add_reader`` /
``add_writer``, never a blocking write, whatever the page's size). A worker is given at most
two pages at a time, the one it extracts and the next, so it never waits for the loop
between pages. Messages use ``multiprocessing.Connection``'s framing (the worker reads and
writes with ``recv_bytes`` / ``send_bytes``).

- a page that runs longer than ``timeout`` seconds has its worker killed and fails with
  :class:`ExtractionTimeout`;
- a worker that dies during a page (``os._exit``, a segfault in a C extension, the OOM
  killer) fails that page with :class:`WorkerCrashed`;

in both cases a new worker takes the dead one's place, and the page it had been given next
(not started, so not at fault) goes to another worker. Each worker says which page it is
on in a shared-memory slot, so the pool knows which page a dead worker was extracting
without a message per page.

This module imports no Scrapy: workers import only it and the extractor.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

WORKER_NAME = "newsarchive-extract"
PAGES_PER_WORKER = 2  # the page being extracted and the next one, already in the pipe
START_FAILURES_MAX = 3  # workers in a row that fail to start before the pool gives up
_EXIT_WAIT = 5.0  # seconds to wait for a dead or stopped worker's exit code

_SIZE = struct.Struct("!i")  # multiprocessing.Connection's framing
_BIG_SIZE = struct.Struct("!Q")


class WorkerCrashed(RuntimeError):
    """The worker process died while extracting the page."""


class ExtractionTimeout(RuntimeError):
    """Extraction ran past the time limit and its worker was killed."""


def _frame(payload: bytes) -> bytes:
    """``payload`` as ``Connection.send_bytes`` would write it."""
    if len(payload) > 0x7FFFFFFF:
        return _SIZE.pack(-1) + _BIG_SIZE.pack(len(payload)) + payload
    return _SIZE.pack(len(payload)) + payload


def _unframe(buffer: bytearray) -> list[bytes]:
    """The complete messages at the start of ``buffer`` (removed from it)."""
    messages, start = [], 0
    while len(buffer) - start >= _SIZE.size:
        (size,) = _SIZE.unpack_from(buffer, start)
        head = _SIZE.size
        if size == -1:
            if len(buffer) - start < head + _BIG_SIZE.size:
                break
            (size,) = _BIG_SIZE.unpack_from(buffer, start + head)
            head += _BIG_SIZE.size
        if len(buffer) - start < head + size:
            break
        messages.append(bytes(buffer[start + head : start + head + size]))
        start += head + size
    del buffer[:start]
    return messages


# -- the worker process ------------------------------------------------------------------


def _schedule_as_batch() -> None:
    """Run this process under ``SCHED_BATCH`` where the system has it (Linux).

    A worker is pure CPU. Under the default policy, a worker woken by a new page preempts
    whatever runs on its core, often the crawl's reactor or the server it fetches from, so
    the cores switch between processes more often and each process finds its caches cold.
    ``SCHED_BATCH`` keeps the worker's fair share of CPU but lets it wait for the running
    process's time slice to end (measured here: about 5% more pages/s on 2 cores; see
    ``benchmarks/crawl.py``). Where the policy is missing or refused, nothing changes."""
    if not hasattr(os, "SCHED_BATCH"):
        return
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except OSError:
        pass


def _worker_main(factory: Callable[[], Any], pages: Connection, results: Connection, current: Any) -> None:
    """Extract pages until the page pipe closes; ``current.value`` is the page being
    extracted (0 between pages)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the crawl to handle
    _schedule_as_batch()
    try:
        extractor = factory()
    except BaseException as exc:  # noqa: BLE001 - reported to the pool, which names it
        results.send_bytes(pickle.dumps(("failed", 0, f"{type(exc).__name__}: {exc}")))
        return
    results.send_bytes(pickle.dumps(("ready", 0, None)))
    while True:
        try:
            task_id, html, url, options = pickle.loads(pages.recv_bytes())
        except EOFError:  # the pool closed the pipe: stop
            return
        current.value = task_id
        try:
            outcome = ("ok", task_id, extractor.extract(html, url, **options))
        except Exception as exc:  # the extractor's own error goes back as itself
            outcome = ("error", task_id, exc)
        try:
            message = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - e.g. an exception that cannot be pickled
            message = pickle.dumps(("error", task_id, RuntimeError(f"extraction result cannot be sent: {exc!r}")))
        current.value = 0
        results.send_bytes(message)


# -- the pool, on the asyncio loop -------------------------------------------------------


@dataclass(eq=False)
class _Task:
    id: int
    message: bytes  # framed, ready for the pipe
    future: asyncio.Future[Any]
    requeued: bool = False


class _Worker:
    """One worker process and the parent's ends of its two pipes (non-blocking)."""

    def __init__(self, ctx: Any, factory: Callable[[], Any]) -> None:
        pages_in, self._pages = ctx.Pipe(duplex=False)
        self._results, results_out = ctx.Pipe(duplex=False)
        self.current = ctx.RawValue("q", 0)
        self.process = ctx.Process(
            target=_worker_main, args=(factory, pages_in, results_out, self.current), name=WORKER_NAME, daemon=True
        )
        self.process.start()
        pages_in.close()
        results_out.close()
        self.out_fd = self._pages.fileno()
        self.in_fd = self._results.fileno()
        os.set_blocking(self.out_fd, False)
        os.set_blocking(self.in_fd, False)
        self.ready = False
        self.alive = True
        self.stopping = False
        self.assigned: deque[_Task] = deque()  # in the order sent; [0] is being extracted
        self.extracted = 0
        self.outgoing: deque[memoryview] = deque()
        self.incoming = bytearray()
        self.timer: asyncio.TimerHandle | None = None
        self.watched = False
        self.writing = False

    def close_pipes(self) -> None:
        self._pages.close()
        self._results.close()


class ExtractionPool:
    """``workers`` processes running ``factory().extract(html, url, **options)``.

    :meth:`extract` (a coroutine, on the crawl's asyncio loop) returns the extractor's
    result, or raises the extractor's own exception, :class:`WorkerCrashed` or
    :class:`ExtractionTimeout`.
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
        self.restarts = 0  # workers replaced after dying or being killed
        self._ctx = multiprocessing.get_context(start_method)
        self._workers: list[_Worker] = []
        self._pending: deque[_Task] = deque()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._start_failures = 0
        self._start_error = ""
        self._idle: asyncio.Event | None = None
        self._exits: set[asyncio.Task[None]] = set()  # workers taken out, until they are reaped

    @property
    def running(self) -> int:
        """Workers running or starting now."""
        return len(self._workers)

    # -- life cycle

    def start(self) -> None:
        """Start the workers now (they import the extractor while the crawl starts)."""
        self._started = True
        while len(self._workers) < self.workers:
            self._workers.append(_Worker(self._ctx, self.factory))

    async def aclose(self, timeout: float = 30.0) -> None:
        """Let the pages given so far finish (up to ``timeout`` seconds), then stop the
        workers; pages still unfinished then fail with :class:`ExtractionTimeout`."""
        if not self._started:
            return
        loop = self._attach()
        if self._busy():
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                logger.warning("Extraction workers still busy after %g s; stopping them", timeout)
            finally:
                self._idle = None
        self._started = False
        unfinished = [*self._pending, *(t for w in self._workers for t in w.assigned)]
        self._pending.clear()
        for worker in self._workers:
            worker.assigned.clear()
            self._retire(worker)  # its page pipe closes: an idle worker exits
        for task in unfinished:
            _fail(task, ExtractionTimeout("the extraction pool was closed before this page was extracted"))
        deadline = loop.time() + _EXIT_WAIT
        while any(w.process.is_alive() for w in self._workers) and loop.time() < deadline:
            await asyncio.sleep(0.02)
        self.terminate()
        await asyncio.gather(*self._exits)  # workers replaced during the crawl, reaped

    def terminate(self) -> None:
        """Kill the workers now; pages not yet extracted fail."""
        self._started = False
        for worker in self._workers:
            for task in worker.assigned:
                _fail(task, ExtractionTimeout("the extraction pool was terminated"))
            worker.assigned.clear()
            self._retire(worker)
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join(_EXIT_WAIT)
        self._workers.clear()
        for task in self._pending:
            _fail(task, ExtractionTimeout("the extraction pool was terminated"))
        self._pending.clear()

    # -- extraction

    async def extract(self, html: str, url: str, **options: Any) -> Any:
        """The extractor's result for one page, from a worker; ``options`` are the
        extractor's keyword arguments (``content_language``, ``site_lines``)."""
        if not self._started:
            raise RuntimeError("the extraction pool is not started")
        loop = self._attach()
        task_id = next(self._ids)
        message = _frame(pickle.dumps((task_id, html, url, options), protocol=pickle.HIGHEST_PROTOCOL))
        task = _Task(task_id, message, loop.create_future())
        self._pending.append(task)
        self._dispatch()
        try:
            return await task.future
        finally:
            if not task.future.done():  # cancelled while waiting: never extract it
                try:
                    self._pending.remove(task)
                except ValueError:
                    pass

    def _attach(self) -> asyncio.AbstractEventLoop:
        """Watch the workers' pipes on the running loop (the first call, and new workers)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        for worker in self._workers:
            if not worker.watched and worker.alive:
                self._loop.add_reader(worker.in_fd, self._on_readable, worker)
                worker.watched = True
        return self._loop

    def _busy(self) -> bool:
        return bool(self._pending) or any(w.assigned for w in self._workers)

    def _dispatch(self) -> None:
        if not self._workers and self._start_failures >= START_FAILURES_MAX:
            while self._pending:
                _fail(self._pending.popleft(), self._cannot_start())
        while self._pending:
            open_ = [w for w in self._workers if w.alive and not w.stopping and len(w.assigned) < PAGES_PER_WORKER]
            if not open_:
                return
            worker = min(open_, key=lambda w: len(w.assigned))
            task = self._pending.popleft()
            if task.future.done():
                continue
            worker.assigned.append(task)
            if self.max_tasks_per_worker and worker.extracted + len(worker.assigned) >= self.max_tasks_per_worker:
                worker.stopping = True  # given its last page: replaced once it is done
            if worker.ready and len(worker.assigned) == 1:
                self._start_timer(worker)
            worker.outgoing.append(memoryview(task.message))
            self._write(worker)

    def _write(self, worker: _Worker) -> None:
        while worker.outgoing:
            chunk = worker.outgoing[0]
            try:
                written = os.write(worker.out_fd, chunk)
            except BlockingIOError:
                break
            except OSError:  # the worker is gone: its results pipe reports it
                worker.outgoing.clear()
                break
            if written == len(chunk):
                worker.outgoing.popleft()
            else:
                worker.outgoing[0] = chunk[written:]
        assert self._loop is not None
        if worker.outgoing and not worker.writing:
            self._loop.add_writer(worker.out_fd, self._write, worker)
            worker.writing = True
        elif not worker.outgoing and worker.writing:
            self._loop.remove_writer(worker.out_fd)
            worker.writing = False

    def _on_readable(self, worker: _Worker) -> None:
        while True:
            try:
                data = os.read(worker.in_fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                for message in _unframe(worker.incoming):
                    self._on_message(worker, message)
                self._on_exit(worker)
                return
            worker.incoming += data
        for message in _unframe(worker.incoming):
            self._on_message(worker, message)
        self._dispatch()
        self._check_idle()

    def _on_message(self, worker: _Worker, message: bytes) -> None:
        try:
            kind, task_id, value = pickle.loads(message)
        except Exception as exc:  # noqa: BLE001 - e.g. an exception class that cannot be rebuilt
            kind, task_id, value = "error", None, RuntimeError(f"extraction result cannot be read: {exc!r}")
        if kind == "ready":
            worker.ready = True
            self._start_failures = 0
            if worker.assigned:
                self._start_timer(worker)
            return
        if kind == "failed":
            self._start_failures += 1
            self._start_error = value
            logger.error("An extraction worker could not start: %s", value)
            return  # the worker exits; _on_exit fails what it was given
        task = worker.assigned.popleft()
        assert task_id in (None, task.id), f"result for page {task_id}, expected {task.id}"
        self._cancel_timer(worker)
        worker.extracted += 1
        if not task.future.done():
            if kind == "ok":
                task.future.set_result(value)
            else:
                task.future.set_exception(value)
        if worker.assigned:
            self._start_timer(worker)
        elif worker.stopping:  # its last page (EXTRACT_WORKER_MAX_TASKS) is done
            self._replace(worker)

    def _check_idle(self) -> None:
        if self._idle is not None and not self._busy():
            self._idle.set()

    # -- time limit, death, replacement

    def _start_timer(self, worker: _Worker) -> None:
        assert self._loop is not None
        self._cancel_timer(worker)
        worker.timer = self._loop.call_later(self.timeout, self._on_timeout, worker)

    def _cancel_timer(self, worker: _Worker) -> None:
        if worker.timer is not None:
            worker.timer.cancel()
            worker.timer = None

    def _on_timeout(self, worker: _Worker) -> None:
        worker.timer = None
        if not worker.alive or not worker.assigned:
            return
        task = worker.assigned.popleft()
        worker.process.kill()
        _fail(task, ExtractionTimeout(f"extraction took longer than {self.timeout:g} s; worker killed"))
        self._replace(worker)

    def _on_exit(self, worker: _Worker) -> None:
        """The worker's results pipe closed: it exited, crashed or was killed."""
        if not worker.alive:
            return
        crashed = None
        if worker.assigned and worker.ready and worker.current.value == worker.assigned[0].id:
            crashed = worker.assigned.popleft()  # the page it was extracting
        if not worker.ready and self._start_failures >= START_FAILURES_MAX:
            for task in worker.assigned:
                _fail(task, self._cannot_start())
            worker.assigned.clear()
        self._replace(worker, crashed=crashed)

    async def _await_exit(self, process: Any, crashed: _Task | None) -> None:
        """Wait for a worker taken out to exit (killing it if it lingers) and reap it; fail
        the page it died on, if any, with its exit code."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _EXIT_WAIT
        while process.exitcode is None and loop.time() < deadline:
            await asyncio.sleep(0.005)
            process.join(0)
        if process.exitcode is None:
            process.kill()
            process.join(_EXIT_WAIT)
        if crashed is not None:
            _fail(crashed, WorkerCrashed(f"extraction worker died (exit code {process.exitcode})"))

    def _cannot_start(self) -> WorkerCrashed:
        return WorkerCrashed(f"extraction workers cannot start: {self._start_error}")

    def _replace(self, worker: _Worker, *, crashed: _Task | None = None) -> None:
        """Take ``worker`` out (pages given to it and not started go back to the front of
        the queue; ``crashed``, the page it died on, fails once its exit code is known) and
        start another in its place."""
        for task in reversed(worker.assigned):
            if task.requeued and worker.ready:
                _fail(task, WorkerCrashed("extraction workers died twice before reaching this page"))
            else:
                task.requeued = task.requeued or worker.ready
                self._pending.appendleft(task)
        worker.assigned.clear()
        self._retire(worker)
        self._workers.remove(worker)
        assert self._loop is not None
        exit_ = self._loop.create_task(self._await_exit(worker.process, crashed))
        self._exits.add(exit_)
        exit_.add_done_callback(self._exits.discard)
        if not worker.stopping:
            self.restarts += 1
            logger.info("Extraction worker (pid %s) stopped; starting another", worker.process.pid)
        if self._started and self._start_failures < START_FAILURES_MAX:
            self._workers.append(_Worker(self._ctx, self.factory))
            self._attach()
        self._dispatch()
        self._check_idle()

    def _retire(self, worker: _Worker) -> None:
        """Stop watching the worker's pipes and close them (a live worker then exits)."""
        self._cancel_timer(worker)
        worker.alive = False
        if self._loop is not None and not self._loop.is_closed():
            if worker.watched:
                self._loop.remove_reader(worker.in_fd)
            if worker.writing:
                self._loop.remove_writer(worker.out_fd)
        worker.watched = worker.writing = False
        worker.outgoing.clear()
        worker.close_pipes()


def _fail(task: _Task, error: BaseException) -> None:
    if not task.future.done():
        task.future.set_exception(error)
