"""``newsarchive reextract``: run extraction again on the raw responses kept in WARC files.

The same extractor and the same field mapping as the crawl (``pipelines.extract``), on the
body decoded the same way (``archive.reader.decode_html``), so with an unchanged extractor
every text comes out identical; after an extractor change the report says how many differ.
The site boilerplate the crawls learned (``state/boilerplate.json``, see
``pipelines/extract.py``) is applied as it stands now, so a page stored before one of its
site's repeated lines was learned comes out without that line (and is counted different).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from archive import Archive, ArchiveWriter, RawNotAvailable, parse_archive_uri
from archive.reader import decode_html
from archive.writer import TMP, WARC, new_run_id
from extraction import ExtractionError, Extractor, SiteBoilerplate
from pipelines.extract import article_fields
from schemas import Article


@dataclass
class ReextractReport:
    articles: int = 0
    identical: int = 0
    different: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    no_raw: list[str] = field(default_factory=list)
    written: int = 0

    def format(self) -> str:
        lines = [
            f"Re-extracted {self.articles} articles from their archived responses: "
            f"{self.identical} texts identical to the stored ones, {len(self.different)} different, "
            f"{len(self.failed)} failed, {len(self.no_raw)} without a raw response."
        ]
        lines += [f"  different: {article_id}" for article_id in self.different[:20]]
        lines += [f"  failed: {article_id}: {reason}" for article_id, reason in self.failed[:20]]
        if self.written:
            lines.append(f"Wrote {self.written} re-extracted articles.")
        return "\n".join(lines)


def reextract(
    archive: Archive,
    articles: Iterable[Article],
    *,
    out: str | None = None,
    boilerplate: SiteBoilerplate | None = None,
) -> ReextractReport:
    """Re-extract ``articles`` (of ``archive``); with ``out``, write the new records (and
    the WARC files they refer to) into the archive at ``out`` as one new run.
    ``boilerplate``: the learned site lines to drop (the crawl's, read-only here)."""
    extractor = Extractor()
    report = ReextractReport()
    writer = ArchiveWriter(parse_archive_uri(out), run_id=new_run_id()) if out else None
    warc_records = {entry.path: entry.records for _, entry in archive.files(WARC)} if writer else {}
    copied: set[str] = set()
    if writer:
        writer.open()
    try:
        for stored in articles:
            report.articles += 1
            try:
                raw = archive.raw(stored)
            except RawNotAvailable:
                report.no_raw.append(stored.id)
                continue
            try:
                lines = boilerplate.lines_for(stored.url) if boilerplate else frozenset()
                options = {"site_lines": lines} if lines else {}
                ex = extractor.extract(decode_html(raw), stored.url, **options)
                fresh = Article.model_validate(
                    article_fields(
                        ex, extractor, url=stored.url, source=stored.source, fetched_at=stored.fetched_at, raw=stored.raw
                    )
                )
            except (ExtractionError, ValidationError) as exc:
                report.failed.append((stored.id, str(exc).splitlines()[0]))
                continue
            if fresh.text == stored.text:
                report.identical += 1
            else:
                report.different.append(stored.id)
            if writer:
                if fresh.raw is not None and fresh.raw.warc not in copied:
                    # its WARC file first, then the batch that refers to it
                    _copy_warc(archive, writer, fresh.raw.warc, warc_records.get(fresh.raw.warc, 0))
                    copied.add(fresh.raw.warc)
                if full := writer.add(fresh):
                    writer.commit(full)
                report.written += 1
        if writer:
            writer.close()
    finally:
        if writer:
            writer.index.close()
    return report


def _copy_warc(archive: Archive, writer: ArchiveWriter, key: str, records: int) -> None:
    """Publish a WARC file of the source archive in the output archive, under the same key,
    so that every ``raw`` reference there resolves."""
    with tempfile.NamedTemporaryFile(dir=writer.root / TMP, delete=False) as tmp, archive.storage.open_read(key) as src:
        shutil.copyfileobj(src, tmp)
    writer.publish_file(Path(tmp.name), key, records=records)
