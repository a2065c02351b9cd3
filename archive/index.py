"""The dedup index: has this URL, this text, or a near copy of this text been stored before?

A SQLite file inside the archive (``state/index.sqlite``). Only committed batches are
indexed (by :class:`archive.writer.ArchiveWriter`, in the same step that publishes them in
a manifest), so the index never claims an article that a reader cannot see; after a crash
the writer re-indexes any manifest-listed batch the index is missing (each batch is
indexed in one transaction, so a kill mid-write loses at most that batch's entries, which
the next open adds again).

What it keeps, per stored article: the keys of its URLs (:func:`url_key`), the hash of its
words (:func:`text_fingerprint`), and a MinHash signature of its word shingles with its LSH
band keys (:class:`MinHasher`), so that "a near copy of this text?" costs one lookup per
band, whatever the size of the archive. Per sighting (a later copy of a stored story) it
keeps the keys of its URL, so that a copy fetched again in a later run is known by its URL.

How it keeps them: rows are only appended (URL keys, fingerprints, stories: SQLite tables
in the order they came), and each kind of key is found through sorted runs of postings,
``32-bit hash << 32 | row number`` as uint64, one BLOB per run, merged log-structured (one
run per level of :data:`LEVEL_POSTINGS`); a hash names a row, the row is then checked. A
B-tree keyed by random hashes made every batch rewrite about one page per key (at 300,000
stories, one row per key and per band managed about 1,100 stories a second); a batch now
writes its rows and rewrites a few small runs. An instance loads a kind's runs at its first lookup of that kind,
then only the runs another connection changed (``PRAGMA data_version``).

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
from typing import NamedTuple, Protocol, Self, TypeVar

import numpy as np

from extraction.urls import dedup_form
from schemas import Article, Sighting

_WORD = re.compile(r"\w+")
_V = TypeVar("_V")

NUM_PERM = 128
LSH_BANDS = 32
SHINGLE_SIZE = 5
_SIG_DTYPE = np.dtype("<u2")  # stored signatures keep the low 16 bits of each minimum (b-bit MinHash)
_SIG_COLLISION = 1.0 / 65536
_POSTING = np.dtype("<u8")  # band key (high 32 bits of the 64-bit key) << 32 | story number
_LOW32 = np.uint64(0xFFFFFFFF)

# Runs of postings (DedupIndex): how many postings (8 bytes each) a level's run holds at
# most. Each level holds one run per kind: a batch's postings are merged into level 0's
# run, a run grown past its level's size into the next level's, and one grown past the last
# level stays a run of its own. A lookup reads at most one run per level, plus one per
# 2**24 postings beyond (about 500,000 stories' LSH bands).
LEVEL_POSTINGS = (1 << 13, 1 << 16, 1 << 19, 1 << 22, 1 << 24)
DIRECTORY_MIN = 1 << 18  # a run of this many postings or more gets a directory


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
        # band keys: a multiply-add hash of each band's rows, with odd 64-bit multipliers and
        # an offset per band (the top bits are the well-mixed ones)
        band_rng = np.random.default_rng(20261202)
        mult = band_rng.integers(0, 2**63, size=(self.bands, self.rows), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        object.__setattr__(self, "_band_mult", mult)
        object.__setattr__(self, "_band_offset", band_rng.integers(0, 2**63, size=self.bands, dtype=np.uint64))

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
        return self.band_key_array(signature).view(np.int64).tolist()

    def band_key_array(self, signatures: np.ndarray) -> np.ndarray:
        """:meth:`band_keys` as uint64, of one signature (shape ``(bands,)``) or of a stack
        of them (shape ``(n, bands)``)."""
        rows = self.rows
        bands = signatures[..., : rows * self.bands].astype(np.uint64).reshape(*signatures.shape[:-1], self.bands, rows)
        bands *= self._band_mult  # type: ignore[attr-defined]
        keys = bands.sum(axis=-1, dtype=np.uint64)  # modulo 2**64
        keys += self._band_offset  # type: ignore[attr-defined]
        return keys

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
    Sighting: the story's id and the sighting's URL keys only.

    ``signature``: the text's MinHash signature when the caller has it already (the dedup
    stage computed it; the benchmark makes them up); None computes it from ``text``. An
    entry with a text or a signature is a story."""

    article_id: str
    url_keys: tuple[str, ...]
    fingerprint: str | None = None
    text: str | None = None
    source: str | None = None
    original_publisher: str | None = None
    signature: np.ndarray | None = None


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

LAYOUT = "runs-v1"  # the tables below; an index of another layout is rebuilt (see _check_layout)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (path TEXT PRIMARY KEY, records INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS url_keys (n INTEGER PRIMARY KEY, key TEXT NOT NULL, article_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fingerprints (n INTEGER PRIMARY KEY, fp TEXT NOT NULL, article_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stories (
    n INTEGER PRIMARY KEY, article_id TEXT NOT NULL, source TEXT, original_publisher TEXT, signature BLOB
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, level INTEGER NOT NULL,
    postings INTEGER NOT NULL, data BLOB NOT NULL
);
"""
_OLD_TABLES = ("url_keys", "fingerprints", "stories", "bands", "runs")

# The kinds of runs: postings of a key's 32-bit hash and the number of its row in a table
# (looked up, then checked against the row), and of the LSH band keys of each story.
_KEYED = {"url": ("url_keys", "key"), "text": ("fingerprints", "fp"), "story": ("stories", "article_id")}
_BAND = "band"


class IndexMismatch(ValueError):
    """The index was created with other MinHash parameters than the ones asked for."""


def _hash32(value: str) -> int:
    return zlib.crc32(value.encode("utf-8"))


def _postings(tops: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Sorted postings ``top << 32 | number``: ``tops`` uint64 below 2**32, of shape
    ``(n,)`` or ``(n, k)``, ``numbers`` of shape ``(n,)``."""
    numbers = numbers.astype(np.uint64)
    if tops.ndim == 2:
        numbers = numbers[:, None]
    return np.sort((tops << np.uint64(32)) | numbers, axis=None)


_CHUNK = 1 << 22  # bytes of a run read or written at a time


def _read_run(db: sqlite3.Connection, run_id: int) -> np.ndarray:
    with db.blobopen("runs", "data", run_id, readonly=True) as blob:
        data = np.empty(len(blob) // _POSTING.itemsize, dtype=_POSTING)
        raw = data.view(np.uint8)
        for start in range(0, raw.size, _CHUNK):
            raw[start : start + _CHUNK] = np.frombuffer(blob.read(_CHUNK), dtype=np.uint8)
    return data


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two sorted runs as one: a stable sort of their concatenation merges them (timsort,
    with a buffer the size of the smaller run)."""
    merged = np.concatenate((a, b))
    merged.sort(kind="stable")
    return merged


class _Run:
    """A sorted run of postings in memory. A big one gets a directory (where each value of
    the top bits starts), so that a lookup reads a few neighbouring postings instead of
    binary-searching a large array."""

    __slots__ = ("data", "offsets", "shift", "window")

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.offsets: np.ndarray | None = None
        if data.size >= DIRECTORY_MIN:
            bits = int(data.size).bit_length() - 2  # 2 to 4 postings per slot on average
            self.shift = np.uint64(64 - bits)
            counts = np.zeros(1 << bits, dtype=np.int64)
            for start in range(0, data.size, 1 << 22):  # bounded temporary arrays
                counts += np.bincount((data[start : start + (1 << 22)] >> self.shift).astype(np.intp),
                                      minlength=1 << bits)
            self.offsets = np.zeros((1 << bits) + 1, dtype=np.intp)
            np.cumsum(counts, out=self.offsets[1:])
            self.window = np.arange(int(counts.max()), dtype=np.intp)

    def lookup(self, keys: np.ndarray, ends: np.ndarray, found: set[int]) -> None:
        """Add to ``found`` the numbers of the postings between ``keys`` (sorted, ``top <<
        32``) and ``ends`` (``keys | 0xFFFFFFFF``), that is of the postings of those tops."""
        data = self.data
        if self.offsets is not None:
            near = data.take(self.offsets[keys >> self.shift][:, None] + self.window, mode="clip")
            near -= keys[:, None]  # from the key on: below 2**32 (a key smaller wraps round)
            hits = near <= _LOW32
            if hits.any():
                found.update((near[hits] & _LOW32).tolist())
            return
        first = data.searchsorted(keys)
        if not (data.take(first, mode="clip") <= ends).any():  # (past the end: the last one, below keys)
            return
        for i, j in enumerate(first.tolist()):
            while j < data.size and keys[i] <= data[j] <= ends[i]:
                found.add(int(data[j] & _LOW32))
                j += 1


class DedupIndex:
    """URL keys, text fingerprints and MinHash-LSH band keys of every stored article, in
    SQLite. Open, use, close.

    ``hasher``: the MinHash parameters for a new index. An existing index keeps the ones it
    was created with (they are in its ``meta`` table); asking for different ones explicitly
    raises :class:`IndexMismatch`, passing None accepts the stored ones.

    Rows are only appended (a batch writes a few pages, not one page per key): a key's row
    is found by the runs of its kind (``url``, ``text``, ``story``, ``band``), sorted
    postings of a 32-bit hash and the row number, merged log-structured (one run per level
    of :data:`LEVEL_POSTINGS`). An instance loads the runs of a kind at its first lookup of
    that kind, then only the runs that changed. In memory: 8 to 12 bytes per key (a
    posting, and a directory for big runs), so about 400 MB for a million stories (32 bands
    each) once :meth:`near` was called, under 50 MB for URL and text lookups only.
    """

    def __init__(self, path: str | Path, hasher: MinHasher | None = None, *, cache_mib: int = 64) -> None:
        self.path = Path(path)
        self._wanted = hasher
        self.hasher = hasher or MinHasher()
        self.cache_mib = cache_mib
        self._db: sqlite3.Connection | None = None
        self._runs: dict[str, dict[int, _Run]] = {}  # kind -> its runs by id, once looked up
        self._versions: dict[str, int] = {}  # kind -> PRAGMA data_version its runs were read at

    def open(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the writer commits from its single I/O thread.
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA cache_size=-{self.cache_mib * 1024}")
            db.execute("PRAGMA busy_timeout=30000")
            self._check_layout(db)
            db.executescript(_SCHEMA)
            self._load_params(db)
        except BaseException:
            db.close()
            raise
        self._db = db
        self._runs, self._versions = {}, {}
        return self

    @staticmethod
    def _check_layout(db: sqlite3.Connection) -> None:
        """An index of an older layout (one B-tree row per key and per LSH band) is emptied,
        its batches unlisted: the archive writer indexes them all again when it opens."""
        db.execute("BEGIN IMMEDIATE")
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            layout = None
            if "meta" in tables:
                layout = db.execute("SELECT value FROM meta WHERE name = 'layout'").fetchone()
            if tables & set(_OLD_TABLES) and (layout is None or layout[0] != LAYOUT):
                for table in _OLD_TABLES:
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                if "batches" in tables:
                    db.execute("DELETE FROM batches")
                if "meta" in tables:
                    db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('layout', ?)", (LAYOUT,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _load_params(self, db: sqlite3.Connection) -> None:
        stored = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if "minhash" not in stored:
            db.execute("BEGIN IMMEDIATE")
            stored = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if "minhash" not in stored:  # a new index, or one from before near-duplicate detection
                db.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                               [*self.hasher.params().items(), ("layout", LAYOUT)])
                # batches indexed without signatures are indexed again by the writer's recovery
                db.execute("DELETE FROM batches")
                stored = {**self.hasher.params(), "layout": LAYOUT}
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
        self._runs, self._versions = {}, {}

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"dedup index {self.path} is not open")
        return self._db

    # -- lookups ------------------------------------------------------------------------

    def article_for_url(self, key: str) -> str | None:
        row = self._keyed_row("url", key, "article_id")
        return row[0] if row else None

    def article_for_text(self, fingerprint: str) -> str | None:
        row = self._keyed_row("text", fingerprint, "article_id")
        return row[0] if row else None

    def story(self, article_id: str) -> Story | None:
        row = self._keyed_row("story", article_id, "source, original_publisher")
        return Story(article_id, row[0], row[1]) if row else None

    def _keyed_row(self, kind: str, value: str, columns: str) -> tuple | None:
        """The first row (in the order rows were added) of the kind's table for ``value``."""
        numbers = self._lookup(kind, np.array([_hash32(value)], dtype=np.uint64))
        if not numbers:
            return None
        table, column = _KEYED[kind]
        return self.db.execute(
            f"SELECT {columns} FROM {table} WHERE n IN ({','.join('?' * len(numbers))}) AND {column} = ? "
            "ORDER BY n LIMIT 1",
            [*numbers, value],
        ).fetchone()

    def near(self, signature: np.ndarray, threshold: float) -> NearMatch | None:
        """The most similar stored article whose estimated Jaccard similarity is at least
        ``threshold``, among those sharing an LSH band with ``signature``."""
        numbers = self._lookup(_BAND, np.sort(self.hasher.band_key_array(signature) >> np.uint64(32)))
        if not numbers:
            return None
        rows = self.db.execute(
            f"SELECT article_id, source, original_publisher, signature FROM stories WHERE n IN "
            f"({','.join('?' * len(numbers))}) ORDER BY n",
            sorted(numbers),
        ).fetchall()
        packed = self.hasher.packed(signature)
        return _best(self.hasher, packed, ((Story(r[0], r[1], r[2]), r[3]) for r in rows), threshold)

    def _lookup(self, kind: str, tops: np.ndarray) -> set[int]:
        """Row numbers of the kind's postings with one of ``tops`` (sorted uint64)."""
        found: set[int] = set()
        keys = tops << np.uint64(32)
        ends = keys | _LOW32
        for run in self._kind_runs(kind):
            run.lookup(keys, ends, found)
        return found

    def _kind_runs(self, kind: str) -> Iterable[_Run]:
        """The kind's runs as committed now: read once, then only the runs added since by
        another connection (``PRAGMA data_version`` tells; :meth:`add_batch` updates the
        ones of this connection)."""
        db = self.db
        version = db.execute("PRAGMA data_version").fetchone()[0]
        runs = self._runs.get(kind)
        if runs is None or version != self._versions.get(kind):
            snapshot = not db.in_transaction
            if snapshot:
                db.execute("BEGIN")  # one snapshot for the list and the runs read
            try:
                ids = [row[0] for row in db.execute("SELECT id FROM runs WHERE kind = ? ORDER BY id", (kind,))]
                # runs merged away go before the merged one comes in (less memory at once)
                runs = self._runs[kind] = {i: run for i, run in (runs or {}).items() if i in ids}
                for i in ids:
                    if i not in runs:
                        runs[i] = _Run(_read_run(db, i))
            finally:
                if snapshot:
                    db.execute("COMMIT")
            self._versions[kind] = version
        return runs.values()

    def indexed_batches(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT path FROM batches")}

    # -- writing ------------------------------------------------------------------------

    def add_batch(self, path: str, entries: Iterable[IndexEntry | Sequence]) -> None:
        """Index a committed batch in one transaction (all of it, or nothing). A URL key,
        fingerprint or story already indexed keeps its article."""
        db = self.db
        hasher = self.hasher
        changes: list[tuple[str, int, np.ndarray | None]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            count = 0
            urls: dict[str, str] = {}
            texts: dict[str, str] = {}
            stories: dict[str, IndexEntry] = {}
            for entry in entries:
                entry = IndexEntry(*entry)
                count += 1
                for key in entry.url_keys:
                    urls.setdefault(key, entry.article_id)
                if entry.fingerprint is not None:
                    texts.setdefault(entry.fingerprint, entry.article_id)
                if entry.signature is not None or entry.text is not None:
                    stories.setdefault(entry.article_id, entry)
            # what is indexed already keeps its article: look the batch's keys up first
            urls = self._unknown("url", urls)
            texts = self._unknown("text", texts)
            stories = self._unknown("story", stories)
            for kind, rows in (("url", list(urls.items())), ("text", list(texts.items()))):
                if rows:
                    table, column = _KEYED[kind]
                    numbers = self._append(db, f"INSERT INTO {table} (n, {column}, article_id) VALUES (?, ?, ?)",
                                           table, rows)
                    tops = np.array([_hash32(value) for value, _ in rows], dtype=np.uint64)
                    self._add_postings(db, kind, _postings(tops, numbers), changes)
            if stories:
                signatures = np.stack([e.signature if e.signature is not None
                                       else hasher.signature(e.text)  # type: ignore[arg-type]
                                       for e in stories.values()])
                rows = [(e.article_id, e.source, e.original_publisher, hasher.packed(s))
                        for e, s in zip(stories.values(), signatures, strict=True)]
                numbers = self._append(db, "INSERT INTO stories (n, article_id, source, original_publisher, signature) "
                                       "VALUES (?, ?, ?, ?, ?)", "stories", rows)
                tops = np.array([_hash32(article_id) for article_id in stories], dtype=np.uint64)
                self._add_postings(db, "story", _postings(tops, numbers), changes)
                bands = hasher.band_key_array(signatures) >> np.uint64(32)
                self._add_postings(db, _BAND, _postings(bands, numbers), changes)
            db.execute("INSERT OR REPLACE INTO batches (path, records) VALUES (?, ?)", (path, count))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        for kind, run_id, data in changes:  # this connection's own commit leaves its data_version as it was
            if (runs := self._runs.get(kind)) is not None:
                if data is None:
                    runs.pop(run_id, None)
                else:
                    runs[run_id] = _Run(data)

    def _unknown(self, kind: str, wanted: dict[str, _V]) -> dict[str, _V]:
        """The items of ``wanted`` whose key the kind's table does not hold yet."""
        if not wanted:
            return wanted
        numbers = self._lookup(kind, np.unique(np.array([_hash32(v) for v in wanted], dtype=np.uint64)))
        if not numbers:
            return wanted
        table, column = _KEYED[kind]
        known: set[str] = set()
        numbers_list = sorted(numbers)
        for start in range(0, len(numbers_list), 500):  # bound on SQL parameters
            chunk = numbers_list[start : start + 500]
            known.update(row[0] for row in self.db.execute(
                f"SELECT {column} FROM {table} WHERE n IN ({','.join('?' * len(chunk))})", chunk))
        return {value: item for value, item in wanted.items() if value not in known}

    @staticmethod
    def _append(db: sqlite3.Connection, sql: str, table: str, rows: list[tuple]) -> np.ndarray:
        """Append rows numbered after the table's last; their numbers."""
        first = db.execute(f"SELECT coalesce(max(n), 0) + 1 FROM {table}").fetchone()[0]
        db.executemany(sql, ((first + i, *row) for i, row in enumerate(rows)))
        return np.arange(first, first + len(rows), dtype=np.uint64)

    def _add_postings(self, db: sqlite3.Connection, kind: str, postings: np.ndarray,
                      changes: list[tuple[str, int, np.ndarray | None]]) -> None:
        """Merge sorted postings into the kind's run of level 0; a run grown past its
        level's size goes down into the next level's run, and past the last level stays a
        run of its own. ``changes``: (kind, run id, the run stored or None for one removed)."""
        for level, size in enumerate(LEVEL_POSTINGS):
            row = db.execute("SELECT id FROM runs WHERE kind = ? AND level = ?", (kind, level)).fetchone()
            if row is not None:
                postings = _merge(self._stored_run(db, kind, row[0]), postings)
                db.execute("DELETE FROM runs WHERE id = ?", row)
                changes.append((kind, row[0], None))
            if postings.size <= size:
                break
        else:
            level = len(LEVEL_POSTINGS)
        cur = db.execute("INSERT INTO runs (kind, level, postings, data) VALUES (?, ?, ?, zeroblob(?))",
                         (kind, level, postings.size, postings.nbytes))
        with db.blobopen("runs", "data", cur.lastrowid) as blob:  # type: ignore[arg-type]
            raw = postings.view(np.uint8)
            for start in range(0, raw.size, _CHUNK):  # no copy of the whole run
                blob.write(raw[start : start + _CHUNK])
        changes.append((kind, cur.lastrowid, postings))  # type: ignore[arg-type]

    def _stored_run(self, db: sqlite3.Connection, kind: str, run_id: int) -> np.ndarray:
        if (runs := self._runs.get(kind)) is not None and run_id in runs:
            return runs[run_id].data
        return _read_run(db, run_id)


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
        if signature is None:
            signature = entry.signature
        if (entry.text is None and signature is None) or entry.article_id in self._stories:
            return
        if signature is None:
            signature = self.hasher.signature(entry.text)  # type: ignore[arg-type]
        story = Story(entry.article_id, entry.source, entry.original_publisher)
        self._stories[entry.article_id] = (story, self.hasher.packed(signature))
        for key in self.hasher.band_keys(signature):
            self._bands.setdefault(key, []).append(entry.article_id)

    def add_batch(self, path: str, entries: Iterable[IndexEntry]) -> None:
        for entry in entries:
            self.add(IndexEntry(*entry))
        self._batches.add(path)
