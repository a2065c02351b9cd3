"""The batch writer: closed files, manifests, and recovery after a crash at each step."""

import gzip
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive import ArchiveWriter, DedupIndex, parse_archive_uri, text_fingerprint, url_key
from archive.reader import manifests, read_articles, read_sightings
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
# named step of the commit protocol.
CRASHER = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {tests!r})
    from test_archive_writer import make_article
    import archive.writer as writer_module
    from archive import ArchiveWriter

    step = sys.argv[1]
    w = ArchiveWriter(writer_module.Path(sys.argv[2]), run_id="run-crash", max_records=100)
    w.open()
    for i in range(3):
        w.add(make_article(i))

    def die(*args, **kwargs):
        os._exit(9)

    if step == "while-appending":
        die()
    if step == "before-manifest":
        real_replace = os.replace
        def replace_then_die(src, dst):
            real_replace(src, dst)
            if "manifests" not in str(dst):
                die()
        writer_module.os.replace = replace_then_die
    if step == "before-index":
        w.index.add_batch = die
    w.close()
    """
)


@pytest.mark.parametrize(
    ("step", "published", "repaired"),
    [
        ("while-appending", 0, {"tmp_files_removed": 1, "runs_interrupted": 1}),
        ("before-manifest", 0, {"orphans_removed": 1, "runs_interrupted": 1}),
        ("before-index", 3, {"batches_reindexed": 1, "runs_interrupted": 1}),
    ],
)
def test_a_crash_leaves_nothing_partial_visible_and_the_next_run_recovers(tmp_path, step, published, repaired):
    root = tmp_path / "archive"
    script = CRASHER.format(tests=str(Path(__file__).parent))
    proc = subprocess.run([sys.executable, "-c", script, step, str(root)], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr

    # What readers see right after the crash: only complete files that a manifest names.
    assert len(list(read_articles(root))) == published
    for m in manifests(root):
        for f in m.files:
            with gzip.open(root / f.path) as fh:
                assert len(fh.read().splitlines()) == f.records

    # The next run repairs the archive before writing.
    w = ArchiveWriter(root, run_id="run-next")
    recovery = w.open()
    assert {k: v for k, v in vars(recovery).items() if v} == repaired
    assert list((root / "tmp").iterdir()) == []
    named = {f.path for m in manifests(root) for f in m.files}
    assert visible_files(root) == named
    # Articles not published by the crashed run are not claimed by the index: they will be
    # fetched and stored again; published ones are known.
    for i in range(3):
        known = w.index.article_for_url(url_key(make_article(i).url))
        assert known == (make_article(i).id if published else None)
    w.close()
    assert [m.status for m in manifests(root)] == ["interrupted", "finished"]


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


def test_a_full_batch_committed_after_the_next_batch_opened_loses_nothing(tmp_path):
    # The store stage awaits between add() and commit(): another item may open the next
    # batch of the same kind and day in between.
    w = ArchiveWriter(tmp_path, run_id="run1", max_records=2)
    w.open()
    assert w.add(make_article(0)) is None
    full = w.add(make_article(1))
    assert w.add(make_article(2)) is None
    w.commit(full)
    w.close()
    assert [a.id for a in read_articles(tmp_path)] == [make_article(i).id for i in range(3)]
