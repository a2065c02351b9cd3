"""End to end for consumers: three crawls into one archive, read as a downstream consumer would.

Each crawl serves a bigger local news web (the same outlets and seed stories plus more
off-topic articles), so every crawl stores new articles, and the consumer, reading with a
cursor after each crawl, must get each of them exactly once. Then the raw pages, the
re-extraction from WARC, and the Parquet export are checked on the same archive.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC
from urllib.parse import urlsplit

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from warcio.archiveiterator import ArchiveIterator

from archive import Archive, Cursor
from crawler.cli import main
from crawler.reextract import reextract
from newsweb import NewsWeb, NewsWebServer
from tests.conftest import crawl

SIZES = (4, 8, 12)


@pytest.fixture(scope="module")
def three_crawls(tmp_path_factory):
    """The archive after three crawls, what a cursor consumer read after each, and the webs."""
    root = tmp_path_factory.mktemp("consumer")
    archive_path = root / "archive"
    cursor_file = root / "cursor.json"
    webs = [NewsWeb(size=size) for size in SIZES]
    rounds = []

    async def run_all():
        for web in webs:
            with NewsWebServer(web) as server:
                # the webs grow by off-topic articles: keep them, so that each crawl stores new ones
                stats = await crawl(web, server, archive_path, ARCHIVE_BATCH_MAX_RECORDS=5, RELEVANCE_ENABLED=False)
            cursor = Cursor.load(cursor_file)
            read = list(Archive.open(archive_path).articles(cursor=cursor))
            cursor.save()
            rounds.append((stats, read))

    pytest_twisted.blockon(Deferred.fromCoroutine(run_all()))
    return archive_path, cursor_file, webs, rounds


def test_a_cursor_consumer_gets_every_record_of_three_crawls_exactly_once(three_crawls):
    archive_path, cursor_file, webs, rounds = three_crawls
    archive = Archive.open(archive_path)
    everything = list(archive.articles())
    got = [a for _, read in rounds for a in read]

    for stats, read in rounds:
        assert stats["finish_reason"] == "finished"
        assert len(read) == stats["archive/stored"] > 0
    # crawl 1 stores the seed stories and 4 off-topic articles; each later crawl 4 more
    assert [len(read) for _, read in rounds][1:] == [4, 4]
    assert Counter(a.id for a in got) == Counter({a.id: 1 for a in everything})
    assert got == everything
    assert len(archive.run_ids()) == 3

    # the same through the command line: nothing new now, everything after the first run
    assert main(["ls", "--archive", str(archive_path), "--cursor", str(cursor_file)]) == 0
    first_run = archive.run_ids()[0]
    later = [a.id for _, read in rounds[1:] for a in read]
    assert [a.id for a in archive.articles(since_run=first_run)] == later


def test_ls_stats_show_from_the_command_line(three_crawls, capsys, tmp_path):
    archive_path, _, _, rounds = three_crawls
    archive = Archive.open(archive_path)
    everything = list(archive.articles())

    capsys.readouterr()
    assert main(["ls", "--archive", str(archive_path), "--source", "RT"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [a.id for a in everything if a.source == "RT"]

    fresh_cursor = tmp_path / "c.json"
    assert main(["ls", "--archive", str(archive_path), "--cursor", str(fresh_cursor)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(everything)
    assert main(["ls", "--archive", str(archive_path), "--cursor", str(fresh_cursor)]) == 0
    assert capsys.readouterr().out == ""

    runs = Archive.open(archive_path).manifests()
    assert main(["runs", "--archive", str(archive_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [[m.run_id, "finished"] for m in runs]
    assert f"articles={len(rounds[1][1])} " in lines[1]

    # a day given as the end of a range includes that day
    today = everything[0].fetched_at.date().isoformat()
    assert main(["ls", "--archive", str(archive_path), "--fetched-until", today, "--fetched-since", today]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(everything)
    assert main(["ls", "--archive", str(archive_path), "--fetched-until", "2000-01-01"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["ls", "--archive", str(archive_path), "--published-since", "2023-06-19",
                 "--published-until", "2023-06-19T23:59:59+00:00"]) == 0
    on_the_day = [
        a.id for a in everything if a.published_at and a.published_at.astimezone(UTC).date().isoformat() == "2023-06-19"
    ]
    assert on_the_day
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == on_the_day

    exported = tmp_path / "new.jsonl"
    export_cursor = tmp_path / "export.cursor"
    for expected in (len(everything), 0):
        assert main(["export", "--archive", str(archive_path), "--format", "jsonl", "--out", str(exported),
                     "--cursor", str(export_cursor)]) == 0
        assert len(exported.read_text().splitlines()) == expected

    assert main(["stats", "--archive", str(archive_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"articles: {len(everything)} in 3 runs\n")
    for source, n in Counter(a.source for a in everything).items():
        assert f"  {source:<18}  {n:>7}\n" in out

    article = everything[0]
    assert main(["show", article.id, "--archive", str(archive_path)]) == 0
    assert json.loads(capsys.readouterr().out) == article.model_dump(mode="json")
    assert main(["show", "0" * 32, "--archive", str(archive_path)]) == 1
    assert main(["ls", "--archive", str(tmp_path / "nothing")]) == 2
    assert "no archive at" in capsys.readouterr().err


def test_raw_html_is_what_the_server_sent(three_crawls, capsysbinary):
    archive_path, _, webs, rounds = three_crawls
    archive = Archive.open(archive_path)
    for web, (_, read) in zip(webs, rounds, strict=True):
        for article in read:
            parts = urlsplit(article.url)
            status, headers, body = web.render(parts.hostname, parts.path + (f"?{parts.query}" if parts.query else ""))
            raw = archive.raw(article)
            assert (raw.status, raw.body, raw.url) == (status, body, article.url)
            assert raw.header("Content-Type") == headers["Content-Type"]
            assert archive.raw_html(article) == body.decode("utf-8")
    article = rounds[0][1][0]
    capsysbinary.readouterr()
    assert main(["show", article.id, "--html", "--archive", str(archive_path)]) == 0
    assert capsysbinary.readouterr().out == archive.raw(article).body
    # the WARC files alone link each stored article's id to its response record
    linked = {}
    for warc in sorted(archive.warc_files()):
        with archive.storage.open_read(warc) as f:
            for record in ArchiveIterator(f):
                content = record.content_stream().read()
                if record.rec_type == "metadata" and content.startswith(b"article-id: "):
                    linked[content.split()[1].decode()] = record.rec_headers.get_header("WARC-Refers-To")
    assert linked == {a.id: a.raw.record_id for a in archive.articles()}
    # every fetched article page is kept, stored or not (copies dropped as duplicates too)
    warc_responses = sum(f.records for m in archive.manifests() for f in m.files if f.kind == "warc")
    assert warc_responses == sum(stats["news/pages"] for stats, _ in rounds)


class MemoryStorage:
    """Only the Storage protocol's read methods, over a dict: the reader needs nothing else
    (no local paths), so it reads an S3 archive the same way."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.uri = "memory://"

    def get_bytes(self, key: str) -> bytes:
        return self.files[key]

    def open_read(self, key: str):
        return io.BytesIO(self.files[key])

    def list(self, prefix: str = ""):
        return iter(sorted(k for k in self.files if k.startswith(prefix)))

    def exists(self, key: str) -> bool:
        return key in self.files


def test_the_reader_needs_only_the_storage_protocol(three_crawls):
    archive_path, *_ = three_crawls
    local = Archive.open(archive_path)
    files = {p.relative_to(archive_path).as_posix(): p.read_bytes() for p in archive_path.rglob("*") if p.is_file()}
    remote = Archive(MemoryStorage(files))
    assert remote.manifests() == local.manifests()
    assert list(remote.articles()) == list(local.articles())
    assert all(remote.raw(a) == local.raw(a) for a in local.articles())


def test_reextract_reproduces_every_stored_text_from_warc(three_crawls, tmp_path, capsys):
    archive_path, *_ = three_crawls
    archive = Archive.open(archive_path)
    everything = list(archive.articles())
    report = reextract(archive, archive.articles())
    assert (report.articles, report.identical, report.different, report.failed, report.no_raw) == (
        len(everything), len(everything), [], [], []
    )

    out = tmp_path / "again"
    assert main(["reextract", "--archive", str(archive_path), "--out", str(out)]) == 0
    assert f"{len(everything)} texts identical to the stored ones, 0 different, 0 failed" in capsys.readouterr().out
    copy = Archive.open(out)
    again = list(copy.articles())
    assert [a.model_dump(exclude={"extractor"}) for a in again] == [a.model_dump(exclude={"extractor"}) for a in everything]
    assert all(copy.raw(a).body == archive.raw(a).body for a in again)
    assert main(["reextract", "--archive", str(archive_path), "--out", str(archive_path)]) == 2


def test_parquet_export_loads_in_pyarrow_and_duckdb_with_the_documented_types(three_crawls, tmp_path):
    import duckdb
    import pyarrow.parquet as pq

    archive_path, *_ = three_crawls
    everything = list(Archive.open(archive_path).articles())
    path = tmp_path / "articles.parquet"
    assert main(["export", "--archive", str(archive_path), "--format", "parquet", "--out", str(path)]) == 0
    table = pq.read_table(path)
    assert table.column("id").to_pylist() == [a.id for a in everything]
    assert table.column("fetched_at").to_pylist() == [a.fetched_at for a in everything]
    assert table.column("authors").to_pylist() == [a.authors for a in everything]
    arrow_types = {f.name: str(f.type) for f in table.schema}
    assert {k: arrow_types[k] for k in ("published_at", "fetched_at", "authors", "tags", "relevance", "raw_offset")} == {
        "published_at": "timestamp[us, tz=UTC]",
        "fetched_at": "timestamp[us, tz=UTC]",
        "authors": "list<element: string>",
        "tags": "list<element: string>",
        "relevance": "double",
        "raw_offset": "int64",
    }
    duck = {row[0]: row[1] for row in duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
    assert {k: duck[k] for k in ("published_at", "authors", "relevance", "raw_length", "text")} == {
        "published_at": "TIMESTAMP WITH TIME ZONE",
        "authors": "VARCHAR[]",
        "relevance": "DOUBLE",
        "raw_length": "BIGINT",
        "text": "VARCHAR",
    }
    by_source = dict(duckdb.sql(f"SELECT source, count(*) FROM '{path}' GROUP BY source").fetchall())
    assert by_source == dict(Counter(a.source for a in everything))

    jsonl = tmp_path / "articles.jsonl"
    assert main(["export", "--archive", str(archive_path), "--format", "jsonl", "--out", str(jsonl)]) == 0
    assert [json.loads(line)["id"] for line in jsonl.read_text().splitlines()] == [a.id for a in everything]
