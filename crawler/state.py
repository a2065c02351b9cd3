"""What the crawler remembers between runs, kept with the archive (``<root>/state/crawl.sqlite``).

- ``documents``: per feed, sitemap, robots.txt or section page, the HTTP validators
  (``ETag``, ``Last-Modified``) of its last 200 response and the links it led to. The next
  run sends ``If-None-Match`` / ``If-Modified-Since``; on ``304 Not Modified`` it follows
  the stored links again (each is then skipped if already archived, so a run interrupted
  after reading a feed still reaches every article the feed named).
- ``seen``: article URLs that were fetched and dropped for good by a pipeline stage (a
  duplicate of a stored story, an off-topic page): not requested again. Stored articles
  are known from the dedup index (``state/index.sqlite``), which is not duplicated here.

SQLite, one transaction per write batch: a crash leaves the previous state or the new one.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from crawler.discovery import Link

STATE_FILE = "crawl.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, links TEXT NOT NULL, updated REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, reason TEXT NOT NULL, url TEXT NOT NULL, updated REAL NOT NULL) WITHOUT ROWID;
"""


class CrawlState:
    """Open, use, close. Writes are buffered and committed in batches (and at close)."""

    def __init__(self, path: str | Path, *, batch: int = 100) -> None:
        self.path = Path(path)
        self.batch = batch
        self._db: sqlite3.Connection | None = None
        self._pending_docs: dict[str, tuple[str | None, str | None, str, float]] = {}
        self._pending_seen: dict[str, tuple[str, str, float]] = {}

    def open(self) -> CrawlState:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        self._db = db
        return self

    def close(self) -> None:
        if self._db is not None:
            try:
                self.flush()
            finally:
                self._db.close()
                self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"crawl state {self.path} is not open")
        return self._db

    # -- documents -------------------------------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of the last 200 response for ``url``, or (None, None)."""
        if url in self._pending_docs:
            etag, modified, _, _ = self._pending_docs[url]
            return etag, modified
        row = self.db.execute("SELECT etag, last_modified FROM documents WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def links(self, url: str) -> list[Link] | None:
        """The links ``url`` led to when it was last read, or None if it never was."""
        if url in self._pending_docs:
            raw = self._pending_docs[url][2]
        else:
            row = self.db.execute("SELECT links FROM documents WHERE url = ?", (url,)).fetchone()
            if row is None:
                return None
            raw = row[0]
        return [Link.from_json(item) for item in json.loads(raw)]

    def save_document(self, url: str, etag: str | None, last_modified: str | None, links: Iterable[Link]) -> None:
        self._pending_docs[url] = (etag, last_modified, json.dumps([lk.as_json() for lk in links]), time.time())
        self._maybe_flush()

    def forget_document(self, url: str) -> None:
        self._pending_docs.pop(url, None)
        self.db.execute("DELETE FROM documents WHERE url = ?", (url,))

    # -- seen articles ---------------------------------------------------------------------

    def is_seen(self, key: str) -> bool:
        return self.seen_reason(key) is not None

    def seen_reason(self, key: str) -> str | None:
        """Why a page was dropped for good, or None if it never was."""
        if key in self._pending_seen:
            return self._pending_seen[key][0]
        row = self.db.execute("SELECT reason FROM seen WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def mark_seen(self, key: str, url: str, reason: str) -> None:
        self._pending_seen[key] = (reason, url, time.time())
        self._maybe_flush()

    # -- writing ---------------------------------------------------------------------------

    def _maybe_flush(self) -> None:
        if len(self._pending_docs) + len(self._pending_seen) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self._pending_docs and not self._pending_seen:
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO documents (url, etag, last_modified, links, updated) VALUES (?, ?, ?, ?, ?)",
                [(url, *values) for url, values in self._pending_docs.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO seen (key, reason, url, updated) VALUES (?, ?, ?, ?)",
                [(key, *values) for key, values in self._pending_seen.items()],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._pending_docs.clear()
        self._pending_seen.clear()
