"""One crawl at a time per archive: an advisory lock on ``<archive root>/state/crawl.lock``.

``fcntl.flock`` is released by the kernel when the process ends, however it ends, so a
crashed or killed crawl never leaves a stale lock behind. The file keeps the holder's pid
and start time, for the message the next contender prints.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

LOCK_FILE = "crawl.lock"


class CrawlLocked(RuntimeError):
    """Another process holds the archive's crawl lock."""


class CrawlLock:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = None

    def acquire(self) -> CrawlLock:
        """Take the lock at once, or raise :class:`CrawlLocked` naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown process"
            f.close()
            raise CrawlLocked(f"another crawl holds {self.path} ({holder})") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        f.flush()
        self._file = f
        return self

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> CrawlLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
