"""End to end on a real S3-compatible server (SeaweedFS on loopback): the same crawl into
s3:// and into a local folder reads back the same; S3 going away in the middle of a crawl
loses nothing and publishes nothing twice; bad credentials and missing buckets stop the
crawl before it starts."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
import pytest_twisted
from scrapy import signals
from scrapy.crawler import AsyncCrawlerRunner
from twisted.internet.defer import Deferred

from scrapy.crawler import Crawler

from archive import Archive, ArchiveWriter, parse_archive_uri
from archive.reader import manifests, read_articles, read_quarantine
from archive.storage import Storage, StorageError, open_storage
from crawler.report import RunSummary
from crawler.runner import crawl_settings
from crawler.settings import ITEM_PIPELINES
from archive.writer import new_run_id
from schemas import Article, QuarantineRecord, Sighting
from crawler.spiders.news import NewsSpider
from tests.conftest import crawl

# One request at a time: the crawl's order, and so the archive's, is the same every time.
SERIAL = {"CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}


class MirrorPipeline:
    """Writes every record the store stage will get, in the order it gets them, into a local
    archive (``TEST_MIRROR_ARCHIVE_URI``) right away: one crawl, two backends. Blocking
    writes on the reactor: tests only."""

    def __init__(self, uri: str, max_records: int) -> None:
        self.writer = ArchiveWriter(Path(uri), run_id=new_run_id(), max_records=max_records)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MirrorPipeline:
        s = crawler.settings
        return cls(s["TEST_MIRROR_ARCHIVE_URI"], s.getint("ARCHIVE_BATCH_MAX_RECORDS"))

    def open_spider(self) -> None:
        self.writer.open()

    def close_spider(self) -> None:
        self.writer.close()

    def process_item(self, item: object) -> object:
        if isinstance(item, (Article, QuarantineRecord, Sighting)) and (full := self.writer.add(item)):
            self.writer.commit(full)
        return item


def comparable(articles):
    """Articles as the reader returns them, without the one field that differs between two
    crawls (the fetch time)."""
    return [a.model_dump(exclude={"fetched_at"}) for a in articles]


def assert_only_whole_batches_visible(storage: Storage) -> None:
    """Every file a manifest names is there, complete: its record count and checksum."""
    import hashlib

    for m in manifests(storage):
        for f in m.files:
            data = storage.get_bytes(f.path)
            assert len(data) == f.bytes
            assert hashlib.sha256(data).hexdigest() == f.sha256
            if f.kind == "warc":
                # a WARC file's count is of the pages (response records) it holds
                kinds = [r.rec_type for r in ArchiveIterator(io.BytesIO(data))]
                assert kinds.count("response") == f.records
            else:
                assert len([line for line in gzip.decompress(data).splitlines() if line.strip()]) == f.records


@pytest_twisted.ensureDeferred
async def test_a_crawl_into_s3_and_into_a_local_folder_reads_back_the_same(newsweb, tmp_path, s3server, s3_bucket):
    web, server = newsweb
    local = tmp_path / "archive"
    uri = f"s3://{s3_bucket}/news"
    stats = await crawl(
        web, server, tmp_path / "s3-run",
        ARCHIVE_URI=uri,
        RELEVANCE_ENABLED=False,  # store the off-topic pages too: more batches
        ARCHIVE_BATCH_MAX_RECORDS=7,
        ITEM_PIPELINES={**ITEM_PIPELINES, "tests.test_archive_s3.MirrorPipeline": 399},
        TEST_MIRROR_ARCHIVE_URI=str(local),
        **s3server.settings,
    )  # fmt: skip
    storage = open_storage(uri, **s3server.storage_options)

    from_local = list(read_articles(local))
    from_s3 = list(read_articles(storage))
    assert len(from_s3) == stats["archive/stored"] > 7
    assert from_s3 == from_local  # same records, same order
    assert list(read_quarantine(storage)) == list(read_quarantine(local))
    # the same batches: partition, records, bytes and checksum (names differ by run id;
    # the mirror keeps no raw responses: the S3 archive's WARC files are checked below)
    (m_local,) = manifests(local)
    (m_s3,) = manifests(storage)
    assert m_s3.status == m_local.status == "finished"
    assert [(f.kind, f.records, f.sha256, f.path.replace(m_s3.run_id, "RUN")) for f in m_s3.files if f.kind != "warc"] == [
        (f.kind, f.records, f.sha256, f.path.replace(m_local.run_id, "RUN")) for f in m_local.files
    ]
    # the raw page of every article is read back from the bucket's WARC files
    archive = Archive.open(storage)
    for article in from_s3:
        assert archive.raw(article).url == article.url
    assert_only_whole_batches_visible(storage)
    assert stats["archive/uploaded"] == len(m_s3.files)
    assert "archive/upload_errors" not in stats
    assert stats["archive/root"] == uri
    # the state is local to this machine, and complete: nothing left in the spool
    state = parse_archive_uri(uri)
    assert (state / "state" / "index.sqlite").is_file()
    assert list((state / "spool").iterdir()) == []
    # the bucket keeps a copy of the dedup index (for another machine), nothing else local
    assert [k for k in storage.list() if k.startswith(("state/", "spool/", "tmp/"))] == ["state/index.sqlite"]


@pytest.mark.parametrize("snapshot", [True, False], ids=["index-snapshot", "no-snapshot"])
@pytest_twisted.ensureDeferred
async def test_a_fresh_machine_gets_its_dedup_index_from_the_bucket(
    newsweb, tmp_path, s3server, s3_bucket, monkeypatch, snapshot
):
    web, server = newsweb
    uri = f"s3://{s3_bucket}/news"
    first = await crawl(web, server, tmp_path / "run1", ARCHIVE_URI=uri, RELEVANCE_ENABLED=False, **s3server.settings)
    if not snapshot:
        open_storage(uri, **s3server.storage_options).delete("state/index.sqlite")
    monkeypatch.setenv("NEWSARCHIVE_CACHE_DIR", str(tmp_path / "other-machine"))
    second = await crawl(web, server, tmp_path / "run2", ARCHIVE_URI=uri, RELEVANCE_ENABLED=False, **s3server.settings)
    if snapshot:  # the last run's copy, then nothing left to index
        assert second["archive/recovery/index_restored"] == 1
        assert "archive/recovery/batches_reindexed" not in second
    else:  # rebuilt from the published batches
        assert "archive/recovery/index_restored" not in second
        indexed_kinds = ("articles", "sightings")  # (WARC files hold no index entries)
        batches = [f for m in manifests(open_storage(uri, **s3server.storage_options)) for f in m.files]
        assert second["archive/recovery/batches_reindexed"] == len([f for f in batches if f.kind in indexed_kinds])
    assert second.get("archive/stored", 0) == 0
    # every page stored or sighted by the first run is known before it is requested
    assert second.get("news/pages", 0) == 0
    assert second["discovery/skipped_seen"] == first["archive/stored"] + first.get("archive/sightings", 0)


async def crawl_with_hook(web, server, archive_uri: str, on_stored, **overrides):
    """Like ``crawl``, calling ``on_stored(n)`` after the n-th stored record."""
    sources = parse_archive_uri(archive_uri).parent / "hook-sources.toml"
    sources.parent.mkdir(parents=True, exist_ok=True)
    sources.write_text(web.sources_toml(), encoding="utf-8")
    settings = crawl_settings(
        archive_uri,
        {
            "PROXY_URL": server.url,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "RETRY_TIMES": 0,
            **overrides,
        },
    )
    runner = AsyncCrawlerRunner(settings)
    crawler = runner.create_crawler(NewsSpider)
    stored = 0

    def item_scraped(item, response, spider):
        nonlocal stored
        stored += 1
        on_stored(stored)

    crawler.signals.connect(item_scraped, signal=signals.item_scraped)
    await Deferred.fromFuture(runner.crawl(crawler, sources=str(sources)))
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


FAST_FAILURE = {
    "ARCHIVE_BATCH_MAX_RECORDS": 2,
    "RELEVANCE_ENABLED": False,
    "WARC_ENABLED": False,  # these tests count records per published file
    "ARCHIVE_UPLOAD_RETRY_SECONDS": 0.2,
    "ARCHIVE_S3_MAX_ATTEMPTS": 1,
    **SERIAL,
}


def expected_stories(web):
    return Counter({a.story: 1 for a in web.articles if not a.disallowed})


@pytest_twisted.ensureDeferred
async def test_s3_down_for_the_rest_of_a_crawl_loses_nothing_and_the_next_run_uploads_it(
    newsweb, s3server, s3_bucket
):
    web, server = newsweb
    uri = f"s3://{s3_bucket}/news"
    storage = open_storage(uri, **s3server.storage_options)

    def stop_after_6(n):
        if n == 6:
            s3server.stop()  # blocks the reactor for a moment: the outage begins now

    try:
        first = await crawl_with_hook(web, server, uri, stop_after_6, **FAST_FAILURE, **s3server.settings)
    finally:
        s3server.start()
    stored = first["archive/stored"]
    assert first["finish_reason"] == "finished"
    assert first["archive/upload_errors"] >= 1
    spooled = first["archive/spooled"]
    assert spooled >= 1
    records = stored + first.get("archive/sightings", 0)  # copies are kept as sightings
    assert first["archive/spooled_records"] + 2 * first.get("archive/uploaded", 0) == records
    summary = RunSummary(first)
    assert not summary.ok
    assert f"ARCHIVE UPLOAD PENDING: {spooled} closed batches" in summary.format()

    # With the server back, a reader sees only whole batches (those uploaded before the
    # outage), each article once.
    before = sum(f.records for m in manifests(storage) for f in m.files)
    assert before == 2 * first.get("archive/uploaded", 0) < records
    assert_only_whole_batches_visible(storage)
    # The run's manifest in the bucket still says "running": it could not be updated.
    assert [m.status for m in manifests(storage)] == ["running"]

    # The next run uploads the spool before crawling; it finds nothing new.
    second = await crawl(web, server, Path(str(parse_archive_uri(uri))), ARCHIVE_URI=uri, RELEVANCE_ENABLED=False, **s3server.settings)
    assert second["archive/recovery/spooled_uploaded"] == spooled
    assert second.get("archive/stored", 0) == 0
    assert "archive/spooled" not in second
    assert "uploaded %d batches left in the local spool" % spooled in RunSummary(second).format()

    articles = list(read_articles(storage))
    assert Counter(a.id for a in articles).most_common(1)[0][1] == 1  # none twice
    assert len(articles) == stored
    assert Counter(web.article(a.url).story for a in articles) == expected_stories(web)
    assert_only_whole_batches_visible(storage)
    assert [m.status for m in manifests(storage)] == ["finished", "finished"]
    assert list((parse_archive_uri(uri) / "spool").iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_s3_back_during_the_crawl_gets_everything_in_the_same_run(newsweb, s3server, s3_bucket):
    web, server = newsweb
    uri = f"s3://{s3_bucket}/news"
    storage = open_storage(uri, **s3server.storage_options)

    def outage(n):
        if n == 4:
            s3server.stop()
        if n == 14:
            s3server.start()

    try:
        stats = await crawl_with_hook(web, server, uri, outage, **FAST_FAILURE, **s3server.settings)
    finally:
        if not s3server.running:
            s3server.start()
    assert stats["archive/upload_errors"] >= 1
    assert "archive/spooled" not in stats
    assert RunSummary(stats).ok
    articles = list(read_articles(storage))
    assert len(articles) == stats["archive/stored"], (
        [(f.path, f.records) for m in manifests(storage) for f in m.files],
        list(storage.list()),
        {k: v for k, v in stats.items() if k.startswith("archive/")},
    )
    assert Counter(a.id for a in articles).most_common(1)[0][1] == 1
    assert Counter(web.article(a.url).story for a in articles) == expected_stories(web)
    assert_only_whole_batches_visible(storage)
    (m,) = manifests(storage)
    assert m.status == "finished"
    assert stats["archive/uploaded"] == len(m.files)


def newsarchive(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.fixture
def sources_file(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n')
    return sources


def _settings_args(settings):
    return [a for k, v in settings.items() for a in ("-s", f"{k}={v}")]


def test_a_missing_bucket_exits_2_before_crawling(s3server, sources_file, tmp_path, monkeypatch):
    import os

    env = {**os.environ, "NEWSARCHIVE_CACHE_DIR": str(tmp_path / "cache")}
    proc = newsarchive(
        "crawl", "--sources", str(sources_file), "--out", "s3://no-such-bucket/news",
        *_settings_args(s3server.settings), env=env,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "archive 's3://no-such-bucket/news' cannot be written" in proc.stderr
    assert "bucket 'no-such-bucket' does not exist" in proc.stderr


def test_wrong_credentials_exit_2_before_crawling(s3server, s3_bucket, sources_file, tmp_path):
    import os

    env = {**os.environ, "NEWSARCHIVE_CACHE_DIR": str(tmp_path / "cache")}
    settings = {**s3server.settings, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    proc = newsarchive(
        "crawl", "--sources", str(sources_file), "--out", f"s3://{s3_bucket}/news", *_settings_args(settings), env=env
    )
    assert proc.returncode == 2, proc.stderr
    assert f"archive 's3://{s3_bucket}/news' cannot be written" in proc.stderr
    assert "access denied (403); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in proc.stderr


@pytest_twisted.ensureDeferred
async def test_the_store_stage_checks_the_bucket_when_the_spider_opens(newsweb, tmp_path, s3server, monkeypatch):
    monkeypatch.setenv("NEWSARCHIVE_CACHE_DIR", str(tmp_path / "cache"))
    web, server = newsweb
    with pytest.raises(StorageError, match="bucket 'no-such-bucket' does not exist"):
        await crawl(web, server, tmp_path / "x", ARCHIVE_URI="s3://no-such-bucket/news", RELEVANCE_ENABLED=False, **s3server.settings)


@pytest_twisted.ensureDeferred
async def test_killing_the_crawler_in_the_middle_of_a_batch_leaves_nothing_half_written_visible(
    newsweb, archive_uri, tmp_path
):
    import os
    import signal
    import time

    web, server = newsweb
    uri, options = archive_uri
    storage = open_storage(uri, **options)
    sources = tmp_path / "sources.toml"
    sources.write_text(web.sources_toml(), encoding="utf-8")
    settings = {
        "PROXY_URL": server.url,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0.05,
        "ARCHIVE_BATCH_MAX_RECORDS": 3,
        "RELEVANCE_ENABLED": False,
        "WARC_ENABLED": False,  # this test counts records per published file
        **SERIAL,
        **s3server_settings(options),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "--sources", str(sources), "--out", uri, *_settings_args(settings)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # wait until two batches are published and another one is being filled
        tmp = parse_archive_uri(uri) / "tmp"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if len([f for m in manifests(storage) for f in m.files]) >= 2 and tmp.is_dir() and any(tmp.iterdir()):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the crawl ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()

    # Right after the kill: only whole batches are visible, named by the (running) manifest.
    (crashed,) = manifests(storage)
    assert crashed.status == "running"
    assert_only_whole_batches_visible(storage)
    seen = [a.id for a in read_articles(storage)]
    assert sum(f.records for f in crashed.files) == 3 * len(crashed.files)
    assert len(set(seen)) == len(seen)
    local = parse_archive_uri(uri)
    being_filled = list((local / "tmp").iterdir())
    named = {f.path for f in crashed.files}
    closed_not_published = [
        p for p in (local / "spool").rglob("*.jsonl.gz") if p.relative_to(p.parents[2]).as_posix() not in named
    ]
    assert being_filled or closed_not_published  # (almost always the first: the poll is quick)

    # The next run repairs, then stores what the killed one had not published: every
    # story once.
    stats = await crawl(web, server, tmp_path / "next", ARCHIVE_URI=uri, RELEVANCE_ENABLED=False, **s3server_settings(options))
    assert stats.get("archive/recovery/tmp_files_removed", 0) == len(being_filled)
    assert stats.get("archive/recovery/spooled_uploaded", 0) == len(closed_not_published)
    assert stats["archive/recovery/runs_interrupted"] == 1
    articles = list(read_articles(storage))
    assert Counter(a.id for a in articles).most_common(1)[0][1] == 1
    assert Counter(web.article(a.url).story for a in articles) == expected_stories(web)
    assert [m.status for m in manifests(storage)] == ["interrupted", "finished"]
    assert_only_whole_batches_visible(storage)


def s3server_settings(options):
    """Storage options of an S3 archive as AWS_* settings ({} for a local archive)."""
    names = {
        "endpoint_url": "AWS_ENDPOINT_URL",
        "access_key_id": "AWS_ACCESS_KEY_ID",
        "secret_access_key": "AWS_SECRET_ACCESS_KEY",
        "region_name": "AWS_REGION_NAME",
    }
    return {names[k]: v for k, v in options.items()}
