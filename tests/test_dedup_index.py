"""The dedup index survives a kill during a write: no corruption, every batch it lists is
whole, the batch being written is all there or not at all; the archive writer indexes
again a published batch the index lost, so the next run knows its articles."""

from __future__ import annotations

import queue
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from archive import ArchiveWriter
from archive.index import DedupIndex, text_fingerprint, url_key
from archive.reader import read_articles
from pipelines.dedup import DedupPipeline
from schemas import Article, Sighting
from schemas.article import article_id, content_sha256

ROOT = Path(__file__).resolve().parents[1]
BATCH = 2000


def entry_text(batch: int, i: int) -> str:
    """A text of its own per entry (no two share a shingle)."""
    return " ".join(f"w{batch}x{i}x{j}" for j in range(120))


def entry_url(batch: int, i: int) -> str:
    return f"https://news.test/{batch}/{i}"


def entry_id(batch: int, i: int) -> str:
    return f"b{batch}-{i}"


# The child indexes batches of BATCH entries for ever, saying "begin N" before each and
# "done N" after it. A small page cache makes SQLite spill the open transaction's pages to
# the WAL file while it runs, so a kill lands in the middle of real writes.
WRITER = textwrap.dedent(
    f"""
    import itertools, sys
    sys.path.insert(0, {str(Path(__file__).parent)!r})
    from test_dedup_index import BATCH, entry_id, entry_text, entry_url
    from archive.index import DedupIndex, IndexEntry, text_fingerprint, url_key

    index = DedupIndex(sys.argv[1], cache_mib=1).open()
    for n in itertools.count(int(sys.argv[2])):
        entries = [
            IndexEntry(entry_id(n, i), (url_key(entry_url(n, i)),), text_fingerprint(entry_text(n, i)),
                       entry_text(n, i), "News", None)
            for i in range(BATCH)
        ]
        print("begin", n, flush=True)
        index.add_batch(f"batch-{{n}}", entries)
        print("done", n, flush=True)
    """
)


class _Child:
    """The writer child, its output lines read by a thread (so waits can time out)."""

    def __init__(self, path: Path, first: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(first)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def wait_for(self, wanted: str) -> None:
        while True:
            try:
                line = self.lines.get(timeout=120)
            except queue.Empty:
                raise AssertionError(f"the writer never said {wanted!r}; stderr: {self._stderr()}") from None
            self.seen.append(line)
            if line == wanted:
                return

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reader.join(timeout=30)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        stderr = self._stderr()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert self.proc.returncode == -signal.SIGKILL, stderr

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


def _batch_number(name: str) -> int:
    return int(name.removeprefix("batch-"))


def _check_index(path: Path, done: set[int], killed: int) -> bool:
    """Check the index after a kill while batch ``killed`` was being written; return
    whether that batch made it in."""
    index = DedupIndex(path).open()
    try:
        db = index.db
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        listed = {_batch_number(b) for b in index.indexed_batches()}
        assert done <= listed  # a committed batch is never lost
        assert listed <= done | {killed}
        # every listed batch has every entry, and nothing else is there
        for n in sorted(listed):
            for i in range(BATCH):
                assert index.article_for_url(url_key(entry_url(n, i))) == entry_id(n, i)
                assert index.article_for_text(text_fingerprint(entry_text(n, i))) == entry_id(n, i)
            for i in range(0, BATCH, 100):
                match = index.near(index.hasher.signature(entry_text(n, i)), 0.99)
                assert match is not None and match.story.article_id == entry_id(n, i)
        for table in ("url_keys", "fingerprints", "stories"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (BATCH * len(listed),)
        stories = BATCH * len(listed)
        band_postings = [np.frombuffer(data, dtype="<u8")
                         for (data,) in db.execute("SELECT data FROM runs WHERE kind = 'band'")]
        band_numbers = (np.concatenate(band_postings) & 0xFFFFFFFF).tolist() if band_postings else []
        assert len(band_numbers) == stories * index.hasher.bands
        assert set(band_numbers) <= {n for (n,) in db.execute("SELECT n FROM stories")}
        assert db.execute("SELECT records FROM batches").fetchall() == [(BATCH,)] * len(listed)
        if killed not in listed:  # the batch cut short left nothing behind
            prefix = f"b{killed}-%"
            for table in ("url_keys", "fingerprints", "stories"):
                assert db.execute(f"SELECT count(*) FROM {table} WHERE article_id LIKE ?", (prefix,)).fetchone() == (0,)
        return killed in listed
    finally:
        index.close()


# Where in a batch's writing the kill lands, as a share of the time one batch took.
KILL_POINTS = (0.3, 0.6, 0.9, 0.99)


def test_a_kill_while_indexing_a_batch_leaves_the_index_whole(tmp_path: Path) -> None:
    path = tmp_path / "state" / "index.sqlite"
    done: set[int] = set()
    next_batch = 0
    kills_mid_batch = 0
    attempts = 0
    while kills_mid_batch < len(KILL_POINTS):
        attempts += 1
        assert attempts <= 3 * len(KILL_POINTS), "the kill never landed while a batch was being written"
        child = _Child(path, next_batch)
        try:
            # one whole batch first (and its duration, to aim the kill inside the next one)
            child.wait_for(f"begin {next_batch}")
            started = time.monotonic()
            child.wait_for(f"done {next_batch}")
            took = time.monotonic() - started
            child.wait_for(f"begin {next_batch + 1}")
            time.sleep(took * KILL_POINTS[kills_mid_batch])
        finally:
            child.kill()
        done |= {int(line.split()[1]) for line in child.seen if line.startswith("done ")}
        begun = max(int(line.split()[1]) for line in child.seen if line.startswith("begin "))
        assert path.with_name("index.sqlite-wal").exists()  # the kill left the WAL to recover from
        made_it = _check_index(path, done, begun)
        if begun not in done:
            kills_mid_batch += 1
            if made_it:  # committed, but killed before it could say so
                done.add(begun)
        next_batch = begun + 1


# -- the writer indexes again what the index lost ------------------------------------------------

FETCHED = datetime(2024, 5, 1, 12, tzinfo=UTC)
_VOCABULARY = (
    "council voted extend night bus network northern suburbs after consultation residents asked later "
    "services lines run every twenty minutes until morning transport office said councillor extension "
    "cost less expected existing depots opposition questioned timetable review first months service "
    "budget mayor drivers union fares tickets stations routes river bridge hospital school market"
).split()


def story_text(i: int) -> str:
    """About 80 words of its own per story: two stories share almost no 5-word shingle."""
    rng = random.Random(i)
    return " ".join(rng.choice(_VOCABULARY) for _ in range(80)) + "."


def make_article(i: int, *, url: str | None = None, text: str | None = None) -> Article:
    url = url or f"https://www.news.test/2024/05/story-{i}"
    text = text or story_text(i)
    return Article(
        id=article_id(url),
        url=url,
        canonical_url=url,
        source="News",
        text=text,
        fetched_at=FETCHED,
        content_sha256=content_sha256(text),
        extractor={"name": "test", "version": "1"},
    )


# The child publishes batch 1 (indexed), then batch 2, and is killed (SIGKILL) in the
# middle of indexing batch 2: its records are published and named by the manifest, and
# half of its index entries were inserted in the open transaction.
PUBLISHER = textwrap.dedent(
    f"""
    import os, signal, sys
    sys.path.insert(0, {str(Path(__file__).parent)!r})
    from test_dedup_index import make_article
    from archive import ArchiveWriter

    w = ArchiveWriter(sys.argv[1], run_id="run-killed", max_records=4)
    w.open()
    for i in range(4):
        if full := w.add(make_article(i)):
            w.commit(full)
    real_add_batch = w.index.add_batch

    def killed_midway(path, entries):
        def entries_then_kill():
            for n, entry in enumerate(entries):
                if n == 2:
                    os.kill(os.getpid(), signal.SIGKILL)
                yield entry
        real_add_batch(path, entries_then_kill())

    w.index.add_batch = killed_midway
    for i in range(4, 8):
        if full := w.add(make_article(i)):
            w.commit(full)
    """
)


def test_the_writer_indexes_again_a_published_batch_a_kill_left_out(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    proc = subprocess.run([sys.executable, "-c", PUBLISHER, str(root)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    # Right after the kill: both batches are published; the index knows the first only.
    assert [a.id for a in read_articles(root)] == [make_article(i).id for i in range(8)]
    index = DedupIndex(root / "state" / "index.sqlite").open()
    try:
        assert index.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert len(index.indexed_batches()) == 1
        known = [index.article_for_url(url_key(make_article(i).url)) for i in range(8)]
        assert known == [make_article(i).id for i in range(4)] + [None] * 4
        assert index.article_for_text(text_fingerprint(make_article(4).text)) is None
    finally:
        index.close()

    # The next run: the dedup stage opens the index first (pipeline order), then the store
    # stage's writer repairs it; the dedup stage sees the repair.
    crawler = get_crawler(settings_dict={"ARCHIVE_URI": str(root)})
    stats = crawler.stats
    assert stats is not None
    dedup = DedupPipeline.from_crawler(crawler)
    dedup.open_spider()
    try:
        writer = ArchiveWriter(root, run_id="run-next")
        recovery = writer.open()
        try:
            assert recovery.batches_reindexed == 1
            assert recovery.runs_interrupted == 1
            assert len(writer.index.indexed_batches()) == 2
        finally:
            writer.close()
        # The article whose index entry the kill lost is checked again, and known as stored:
        # fetched again under another URL of the page, it is dropped ...
        with pytest.raises(DropItem, match=f"stored as article {make_article(5).id}"):
            dedup.process_item(make_article(5, url="https://m.news.test/2024/05/story-5/amp?utm_source=rss"))
        # ... and a copy of its text elsewhere is a sighting of it, not a new article.
        copy = dedup.process_item(make_article(5, url="https://copies.test/story-5"))
        assert isinstance(copy, Sighting)
        assert (copy.story_id, copy.match) == (make_article(5).id, "text")
        near = make_article(6, url="https://copies.test/story-6", text=make_article(6).text + " Reporting by a wire agency.")
        sighting = dedup.process_item(near)
        assert isinstance(sighting, Sighting)
        assert (sighting.story_id, sighting.match) == (make_article(6).id, "near")
        fresh = make_article(99)
        assert dedup.process_item(fresh) is fresh
    finally:
        dedup.close_spider()
    assert stats.get_value("dedup/dropped_url") == 1
    assert stats.get_value("dedup/dropped_text") == 1
    assert stats.get_value("dedup/dropped_near") == 1


def test_a_lost_batch_row_is_indexed_again_on_open(tmp_path: Path) -> None:
    """The index claims nothing it does not list: a batch row removed (as by a restore of an
    older copy) is indexed again from the manifest, entries included."""
    root = tmp_path / "archive"
    writer = ArchiveWriter(root, run_id="run1", max_records=2)
    writer.open()
    for i in range(3):
        if full := writer.add(make_article(i)):
            writer.commit(full)
    writer.close()
    db = sqlite3.connect(root / "state" / "index.sqlite")
    try:
        with db:
            (last,) = db.execute("SELECT max(path) FROM batches").fetchone()
            db.execute("DELETE FROM batches WHERE path = ?", (last,))
            db.execute("DELETE FROM url_keys WHERE article_id = ?", (make_article(2).id,))
    finally:
        db.close()

    writer = ArchiveWriter(root, run_id="run2")
    assert writer.open().batches_reindexed == 1
    try:
        assert writer.index.article_for_url(url_key(make_article(2).url)) == make_article(2).id
        assert len(writer.index.indexed_batches()) == 2
    finally:
        writer.close()
