"""The archive on disk: its layout, the batch writer, and the dedup index kept with it.

Layout (paths relative to the archive root)::

    articles/date=YYYY-MM-DD/<run_id>-<seq>.jsonl.gz     Article records (by fetch date, UTC)
    quarantine/date=YYYY-MM-DD/<run_id>-<seq>.jsonl.gz   QuarantineRecord records
    sightings/date=YYYY-MM-DD/<run_id>-<seq>.jsonl.gz    Sighting records
    warc/date=YYYY-MM-DD/<name>-<seq>.warc.gz            raw responses (archive/warc.py)
    manifests/<run_id>.json                              one Manifest per run
    state/index.sqlite                                   dedup index (URL keys, text fingerprints)
    tmp/                                                 files being written; never read
    spool/<run_id>/                                      closed batches not yet published

A data file exists for readers only once a manifest names it. ARCHIVE.md documents the
format; :class:`Archive` (``archive/reader.py``) reads it. The archive itself may be a
local folder or ``s3://bucket/prefix`` (``archive/storage.py``, ``archive/s3.py``);
``state/``, ``tmp/`` and ``spool/`` are always local: see ``parse_archive_uri``.
"""

from archive.index import DedupIndex, index_entry, text_fingerprint, url_key
from archive.reader import Archive, Cursor, RawNotAvailable
from archive.writer import ArchiveWriter, parse_archive_uri

__all__ = [
    "Archive",
    "ArchiveWriter",
    "Cursor",
    "DedupIndex",
    "RawNotAvailable",
    "index_entry",
    "parse_archive_uri",
    "text_fingerprint",
    "url_key",
]
