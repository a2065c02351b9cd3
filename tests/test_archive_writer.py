"""The batch writer: closed files, manifests, and recovery after a crash at each step."""

import gzip
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive import ArchiveWriter, DedupIndex, parse_archive_uri, text_fingerprint, url_key
from archive.reader import manifests, read_articles, read_sightings
from archive.storage import FileStorage, StorageError, open_storage
from archive.writer import Recovery, new_run_id
from schemas import Article, Sighting
from schemas.article import article_id, content_sha256


def make_article(i: int) -> Article:
    text = f"Article number {i} " + " ".join(f"w{i}x{j}" for j in range(40))
    url = f"https://news.test/story-{i}"
    return Article(
        id=article_id(url),
        url=url,
        canonical_url=url,
        source="News",
        text=text,
        fetched_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
        content_sha256=content_sha256(text),
        extractor={"name": "test", "version": "1"},
    )


def visible_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for sub in ("articles", "quarantine", "sightings") for p in (root / sub).rglob("*") if p.is_file()}


def test_batches_are_closed_named_in_the_manifest_and_indexed(tmp_path):
    w = ArchiveWriter(tmp_path, run_id="run1", max_records=2)
    w.open()
    for i in range(5):
        if full := w.add(make_article(i)):
            w.commit(full)
    w.close()

    (m,) = manifests(tmp_path)
    assert m.status == "finished"
    assert [f.records for f in m.files] == [2, 2, 1]
    assert {f.path for f in m.files} == visible_files(tmp_path)
    assert all(f.path.startswith("articles/date=2024-05-01/run1-") for f in m.files)
    assert [a.id for a in read_articles(tmp_path)] == [make_article(i).id for i in range(5)]
    assert list((tmp_path / "tmp").iterdir()) == []

    index = DedupIndex(tmp_path / "state" / "index.sqlite").open()
    try:
        assert index.article_for_url(url_key("https://news.test/story-3")) == make_article(3).id
        assert index.article_for_text(text_fingerprint(make_article(4).text)) == make_article(4).id
        assert index.article_for_url(url_key("https://news.test/story-99")) is None
    finally:
        index.close()


# A child process writes 3 articles into one batch, then dies (os._exit, no cleanup) at the
# named step of the commit protocol, writing to a local archive or to S3.
CRASHER = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, {tests!r})
    from test_archive_writer import make_article
    from archive import ArchiveWriter, parse_archive_uri
    from archive.storage import FileStorage, StorageError, open_storage

    step, uri, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    storage = open_storage(uri, **options)
    w = ArchiveWriter(parse_archive_uri(uri), storage=storage, run_id="run-crash", max_records=100)
    w.open()
    for i in range(3):
        w.add(make_article(i))

    def die(*args, **kwargs):
        os._exit(9)

    if step == "while-appending":
        die()
    if step == "spooled":  # closed and safe on disk, not uploaded
        storage.put_file = die
    if step == "before-manifest":  # uploaded, not yet named by the manifest
        real_put_file = storage.put_file
        def put_file_then_die(local, key):
            real_put_file(local, key)
            die()
        storage.put_file = put_file_then_die
    if step == "before-index":
        w.index.add_batch = die
    w.close()
    """
)


def visible(storage) -> set[str]:
    return {k for kind in ("articles", "quarantine", "sightings") for k in storage.list(f"{kind}/")}


@pytest.mark.parametrize(
    ("step", "visible_after_crash", "repaired", "published"),
    [
        ("while-appending", 0, {"tmp_files_removed": 1, "runs_interrupted": 1}, 0),
        ("spooled", 0, {"spooled_uploaded": 1, "runs_interrupted": 1}, 3),
        ("before-manifest", 0, {"spooled_uploaded": 1, "runs_interrupted": 1}, 3),
        ("before-index", 3, {"batches_reindexed": 1, "runs_interrupted": 1}, 3),
    ],
)
def test_a_crash_leaves_nothing_partial_visible_and_the_next_run_recovers(
    archive_uri, step, visible_after_crash, repaired, published
):
    uri, options = archive_uri
    storage = open_storage(uri, **options)
    script = CRASHER.format(tests=str(Path(__file__).parent))
    proc = subprocess.run(
        [sys.executable, "-c", script, step, uri, json.dumps(options)], capture_output=True, text=True
    )
    assert proc.returncode == 9, proc.stderr

    # What readers see right after the crash: only complete files that a manifest names.
    assert len(list(read_articles(storage))) == visible_after_crash
    for m in manifests(storage):
        for f in m.files:
            with storage.open_read(f.path) as raw, gzip.GzipFile(fileobj=raw) as fh:
                assert len(fh.read().splitlines()) == f.records

    # The next run repairs the archive before writing: closed batches are published
    # (once), what was never closed is dropped.
    root = parse_archive_uri(uri)
    w = ArchiveWriter(root, storage=storage, run_id="run-next")
    recovery = w.open()
    assert {k: v for k, v in vars(recovery).items() if v} == repaired
    assert list((root / "tmp").iterdir()) == []
    assert [p.name for p in (root / "spool").iterdir()] == ["run-next"]
    (crashed,) = [m for m in manifests(storage) if m.run_id == "run-crash"]
    assert crashed.status == "interrupted"
    assert sum(f.records for f in crashed.files) == published
    if w.local:
        assert visible(storage) == {f.path for f in crashed.files}
    assert [a.id for a in read_articles(storage)] == [make_article(i).id for i in range(published)]
    # Articles not published by the crashed run are not claimed by the index: they will be
    # fetched and stored again; published ones are known.
    for i in range(3):
        known = w.index.article_for_url(url_key(make_article(i).url))
        assert known == (make_article(i).id if published else None)
    w.close()
    assert [m.status for m in manifests(storage)] == ["interrupted", "finished"]
    assert not (root / "spool").exists() or list((root / "spool").iterdir()) == []


def test_a_data_file_no_manifest_names_is_removed_from_a_local_archive(tmp_path):
    root = tmp_path / "archive"
    stray = root / "articles" / "date=2024-05-01" / "run-old-00001.jsonl.gz"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"partial")
    w = ArchiveWriter(root, run_id="run-next")
    assert w.open() == Recovery(orphans_removed=1)
    w.close()
    assert not stray.exists()


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("file:///data/archive", Path("/data/archive")), ("relative/dir", Path("relative/dir")), ("/abs", Path("/abs"))],
)
def test_archive_uri(uri, expected):
    assert parse_archive_uri(uri) == expected


def test_unsupported_archive_uri():
    with pytest.raises(ValueError, match="unsupported scheme 'gs'"):
        parse_archive_uri("gs://bucket/prefix")


def test_sightings_are_their_own_batches_partitioned_by_seen_date(tmp_path):
    story = make_article(1)
    sighting = Sighting(
        story_id=story.id,
        url="https://copy.test/a",
        canonical_url="https://copy.test/a",
        source="Copy",
        seen_at=datetime(2024, 5, 2, 8, tzinfo=UTC),
        match="near",
        similarity=0.91,
        original_publisher="Associated Press",
    )
    w = ArchiveWriter(tmp_path, run_id="run1")
    w.open()
    assert w.add(story) is None
    assert w.add(sighting) is None
    w.close()

    (m,) = manifests(tmp_path)
    assert sorted((f.kind, f.path) for f in m.files) == [
        ("articles", "articles/date=2024-05-01/run1-00001.jsonl.gz"),
        ("sightings", "sightings/date=2024-05-02/run1-00002.jsonl.gz"),
    ]
    assert list(read_sightings(tmp_path)) == [sighting]
    assert [a.id for a in read_articles(tmp_path)] == [story.id]


def test_closing_a_full_batch_leaves_the_next_open_batch_alone(tmp_path):
    # The store stage may add the next record (opening a new batch of the same kind and
    # day) before it closes the full one.
    w = ArchiveWriter(tmp_path, run_id="run1", max_records=2)
    w.open()
    assert w.add(make_article(0)) is None
    full = w.add(make_article(1))
    assert full is not None
    assert w.add(make_article(2)) is None
    w.spool(full)
    assert w.pending_records == 1
    w.close()
    assert [a.id for a in read_articles(tmp_path)] == [make_article(i).id for i in range(3)]


def test_a_batch_is_closed_when_it_is_old_enough(tmp_path):
    now = [0.0]
    w = ArchiveWriter(tmp_path, run_id="run1", max_seconds=60, clock=lambda: now[0])
    w.open()
    w.add(make_article(0))
    now[0] = 59.0
    assert w.expired() == []
    now[0] = 60.0
    (old,) = w.expired()
    assert old.records == 1
    assert w.pending_records == 0
    spooled = w.spool(old)
    assert w.spooled_count == 1
    assert [f.records for f in w.publish_spooled()] == [1]
    assert spooled.path.exists() is False
    w.close()
    assert [a.id for a in read_articles(tmp_path)] == [make_article(0).id]


class RefusingStorage(FileStorage):
    """A local archive that refuses the next ``refuse`` writes of the given kind."""

    def __init__(self, root, refuse: dict[str, int]) -> None:
        super().__init__(root)
        self.refuse = refuse

    def _maybe_refuse(self, what: str) -> None:
        if self.refuse.get(what, 0) > 0:
            self.refuse[what] -= 1
            raise StorageError(f"{what} refused")

    def put_file(self, local, key):
        self._maybe_refuse("put_file")
        super().put_file(local, key)

    def put_bytes(self, key, data):
        self._maybe_refuse("put_bytes")
        super().put_bytes(key, data)


@pytest.mark.parametrize("refused", ["put_file", "put_bytes"])
def test_a_refused_publish_keeps_the_batch_spooled_and_a_later_attempt_publishes_it_once(tmp_path, refused):
    storage = RefusingStorage(tmp_path, {})
    w = ArchiveWriter(tmp_path, storage=storage, run_id="run1", max_records=2)
    w.open()
    w.add(make_article(0))
    spooled = w.spool(w.add(make_article(1)))
    storage.refuse[refused] = 1  # the data file, or the manifest naming it
    with pytest.raises(StorageError, match="refused"):
        w.publish_spooled()
    assert w.spooled_count == 1 and spooled.path.exists()
    (m,) = manifests(tmp_path)
    assert m.files == []  # not visible, whatever was uploaded
    assert w.index.article_for_url(url_key(make_article(0).url)) is None  # nor claimed
    assert [f.records for f in w.publish_spooled()] == [2]
    w.close()
    (m,) = manifests(tmp_path)
    assert [f.path for f in m.files] == ["articles/date=2024-05-01/run1-00001.jsonl.gz"]
    assert [a.id for a in read_articles(tmp_path)] == [make_article(0).id, make_article(1).id]
    assert not spooled.path.exists()


def test_run_ids_sort_by_start_time_within_one_second():
    start = datetime(2026, 12, 1, 22, 45, 57, 0, tzinfo=UTC)
    ids = [new_run_id(start.replace(microsecond=ms * 1000)) for ms in (0, 1, 2, 500, 999) for _ in range(20)]
    # the random suffix never decides the order of runs started at different milliseconds
    started = [ids.index(i) // 20 for i in sorted(ids)]
    assert started == sorted(started)
    assert ids[0].startswith("20261201T224557000Z-") and ids[-1].startswith("20261201T224557999Z-")
    assert new_run_id(datetime(2026, 12, 1, 22, 45, 58, tzinfo=UTC)) > max(ids)
    # ids of the earlier form (whole seconds) still sort before the next second's runs
    assert "20261201T224556Z-ffffff" < min(ids)
