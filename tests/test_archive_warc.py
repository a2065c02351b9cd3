"""WARC files of raw responses: records, linkage, rotation, publication in the manifest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive import ArchiveWriter
from archive.reader import Archive, manifests
from archive.warc import WarcWriter, parse_response_record
from schemas import HttpExchange
from seeds import SEEDS_DIR

WHEN = datetime(2024, 5, 1, 23, 59, 59, 123456, tzinfo=UTC)


def exchange(body: bytes, **changes) -> HttpExchange:
    fields = {
        "status": 200,
        "headers": [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"), ("Content-Length", "7")],
        "request_headers": [("User-Agent", "newsarchive-test"), ("Accept-Encoding", "gzip")],
        "body": body,
        **changes,
    }
    return HttpExchange(**fields)


def write(w: WarcWriter, i: int, body: bytes):
    return w.write(
        url=f"http://news.test/story-{i}?page=2",
        request_url=f"http://news.test/s/{i}",
        source="News",
        fetched_at=WHEN,
        exchange=exchange(body),
    )


def test_each_page_is_a_request_a_response_and_a_metadata_record_linked_by_id(tmp_path):
    w = WarcWriter(tmp_path / "tmp", name="run1")
    bodies = [f"<html><p>caf\u00e9 {i}</p></html>".encode() * 40 for i in range(3)]
    refs = [write(w, i, body) for i, body in enumerate(bodies)]
    (closed,) = w.rotate()
    assert closed.key == "warc/date=2024-05-01/run1-00001.warc.gz"
    assert (closed.kind, closed.records) == ("warc", 3)
    assert w.rotate() == []

    with open(closed.local, "rb") as f:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Record-ID"), r.rec_headers.get_header("WARC-Concurrent-To"),
             r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
            for r in ArchiveIterator(f)
        ]
    assert [r[0] for r in records] == ["warcinfo"] + ["request", "response", "metadata"] * 3
    for i, ref in enumerate(refs):
        request, response, metadata = records[1 + 3 * i : 4 + 3 * i]
        assert response[1] == ref.record_id
        assert request[2] == metadata[2] == ref.record_id
        assert response[3] == request[3] == f"http://news.test/story-{i}?page=2"
        assert response[4] == bodies[i]
        assert metadata[4] == (
            f"source: News\r\nfetched-at: 2024-05-01T23:59:59.123456Z\r\nrequest-url: http://news.test/s/{i}\r\n"
        ).encode()

    # Each response record is its own gzip member: the ref's range alone is readable.
    data = closed.local.read_bytes()
    for ref, body in zip(refs, bodies, strict=True):
        raw = parse_response_record(data[ref.offset : ref.offset + ref.length])
        assert (raw.status, raw.body, raw.record_id, raw.date) == (200, body, ref.record_id, "2024-05-01T23:59:59.123456Z")
        # the stored body is decoded, so the headers say so
        assert raw.headers == [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    with pytest.raises(ValueError, match="not a complete gzip WARC record"):
        parse_response_record(data[refs[0].offset : refs[0].offset + refs[0].length - 1])


def test_files_are_closed_by_size_and_created_only_when_written(tmp_path):
    w = WarcWriter(tmp_path / "tmp", name="run1", max_bytes=1)
    assert w.rotate() == []
    assert not (tmp_path / "tmp").exists()
    refs = [write(w, i, b"<html>x</html>") for i in range(3)]
    assert [r.warc for r in refs] == [f"warc/date=2024-05-01/run1-0000{i}.warc.gz" for i in (1, 2, 3)]
    assert [c.key for c in w.rotate()] == [r.warc for r in refs]


def test_published_warc_files_are_named_in_the_manifest_and_read_by_range(tmp_path):
    root = tmp_path / "archive"
    writer = ArchiveWriter(root, run_id="run1")
    writer.open()
    w = WarcWriter(root / "tmp", name="run1")
    ref = write(w, 1, b"<html>served</html>")
    archive = Archive.open(root)
    with pytest.raises(LookupError, match="not named in any manifest"):
        archive.raw(ref)
    for closed in w.rotate():
        writer.publish_file(closed.local, closed.key, records=closed.records)
    writer.close()

    (m,) = manifests(root)
    (entry,) = m.files
    assert (entry.kind, entry.path, entry.records) == ("warc", ref.warc, 1)
    assert entry.bytes == (root / ref.warc).stat().st_size
    assert archive.raw(ref).body == b"<html>served</html>"
    assert archive.raw_html(ref) == "<html>served</html>"


def test_recovery_removes_warc_files_no_manifest_names(tmp_path):
    root = tmp_path / "archive"
    stray = root / "warc" / "date=2024-05-01" / "crashed-00001.warc.gz"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"partial")
    writer = ArchiveWriter(root, run_id="run1")
    assert writer.open().orphans_removed == 1
    writer.close()
    assert not stray.exists()


def test_the_gzip_level_is_a_setting_and_every_level_reads_back(tmp_path):
    body = b"".join(b"<p>%s</p>\n" % p.read_bytes() for p in sorted(SEEDS_DIR.glob("*.txt")))
    sizes = {}
    for level in (0, 1, 3):
        w = WarcWriter(tmp_path / f"tmp{level}", name=f"run{level}", gzip_level=level)
        ref = write(w, 0, body)
        (closed,) = w.rotate()
        data = closed.local.read_bytes()
        sizes[level] = len(data)
        assert parse_response_record(data[ref.offset : ref.offset + ref.length]).body == body
        with closed.local.open("rb") as f:
            assert [r.rec_type for r in ArchiveIterator(f)] == ["warcinfo", "request", "response", "metadata"]
    assert sizes[0] > sizes[1] > sizes[3]
    with pytest.raises(ValueError, match=r"gzip level must be 0 to 3 \(ISA-L's levels\), got 6"):
        WarcWriter(tmp_path / "bad", name="bad", gzip_level=6)
