"""The dedup index's sorted runs: every key and story is found whatever level of runs holds
it, by this connection and by another one, after merges and after a reopen; a key indexed
once keeps its article; an index of the previous layout is emptied for the writer to rebuild."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

import archive.index as index_module
from archive.index import LAYOUT, DedupIndex, IndexEntry, MinHasher

STORIES_PER_BATCH = 7


@pytest.fixture
def small_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Levels of a few hundred postings, so that a few hundred stories make every kind of run."""
    monkeypatch.setattr(index_module, "LEVEL_POSTINGS", (64, 256, 1024))
    monkeypatch.setattr(index_module, "DIRECTORY_MIN", 512)


def story(n: int) -> IndexEntry:
    signature = np.random.default_rng(n).integers(0, 2**32, size=MinHasher().num_perm, dtype=np.uint64).astype(np.uint32)
    return IndexEntry(f"article-{n}", (f"url-{n}", f"amp-url-{n}"), f"fp-{n}", None, f"Outlet {n % 3}", None, signature)


def check_all_found(index: DedupIndex, stories: range) -> None:
    for n in stories:
        entry = story(n)
        match = index.near(entry.signature, 0.99)  # type: ignore[arg-type]
        assert match is not None and match.story.article_id == entry.article_id and match.similarity == 1.0
        assert index.article_for_url(f"url-{n}") == index.article_for_url(f"amp-url-{n}") == entry.article_id
        assert index.article_for_text(f"fp-{n}") == entry.article_id
        assert index.story(entry.article_id) is not None
        assert index.story(entry.article_id).source == f"Outlet {n % 3}"  # type: ignore[union-attr]
    assert index.article_for_url("url-unknown") is None
    assert index.article_for_text("fp-unknown") is None
    assert index.story("article-unknown") is None
    other = np.random.default_rng(10**6).integers(0, 2**32, size=index.hasher.num_perm, dtype=np.uint64).astype(np.uint32)
    assert index.near(other, 0.5) is None


def test_stories_are_found_in_every_level_of_runs_by_every_connection(tmp_path: Path, small_levels: None) -> None:
    path = tmp_path / "index.sqlite"
    writer = DedupIndex(path).open()
    reader = DedupIndex(path).open()  # another connection, its runs loaded before the writes
    try:
        assert reader.near(story(0).signature, 0.5) is None  # type: ignore[arg-type]
        assert reader.article_for_url("url-0") is None
        batches = 60
        for b in range(batches):
            stories = range(b * STORIES_PER_BATCH, (b + 1) * STORIES_PER_BATCH)
            writer.add_batch(f"batch-{b}", [story(n) for n in stories])
            if b % 20 == 19:  # the reader follows the writes as they come
                check_all_found(reader, range((b + 1) * STORIES_PER_BATCH))
        total = batches * STORIES_PER_BATCH
        check_all_found(writer, range(total))
        check_all_found(reader, range(total))

        db = writer.db
        levels = {kind: sorted(level for (level,) in db.execute("SELECT level FROM runs WHERE kind = ?", (kind,)))
                  for kind in ("url", "text", "story", "band")}
        # runs past the last level (3 x 1,024 postings) stay runs of their own
        assert levels == {"url": [2], "text": [1, 2], "story": [1, 2], "band": [3] * 10}
        # every posting is there once, and names a row that exists
        for kind, table, per_story in (("url", "url_keys", 2), ("text", "fingerprints", 1), ("story", "stories", 1),
                                       ("band", "stories", writer.hasher.bands)):
            postings = np.concatenate([np.frombuffer(data, dtype="<u8") for (data,) in
                                       db.execute("SELECT data FROM runs WHERE kind = ?", (kind,))])
            assert postings.size == total * per_story
            assert db.execute("SELECT sum(postings) FROM runs WHERE kind = ?", (kind,)).fetchone() == (postings.size,)
            numbers = set((postings & 0xFFFFFFFF).tolist())
            assert numbers == {n for (n,) in db.execute(f"SELECT n FROM {table}")}
        assert any(run.offsets is not None for run in reader._runs["band"].values())  # the directory path ran
    finally:
        writer.close()
        reader.close()

    again = DedupIndex(path).open()
    try:
        check_all_found(again, range(total))
        assert len(again.indexed_batches()) == batches
    finally:
        again.close()


def test_a_key_indexed_once_keeps_its_article(tmp_path: Path) -> None:
    index = DedupIndex(tmp_path / "index.sqlite").open()
    try:
        first, second = story(1), story(2)
        index.add_batch("one", [first])
        # the same keys again, under another article: in a later batch and twice in one batch
        index.add_batch("two", [IndexEntry("other", first.url_keys, first.fingerprint, None, "Other", None, second.signature),
                                second, IndexEntry("third", second.url_keys, second.fingerprint)])
        index.add_batch("three", [first])  # the same story indexed again
        assert index.article_for_url("url-1") == index.article_for_text("fp-1") == "article-1"
        assert index.article_for_url("url-2") == index.article_for_text("fp-2") == "article-2"
        assert index.story("other") is not None  # its own story (its id is new), with its signature
        match = index.near(second.signature, 0.99)  # type: ignore[arg-type]
        assert match is not None and match.story.article_id == "other"  # stored first, with that signature
        counts = {t: index.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("url_keys", "fingerprints", "stories")}
        assert counts == {"url_keys": 4, "fingerprints": 2, "stories": 3}
        assert index.indexed_batches() == {"one", "two", "three"}
    finally:
        index.close()


_PREVIOUS_LAYOUT = """
CREATE TABLE url_keys (key TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE fingerprints (fp TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE batches (path TEXT PRIMARY KEY, records INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE stories (n INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE, source TEXT, original_publisher TEXT,
                      signature BLOB);
CREATE TABLE bands (key INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n)) WITHOUT ROWID;
INSERT INTO url_keys VALUES ('url-1', 'article-1');
INSERT INTO batches VALUES ('articles/batch-1.jsonl.gz', 1);
INSERT INTO meta VALUES ('minhash', 'mshift-crc32-v1'), ('num_perm', '128'), ('bands', '32'), ('shingle_size', '5');
"""


def test_an_index_of_the_previous_layout_is_emptied_for_the_writer_to_index_again(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    db = sqlite3.connect(path)
    db.executescript(_PREVIOUS_LAYOUT)
    db.close()

    index = DedupIndex(path).open()
    try:
        assert index.indexed_batches() == set()  # the writer's recovery indexes every batch again
        assert index.article_for_url("url-1") is None
        tables = {name for (name,) in index.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "bands" not in tables and "runs" in tables
        assert index.db.execute("SELECT value FROM meta WHERE name = 'layout'").fetchone() == (LAYOUT,)
        index.add_batch("articles/batch-1.jsonl.gz", [story(1)])
    finally:
        index.close()
    index = DedupIndex(path).open()  # the new layout is kept
    try:
        assert index.indexed_batches() == {"articles/batch-1.jsonl.gz"}
        assert index.article_for_url("url-1") == "article-1"
    finally:
        index.close()
