"""The consumer API: filters, get, incremental reads (since-run, cursor), exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from archive import Archive, ArchiveWriter, Cursor
from archive.export import ARTICLE_COLUMNS, write_csv, write_jsonl, write_parquet
from archive.storage import FileStorage, read_range
from schemas import Article, Sighting
from schemas.article import article_id, content_sha256

DAY = datetime(2024, 5, 1, 12, tzinfo=UTC)


def article(i: int, *, source: str = "News", language: str | None = "en", relevance: float | None = None,
            published: datetime | None = None, fetched: datetime = DAY) -> Article:
    text = f"Article number {i} " + " ".join(f"w{i}x{j}" for j in range(40))
    url = f"https://news.test/story-{i}"
    return Article(
        id=article_id(url), url=url, canonical_url=url, source=source, title=f"Story {i}", text=text,
        authors=["A. Writer"], language=language, relevance=relevance, published_at=published, fetched_at=fetched,
        tags=["x", "y"], content_sha256=content_sha256(text), extractor={"name": "test", "version": "1"},
    )


def write_run(root, run_id: str, records, *, close: bool = True, max_records: int = 2) -> ArchiveWriter:
    w = ArchiveWriter(root, run_id=run_id, max_records=max_records)
    w.open()
    for r in records:
        if full := w.add(r):
            w.commit(full)
    if close:
        w.close()
    return w


@pytest.fixture
def sample(tmp_path):
    records = [
        article(1, source="RT", published=datetime(2023, 6, 18, 23, tzinfo=UTC), relevance=0.9),
        article(2, source="AP", published=datetime(2023, 6, 19, 1, tzinfo=UTC), relevance=0.2),
        article(3, source="AP", language="fr", fetched=DAY + timedelta(days=1)),
        article(4, source="RT", fetched=DAY + timedelta(days=2), relevance=0.5),
    ]
    write_run(tmp_path, "run1", records[:2])
    write_run(tmp_path, "run2", records[2:])
    return Archive.open(tmp_path), records


def ids(articles) -> list[int]:
    return [int(a.url.rsplit("-", 1)[1]) for a in articles]


def test_filters(sample):
    archive, records = sample
    assert ids(archive.articles()) == [1, 2, 3, 4]
    assert ids(archive.articles(source="AP")) == [2, 3]
    assert ids(archive.articles(source=["AP", "RT"], language="en")) == [1, 2, 4]
    assert ids(archive.articles(min_relevance=0.5)) == [1, 4]
    assert ids(archive.articles(published_since=datetime(2023, 6, 19, tzinfo=UTC))) == [2]
    assert ids(archive.articles(published_until=datetime(2023, 6, 19))) == [1]  # naive = UTC
    assert ids(archive.articles(fetched_since=DAY + timedelta(days=1))) == [3, 4]
    assert ids(archive.articles(fetched_since=DAY, fetched_until=DAY + timedelta(days=1))) == [1, 2]
    assert ids(archive.articles(since_run="run1")) == [3, 4]
    assert archive.run_ids() == ["run1", "run2"]
    assert archive.get(records[2].id) == records[2]
    assert archive.get("0" * 32) is None


def test_a_cursor_gets_every_file_once_even_from_a_growing_manifest(tmp_path):
    cursor_file = tmp_path / "consumer" / "cursor.json"
    root = tmp_path / "archive"

    def consume() -> list[int]:
        cursor = Cursor.load(cursor_file)
        got = ids(Archive.open(root).articles(cursor=cursor))
        cursor.save()
        return got

    assert consume() == []
    # A run that is still writing: one batch published, one open.
    w = write_run(root, "run1", [article(i) for i in range(3)], close=False)
    assert consume() == [0, 1]
    assert consume() == []
    # ...it publishes another batch, then dies without closing its manifest.
    (batch,) = w._open.values()
    w.commit(batch)
    w.index.close()
    assert consume() == [2]
    # The next run marks it interrupted and adds its own files.
    write_run(root, "run2", [article(i) for i in range(3, 6)])
    assert [m.status for m in Archive.open(root).manifests()] == ["interrupted", "finished"]
    assert consume() == [3, 4, 5]
    assert consume() == []
    saved = json.loads(cursor_file.read_text())
    assert saved["format"] == "newsarchive-cursor"
    assert sorted(saved["consumed"]) == ["run1", "run2"]
    assert len(saved["consumed"]["run1"]) == 2


def test_a_cursor_file_that_is_not_one_is_an_error(tmp_path):
    bad = tmp_path / "cursor.json"
    bad.write_text('{"something": "else"}')
    with pytest.raises(ValueError, match="not a newsarchive cursor file"):
        Cursor.load(bad)


def test_sightings_by_story(tmp_path):
    story = article(1)
    seen = Sighting(story_id=story.id, url="https://copy.test/a", canonical_url="https://copy.test/a", source="Copy",
                    seen_at=DAY, match="text", similarity=1.0)
    write_run(tmp_path, "run1", [story, seen])
    archive = Archive.open(tmp_path)
    assert list(archive.sightings(story_id=story.id)) == [seen]
    assert list(archive.sightings(source="Other")) == []


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self._data.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


class _StreamOnly:
    """A backend without read_range whose streams cannot seek."""

    def __init__(self, inner: FileStorage) -> None:
        self.inner = inner

    def open_read(self, key: str):
        return _Unseekable(self.inner.get_bytes(key))


def test_read_range_uses_the_backend_or_falls_back_to_reading(tmp_path):
    storage = FileStorage(tmp_path)
    storage.put_bytes("a/b.bin", bytes(range(256)) * 10000)
    assert read_range(storage, "a/b.bin", 1000, 5) == bytes([232, 233, 234, 235, 236])
    assert read_range(_StreamOnly(storage), "a/b.bin", 2_000_000, 3) == bytes([128, 129, 130])


def test_exports(sample, tmp_path):
    import duckdb
    import pyarrow.parquet as pq

    archive, records = sample
    out = io.StringIO()
    assert write_jsonl(archive.articles(), out) == 4
    assert [Article.model_validate_json(line) for line in out.getvalue().splitlines()] == records

    out = io.StringIO()
    assert write_csv(archive.articles(), out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["id"] for r in rows] == [a.id for a in records]
    assert rows[0]["published_at"] == "2023-06-18T23:00:00Z"
    assert rows[2]["published_at"] == ""
    assert json.loads(rows[0]["authors"]) == ["A. Writer"]
    assert rows[0]["extractor_name"] == "test"

    path = tmp_path / "articles.parquet"
    assert write_parquet(archive.articles(), str(path), row_group=3) == 4
    table = pq.read_table(path)
    assert table.num_rows == 4
    assert table.column_names == [name for name, _, _ in ARTICLE_COLUMNS]
    assert {f.name: str(f.type) for f in table.schema if f.name in ("fetched_at", "authors", "relevance")} == {
        "fetched_at": "timestamp[us, tz=UTC]", "authors": "list<element: string>", "relevance": "double",
    }
    assert table.column("published_at").to_pylist()[0] == datetime(2023, 6, 18, 23, tzinfo=UTC)
    types = {row[0]: row[1] for row in duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
    assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["tags"] == "VARCHAR[]"
    assert types["relevance"] == "DOUBLE"
    assert duckdb.sql(f"SELECT count(*), sum(relevance) FROM '{path}' WHERE source = 'RT'").fetchall() == [(2, 1.4)]

    empty = tmp_path / "empty.parquet"
    assert write_parquet(iter(()), str(empty)) == 0
    assert pq.read_table(empty).num_rows == 0


def test_parquet_without_pyarrow_says_what_to_install(sample, tmp_path, monkeypatch, capsys):
    import sys

    from crawler.cli import main

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    with pytest.raises(RuntimeError, match=r"pip install 'newsarchive\[parquet\]'"):
        write_parquet(iter(()), str(tmp_path / "x.parquet"))
    archive, _ = sample
    assert main(["export", "--archive", archive.uri, "--format", "parquet", "--out", str(tmp_path / "x.parquet")]) == 2
    assert "Parquet export needs pyarrow" in capsys.readouterr().err
