"""The dedup index: has this URL, or this text, been stored before?

A SQLite file inside the archive (``state/index.sqlite``). Only committed batches are
indexed (by :class:`archive.writer.ArchiveWriter`, in the same step that publishes them in
a manifest), so the index never claims an article that a reader cannot see; after a crash
the writer re-indexes any manifest-listed batch the index is missing.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from extraction.urls import normalize_url
from schemas import Article

_WORD = re.compile(r"\w+")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS url_keys (key TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fingerprints (fp TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (path TEXT PRIMARY KEY, records INTEGER NOT NULL) WITHOUT ROWID;
"""


def url_key(url: str) -> str:
    """Key of a URL in the index: hash of its normalised form."""
    return hashlib.sha256(normalize_url(url).encode("utf-8")).hexdigest()[:32]


def text_fingerprint(text: str) -> str:
    """Hash of the text's words, case-folded: equal for copies that differ only in
    punctuation, quotes, whitespace or letter case."""
    words = " ".join(_WORD.findall(text.casefold()))
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]


def index_entry(article: Article) -> tuple[str, list[str], str]:
    """What the index keeps of an article: its id, the keys of its canonical and fetched
    URLs, and its text fingerprint."""
    keys = sorted({url_key(article.canonical_url), url_key(article.url)})
    return article.id, keys, text_fingerprint(article.text)


class DedupIndex:
    """URL keys and text fingerprints of every stored article. Open, use, close."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    def open(self) -> DedupIndex:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the writer commits from its single I/O thread.
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        self._db = db
        return self

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"dedup index {self.path} is not open")
        return self._db

    def article_for_url(self, key: str) -> str | None:
        row = self.db.execute("SELECT article_id FROM url_keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def article_for_text(self, fingerprint: str) -> str | None:
        row = self.db.execute("SELECT article_id FROM fingerprints WHERE fp = ?", (fingerprint,)).fetchone()
        return row[0] if row else None

    def indexed_batches(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT path FROM batches")}

    def add_batch(self, path: str, entries: Iterable[tuple[str, Iterable[str], str]]) -> None:
        """Index a committed batch in one transaction: entries are
        (article_id, url keys, text fingerprint)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            count = 0
            for article_id, keys, fingerprint in entries:
                count += 1
                db.executemany(
                    "INSERT OR IGNORE INTO url_keys (key, article_id) VALUES (?, ?)",
                    [(k, article_id) for k in keys],
                )
                db.execute(
                    "INSERT OR IGNORE INTO fingerprints (fp, article_id) VALUES (?, ?)", (fingerprint, article_id)
                )
            db.execute("INSERT OR REPLACE INTO batches (path, records) VALUES (?, ?)", (path, count))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
