"""The dedup index: has this URL, this text, or a near copy of this text been stored before?

A SQLite file inside the archive (``state/index.sqlite``). Only committed batches are
indexed (by :class:`archive.writer.ArchiveWriter`, in the same step that publishes them in
a manifest), so the index never claims an article that a reader cannot see; after a crash
the writer re-indexes any manifest-listed batch the index is missing (each batch is
indexed in one transaction, so a kill mid-write loses at most that batch's entries, which
the next open adds again).

What it keeps, per stored article: the keys of its URLs (:func:`url_key`), the hash of its
words (:func:`text_fingerprint`), and a MinHash signature of its word shingles with one
row per LSH band (:class:`MinHasher`), so that "a near copy of this text?" costs one
indexed lookup per band, whatever the size of the archive. Per sighting (a later copy of
a stored story) it keeps the keys of its URL, so that a copy fetched again in a later run
is known by its URL.

:class:`DedupStore` is the protocol the pipeline uses; :class:`DedupIndex` implements it on
SQLite, :class:`MemoryIndex` in memory (a run's articles not yet committed). A shared
backend (e.g. Redis, for several crawlers on one archive) implements the same methods.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol, Self

import numpy as np

from extraction.urls import dedup_form
from schemas import Article, Sighting

_WORD = re.compile(r"\w+")

NUM_PERM = 128
LSH_BANDS = 32
SHINGLE_SIZE = 5
_SIG_DTYPE = np.dtype("<u2")  # stored signatures keep the low 16 bits of each minimum (b-bit MinHash)
_SIG_COLLISION = 1.0 / 65536


def url_key(url: str) -> str:
    """Key of a URL in the index: hash of the form all URLs of one page share
    (:func:`extraction.urls.dedup_form`)."""
    return hashlib.sha256(dedup_form(url).encode("utf-8")).hexdigest()[:32]


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def text_fingerprint(text: str) -> str:
    """Hash of the text's words, case-folded: equal for copies that differ only in
    punctuation, quotes, whitespace or letter case."""
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()[:32]


# -- MinHash ------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1
_SHINGLE_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                          0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                         dtype=np.uint64)


@dataclass(frozen=True)
class MinHasher:
    """MinHash over word shingles, with multiply-shift hash functions (seeded: the same
    text gives the same signature in every run), and the LSH band keys of a signature.

    ``bands`` bands of ``num_perm // bands`` rows each: two texts of Jaccard similarity
    ``s`` share a band key with probability ``1 - (1 - s**rows) ** bands``.
    """

    num_perm: int = NUM_PERM
    bands: int = LSH_BANDS
    shingle_size: int = SHINGLE_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.bands <= self.num_perm:
            raise ValueError(f"LSH bands must be between 1 and num_perm ({self.num_perm}), not {self.bands}")
        if not 1 <= self.shingle_size <= len(_SHINGLE_MULT):
            raise ValueError(f"shingle size must be between 1 and {len(_SHINGLE_MULT)}, not {self.shingle_size}")
        rng = np.random.default_rng(20261201)
        a = rng.integers(0, 2**63, size=self.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        b = rng.integers(0, 2**63, size=self.num_perm, dtype=np.uint64)
        object.__setattr__(self, "_a", a[:, None])
        object.__setattr__(self, "_b", b[:, None])

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    def params(self) -> dict[str, str]:
        return {"minhash": "mshift-crc32-v1", "num_perm": str(self.num_perm), "bands": str(self.bands),
                "shingle_size": str(self.shingle_size)}

    def shingles(self, text: str) -> np.ndarray:
        tokens = words(text)
        if not tokens:
            return np.zeros(0, dtype=np.uint64)
        h = np.fromiter((zlib.crc32(t.encode("utf-8")) for t in tokens), dtype=np.uint64, count=len(tokens))
        k = min(self.shingle_size, len(tokens))
        n = len(tokens) - k + 1
        acc = np.zeros(n, dtype=np.uint64)
        for j in range(k):
            acc = (acc + h[j : j + n]) * _SHINGLE_MULT[j]
        acc ^= acc >> np.uint64(31)
        return acc

    def signature(self, text: str) -> np.ndarray:
        """``num_perm`` minima, uint32 (all 0xFFFFFFFF for a text without words)."""
        shingles = self.shingles(text)
        if shingles.size == 0:
            return np.full(self.num_perm, 0xFFFFFFFF, dtype=np.uint32)
        sig = np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        for start in range(0, shingles.size, 2048):  # bounded temporary arrays for long texts
            chunk = shingles[None, start : start + 2048]
            np.minimum(sig, ((self._a * chunk + self._b) >> np.uint64(32)).min(axis=1), out=sig)  # type: ignore[attr-defined]
        return sig.astype(np.uint32)

    def band_keys(self, signature: np.ndarray) -> list[int]:
        """One signed 64-bit key per band (the band number is mixed in)."""
        rows = self.rows
        bands = signature[: rows * self.bands].astype(np.uint64).reshape(self.bands, rows)
        keys = (np.arange(self.bands, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        for j in range(rows):
            keys = (keys ^ bands[:, j]) * np.uint64(0xBF58476D1CE4E5B9)
            keys ^= keys >> np.uint64(29)
        return keys.view(np.int64).tolist()

    @staticmethod
    def packed(signature: np.ndarray) -> bytes:
        """The stored form of a signature: the low 16 bits of each minimum."""
        return (signature & 0xFFFF).astype(_SIG_DTYPE).tobytes()

    @staticmethod
    def similarity(a: bytes, b: bytes) -> float:
        """Estimated Jaccard similarity of two stored signatures (b-bit MinHash estimator)."""
        x = np.frombuffer(a, dtype=_SIG_DTYPE)
        y = np.frombuffer(b, dtype=_SIG_DTYPE)
        if x.size != y.size or x.size == 0:
            return 0.0
        equal = float(np.count_nonzero(x == y)) / x.size
        return max(0.0, min(1.0, (equal - _SIG_COLLISION) / (1.0 - _SIG_COLLISION)))


# -- entries and the protocol ------------------------------------------------------------


class IndexEntry(NamedTuple):
    """What the index keeps of a record. For an Article: its id, URL keys, text
    fingerprint, text (for the signature), outlet and detected original publisher; for a
    Sighting: the story's id and the sighting's URL keys only."""

    article_id: str
    url_keys: tuple[str, ...]
    fingerprint: str | None = None
    text: str | None = None
    source: str | None = None
    original_publisher: str | None = None


def index_entry(record: Article | Sighting) -> IndexEntry:
    if isinstance(record, Sighting):
        keys = tuple(sorted({url_key(record.canonical_url), url_key(record.url)}))
        return IndexEntry(record.story_id, keys)
    keys = tuple(sorted({url_key(record.canonical_url), url_key(record.url)}))
    return IndexEntry(record.id, keys, text_fingerprint(record.text), record.text, record.source,
                      record.original_publisher)


@dataclass(frozen=True)
class Story:
    """A stored article as the index knows it."""

    article_id: str
    source: str | None
    original_publisher: str | None


@dataclass(frozen=True)
class NearMatch:
    story: Story
    similarity: float


class DedupStore(Protocol):
    """What the dedup stage and the archive writer need of an index backend."""

    hasher: MinHasher

    def open(self) -> Self: ...
    def close(self) -> None: ...
    def article_for_url(self, key: str) -> str | None: ...
    def article_for_text(self, fingerprint: str) -> str | None: ...
    def story(self, article_id: str) -> Story | None: ...
    def near(self, signature: np.ndarray, threshold: float) -> NearMatch | None: ...
    def indexed_batches(self) -> set[str]: ...
    def add_batch(self, path: str, entries: Iterable[IndexEntry]) -> None: ...


def _best(hasher: MinHasher, packed: bytes, candidates: Iterable[tuple[Story, bytes]], threshold: float) -> NearMatch | None:
    best: NearMatch | None = None
    for story, stored in candidates:
        sim = hasher.similarity(packed, stored)
        if sim >= threshold and (best is None or sim > best.similarity):
            best = NearMatch(story, sim)
    return best


# -- SQLite --------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS url_keys (key TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fingerprints (fp TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (path TEXT PRIMARY KEY, records INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stories (
    n INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE, source TEXT, original_publisher TEXT, signature BLOB
);
CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n)) WITHOUT ROWID;
"""


class IndexMismatch(ValueError):
    """The index was created with other MinHash parameters than the ones asked for."""


class DedupIndex:
    """URL keys, text fingerprints and MinHash-LSH bands of every stored article, in SQLite.
    Open, use, close.

    ``hasher``: the MinHash parameters for a new index. An existing index keeps the ones it
    was created with (they are in its ``meta`` table); asking for different ones explicitly
    raises :class:`IndexMismatch`, passing None accepts the stored ones.
    """

    def __init__(self, path: str | Path, hasher: MinHasher | None = None, *, cache_mib: int = 64) -> None:
        self.path = Path(path)
        self._wanted = hasher
        self.hasher = hasher or MinHasher()
        self.cache_mib = cache_mib
        self._db: sqlite3.Connection | None = None

    def open(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the writer commits from its single I/O thread.
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA cache_size=-{self.cache_mib * 1024}")
            db.execute("PRAGMA busy_timeout=30000")
            db.executescript(_SCHEMA)
            self._load_params(db)
        except BaseException:
            db.close()
            raise
        self._db = db
        return self

    def _load_params(self, db: sqlite3.Connection) -> None:
        stored = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if not stored:
            db.execute("BEGIN IMMEDIATE")
            stored = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if not stored:  # a new index, or one from before near-duplicate detection
                db.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", self.hasher.params().items())
                # batches indexed without signatures are indexed again by the writer's recovery
                db.execute("DELETE FROM batches")
                stored = self.hasher.params()
            db.execute("COMMIT")
        if stored.get("minhash") != self.hasher.params()["minhash"]:
            raise IndexMismatch(f"dedup index {self.path} uses MinHash {stored.get('minhash')!r}, unknown to this version")
        found = MinHasher(int(stored["num_perm"]), int(stored["bands"]), int(stored["shingle_size"]))
        if self._wanted is not None and found != self._wanted:
            raise IndexMismatch(
                f"dedup index {self.path} was created with num_perm={found.num_perm}, bands={found.bands}, "
                f"shingle_size={found.shingle_size}; the settings ask for num_perm={self._wanted.num_perm}, "
                f"bands={self._wanted.bands}, shingle_size={self._wanted.shingle_size} "
                "(set DEDUP_NUM_PERM, DEDUP_LSH_BANDS and DEDUP_SHINGLE_SIZE back, or start a new archive)"
            )
        self.hasher = found

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

    def story(self, article_id: str) -> Story | None:
        row = self.db.execute(
            "SELECT source, original_publisher FROM stories WHERE article_id = ?", (article_id,)
        ).fetchone()
        return Story(article_id, row[0], row[1]) if row else None

    def near(self, signature: np.ndarray, threshold: float) -> NearMatch | None:
        """The most similar stored article whose estimated Jaccard similarity is at least
        ``threshold``, among those sharing an LSH band with ``signature``."""
        keys = self.hasher.band_keys(signature)
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            f"SELECT article_id, source, original_publisher, signature FROM stories WHERE n IN "
            f"(SELECT n FROM bands WHERE key IN ({marks}))",
            keys,
        ).fetchall()
        packed = self.hasher.packed(signature)
        return _best(self.hasher, packed, ((Story(r[0], r[1], r[2]), r[3]) for r in rows), threshold)

    def indexed_batches(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT path FROM batches")}

    def add_batch(self, path: str, entries: Iterable[IndexEntry | Sequence]) -> None:
        """Index a committed batch in one transaction (all of it, or nothing)."""
        db = self.db
        hasher = self.hasher
        db.execute("BEGIN IMMEDIATE")
        try:
            count = 0
            band_rows: list[tuple[int, int]] = []
            for entry in entries:
                entry = IndexEntry(*entry)
                count += 1
                db.executemany(
                    "INSERT OR IGNORE INTO url_keys (key, article_id) VALUES (?, ?)",
                    [(k, entry.article_id) for k in entry.url_keys],
                )
                if entry.fingerprint is not None:
                    db.execute(
                        "INSERT OR IGNORE INTO fingerprints (fp, article_id) VALUES (?, ?)",
                        (entry.fingerprint, entry.article_id),
                    )
                if entry.text is None:
                    continue
                signature = hasher.signature(entry.text)
                cur = db.execute(
                    "INSERT OR IGNORE INTO stories (article_id, source, original_publisher, signature) "
                    "VALUES (?, ?, ?, ?)",
                    (entry.article_id, entry.source, entry.original_publisher, hasher.packed(signature)),
                )
                if cur.rowcount:
                    n = cur.lastrowid
                    band_rows.extend((k, n) for k in hasher.band_keys(signature))
            band_rows.sort()  # B-tree inserts in key order touch each page once
            db.executemany("INSERT OR IGNORE INTO bands (key, n) VALUES (?, ?)", band_rows)
            db.execute("INSERT OR REPLACE INTO batches (path, records) VALUES (?, ?)", (path, count))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


# -- memory --------------------------------------------------------------------------------


class MemoryIndex:
    """The same index in memory: the dedup stage's view of this run's articles that are
    not committed yet, and a reference implementation of :class:`DedupStore`."""

    def __init__(self, hasher: MinHasher | None = None) -> None:
        self.hasher = hasher or MinHasher()
        self._urls: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._stories: dict[str, tuple[Story, bytes]] = {}
        self._bands: dict[int, list[str]] = {}
        self._batches: set[str] = set()

    def open(self) -> Self:
        return self

    def close(self) -> None:
        pass

    def article_for_url(self, key: str) -> str | None:
        return self._urls.get(key)

    def article_for_text(self, fingerprint: str) -> str | None:
        return self._texts.get(fingerprint)

    def story(self, article_id: str) -> Story | None:
        found = self._stories.get(article_id)
        return found[0] if found else None

    def near(self, signature: np.ndarray, threshold: float) -> NearMatch | None:
        ids = {i for k in self.hasher.band_keys(signature) for i in self._bands.get(k, ())}
        return _best(self.hasher, self.hasher.packed(signature), (self._stories[i] for i in sorted(ids)), threshold)

    def indexed_batches(self) -> set[str]:
        return set(self._batches)

    def add(self, entry: IndexEntry, signature: np.ndarray | None = None) -> None:
        for key in entry.url_keys:
            self._urls.setdefault(key, entry.article_id)
        if entry.fingerprint is not None:
            self._texts.setdefault(entry.fingerprint, entry.article_id)
        if entry.text is None or entry.article_id in self._stories:
            return
        if signature is None:
            signature = self.hasher.signature(entry.text)
        story = Story(entry.article_id, entry.source, entry.original_publisher)
        self._stories[entry.article_id] = (story, self.hasher.packed(signature))
        for key in self.hasher.band_keys(signature):
            self._bands.setdefault(key, []).append(entry.article_id)

    def add_batch(self, path: str, entries: Iterable[IndexEntry]) -> None:
        for entry in entries:
            self.add(IndexEntry(*entry))
        self._batches.add(path)
