"""Writes records into closed, gzip JSON Lines batch files and publishes them in a manifest.

The commit protocol of a batch, each step atomic on a POSIX file system:

1. records are appended to ``tmp/<name>`` (never read by anyone);
2. the gzip stream is closed and the file fsync'ed;
3. it is renamed to its final path under ``articles/`` or ``quarantine/``;
4. the run's manifest is rewritten (temp file + rename) to name it: from now on it exists;
5. its articles (and sightings' URLs) are added to the dedup index, with the batch path,
   in one transaction.

On :meth:`ArchiveWriter.open` the writer repairs whatever a crash left between those
steps: ``tmp/`` is emptied (step 1-2 interrupted: those articles were never published and
will be fetched again), data files no manifest names are deleted (step 3-4), and published
batches missing from the index are indexed (step 4-5). Manifests of crashed runs are
marked ``interrupted``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from archive.index import DedupIndex, IndexEntry, index_entry
from schemas import Article, Manifest, ManifestFile, QuarantineRecord, Sighting

logger = logging.getLogger(__name__)

ARTICLES = "articles"
QUARANTINE = "quarantine"
SIGHTINGS = "sightings"
WARC = "warc"  # raw responses, written by archive/warc.py and published with publish_file()
MANIFESTS = "manifests"
STATE = "state"
TMP = "tmp"


Record = Article | QuarantineRecord | Sighting

KINDS: dict[type, str] = {Article: ARTICLES, QuarantineRecord: QUARANTINE, Sighting: SIGHTINGS}
"""Which folder (and manifest ``kind``) each record type is written to."""


def _day(record: Record) -> str:
    when = record.seen_at if isinstance(record, Sighting) else record.fetched_at
    return when.astimezone(UTC).date().isoformat()


def parse_archive_uri(uri: str) -> Path:
    """A local archive root from ``file:///path`` or a plain path."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"archive URI {uri!r}: file URIs must name a local path (file:///path)")
        return Path(unquote(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # one letter: a Windows drive
        raise ValueError(f"archive URI {uri!r}: unsupported scheme {parts.scheme!r}; use a path or file:///path")
    return Path(uri)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(3).hex()}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a small file so that readers see the old content or the new, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@dataclass
class Batch:
    """An open batch file: one kind, one date partition."""

    kind: str
    day: str
    relpath: str
    tmp_path: Path
    stream: _Closing
    records: int = 0
    raw_bytes: int = 0
    entries: list[IndexEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Recovery:
    """What :meth:`ArchiveWriter.open` repaired."""

    tmp_files_removed: int = 0
    orphans_removed: int = 0
    batches_reindexed: int = 0
    runs_interrupted: int = 0


def read_manifest(path: Path) -> Manifest:
    return Manifest.model_validate_json(path.read_bytes())


class ArchiveWriter:
    """Batches records into files under ``root``; see the module docstring for the protocol.

    Not thread-safe: :meth:`add` and :meth:`commit` must not run concurrently with each
    other (the store pipeline runs both on one I/O thread).
    """

    def __init__(
        self,
        root: Path,
        *,
        run_id: str,
        max_records: int = 5000,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if max_records < 1 or max_bytes < 1:
            raise ValueError("batch limits must be positive")
        self.root = Path(root)
        self.run_id = run_id
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.index = DedupIndex(self.root / STATE / "index.sqlite")
        self._open: dict[tuple[str, str], Batch] = {}
        self._seq = 0
        self._manifest: Manifest | None = None

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> Recovery:
        for sub in (*KINDS.values(), MANIFESTS, STATE, TMP):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.index.open()
        recovery = self._recover()
        now = datetime.now(UTC)
        self._manifest = Manifest(run_id=self.run_id, started_at=now, updated_at=now, status="running")
        self._write_manifest()
        return recovery

    def close(self) -> list[ManifestFile]:
        """Commit every open batch and mark the run finished."""
        committed = [self.commit(batch) for batch in list(self._open.values())]
        manifest = self._require_manifest()
        manifest.status = "finished"
        manifest.finished_at = datetime.now(UTC)
        self._write_manifest()
        self.index.close()
        return committed

    # -- writing -----------------------------------------------------------------------

    def add(self, record: Record) -> Batch | None:
        """Append a record to its open batch. Returns the batch when it is full and must be
        passed to :meth:`commit`; it no longer receives records."""
        kind = KINDS[type(record)]
        day = _day(record)
        batch = self._open.get((kind, day)) or self._new_batch(kind, day)
        line = record.model_dump_json().encode("utf-8") + b"\n"
        batch.stream.write(line)
        batch.records += 1
        batch.raw_bytes += len(line)
        if isinstance(record, (Article, Sighting)):
            batch.entries.append(index_entry(record))
        if batch.records >= self.max_records or batch.raw_bytes >= self.max_bytes:
            del self._open[(kind, day)]
            return batch
        return None

    def commit(self, batch: Batch) -> ManifestFile:
        """Close, fsync, publish and index one batch (steps 2-5 of the protocol)."""
        if self._open.get((batch.kind, batch.day)) is batch:  # not a newer batch of that key
            del self._open[(batch.kind, batch.day)]
        batch.stream.close()
        final = self.root / batch.relpath
        final.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(batch.tmp_path, "rb+") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
            os.fsync(f.fileno())
            size = f.tell()
        os.replace(batch.tmp_path, final)
        _fsync_dir(final.parent)
        entry = ManifestFile(
            path=batch.relpath, kind=batch.kind, records=batch.records, bytes=size, sha256=digest.hexdigest()
        )
        manifest = self._require_manifest()
        manifest.files.append(entry)
        self._write_manifest()
        if batch.kind in (ARTICLES, SIGHTINGS):
            self.index.add_batch(batch.relpath, batch.entries)
        logger.info("Committed %s (%d records, %d bytes)", batch.relpath, batch.records, size)
        return entry

    # -- files written by other components (WARC files of raw responses) -----------------

    def publish_file(self, local: Path, key: str, *, kind: str = WARC, records: int = 0) -> ManifestFile:
        """Publish a closed file written elsewhere under ``key`` and name it in the
        manifest, like a batch (steps 2-4 of the protocol)."""
        final = self.root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(local, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
            os.fsync(f.fileno())
            size = f.tell()
        os.replace(local, final)
        _fsync_dir(final.parent)
        entry = ManifestFile(path=key, kind=kind, records=records, bytes=size, sha256=digest.hexdigest())
        self._require_manifest().files.append(entry)
        self._write_manifest()
        logger.info("Published %s (%d records, %d bytes)", key, records, size)
        return entry

    @property
    def pending_records(self) -> int:
        return sum(b.records for b in self._open.values())

    # -- internals ---------------------------------------------------------------------

    def _new_batch(self, kind: str, day: str) -> Batch:
        self._seq += 1
        name = f"{self.run_id}-{self._seq:05d}.jsonl.gz"
        tmp_path = self.root / TMP / f"{kind}-{name}"
        raw = open(tmp_path, "wb")  # noqa: SIM115 - closed in commit()
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        batch = Batch(
            kind=kind, day=day, relpath=f"{kind}/date={day}/{name}", tmp_path=tmp_path, stream=_Closing(stream, raw)
        )
        self._open[(kind, day)] = batch
        return batch

    def _require_manifest(self) -> Manifest:
        if self._manifest is None:
            raise RuntimeError("archive writer is not open")
        return self._manifest

    def _write_manifest(self) -> None:
        manifest = self._require_manifest()
        manifest.updated_at = datetime.now(UTC)
        data = manifest.model_dump_json(indent=2).encode("utf-8")
        write_atomic(self.root / MANIFESTS / f"{self.run_id}.json", data)

    def _recover(self) -> Recovery:
        tmp_removed = 0
        for leftover in (self.root / TMP).iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
            tmp_removed += 1

        named: dict[str, ManifestFile] = {}
        interrupted = 0
        for mpath in sorted((self.root / MANIFESTS).glob("*.json")):
            manifest = read_manifest(mpath)
            if manifest.status == "running":
                manifest.status = "interrupted"
                write_atomic(mpath, manifest.model_dump_json(indent=2).encode("utf-8"))
                interrupted += 1
            named.update((f.path, f) for f in manifest.files)

        orphans = 0
        for kind in (*KINDS.values(), WARC):
            for path in (self.root / kind).rglob("*"):
                rel = path.relative_to(self.root).as_posix()
                if path.is_file() and rel not in named:
                    logger.warning("Removing %s: no manifest names it (left by an interrupted run)", rel)
                    path.unlink()
                    orphans += 1

        indexed = self.index.indexed_batches()
        reindexed = 0
        for rel, entry in named.items():
            if entry.kind in (ARTICLES, SIGHTINGS) and rel not in indexed:
                model = Article if entry.kind == ARTICLES else Sighting
                records = [model.model_validate_json(line) for line in _read_lines(self.root / rel)]
                self.index.add_batch(rel, [index_entry(r) for r in records])
                reindexed += 1
        recovery = Recovery(tmp_removed, orphans, reindexed, interrupted)
        if recovery != Recovery():
            logger.warning("Archive %s recovered from an interrupted run: %s", self.root, recovery)
        return recovery


def _read_lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return [line for line in f if line.strip()]


class _Closing:
    """A gzip stream that also closes the file under it."""

    def __init__(self, stream: gzip.GzipFile, raw: IO[bytes]) -> None:
        self._stream = stream
        self._raw = raw

    def write(self, data: bytes) -> int:
        return self._stream.write(data)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._raw.close()
