"""Writes records into closed, gzip JSON Lines batch files and publishes them in a manifest.

The archive lives in a :class:`~archive.storage.Storage` (a local folder or an S3 bucket);
batches are built in the archive's local folder (``root``: the archive itself for a local
archive, a per-archive cache folder for a remote one). The commit protocol of a batch:

1. records are appended to ``tmp/<name>`` (never read by anyone);
2. the batch is closed (on its record, byte or age limit), the gzip stream finished, the
   file fsync'ed and renamed into ``spool/<run_id>/<key>``: it is now safe on this machine;
3. it is published under its key (``articles/date=…/<run_id>-<seq>.jsonl.gz``) with the
   backend's atomic put (rename; S3 PutObject or multipart completion);
4. the run's manifest, naming it, is written (atomically): from now on it exists;
5. its articles (and its sightings' URLs) are added to the dedup index, in one transaction;
6. the spooled copy is deleted.

Files other stages write (WARC files of raw responses, ``archive/warc.py``) join the same
queue with :meth:`ArchiveWriter.spool_file` and are published in order: the store stage
spools them before any batch that may refer to them, so no published record ever points
to a file a reader cannot see yet.

Steps 3-6 may fail (S3 unreachable): the batch stays in the spool and is published by a
later attempt, in this run or (from :meth:`ArchiveWriter.open`) the next one. Keys are
deterministic (run id + sequence number), so publishing again overwrites the same key and
names it once.

On :meth:`ArchiveWriter.open` the writer repairs whatever a crash left between those
steps: ``tmp/`` is emptied (steps 1-2 interrupted: those articles were never closed and
will be fetched again); spooled batches of earlier runs are published and their manifests
completed (step 3-4), their runs marked ``interrupted`` unless they had finished; published
batches missing from the index are indexed (step 5). For a local archive, data files no
manifest names are deleted and ``running`` manifests are marked ``interrupted``; a remote
archive may have other writers, so only runs spooled on this machine are touched.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from archive.index import DedupIndex, IndexEntry, index_entry
from archive.storage import FileStorage, Storage, fsync_dir, local_root, write_atomic
from schemas import Article, Manifest, ManifestFile, QuarantineRecord, Sighting

logger = logging.getLogger(__name__)

ARTICLES = "articles"
QUARANTINE = "quarantine"
SIGHTINGS = "sightings"
WARC = "warc"  # raw responses, written by archive/warc.py and published with spool_file()
MANIFESTS = "manifests"
STATE = "state"
TMP = "tmp"
SPOOL = "spool"
LOCAL_MANIFEST = "manifest.json"  # spool/<run_id>/manifest.json: the run's manifest as last published
INDEX_SNAPSHOT = f"{STATE}/index.sqlite"  # a remote archive's copy of the dedup index (a cache)


Record = Article | QuarantineRecord | Sighting

KINDS: dict[type, str] = {Article: ARTICLES, QuarantineRecord: QUARANTINE, Sighting: SIGHTINGS}
"""Which folder (and manifest ``kind``) each record type is written to."""


def _day(record: Record) -> str:
    when = record.seen_at if isinstance(record, Sighting) else record.fetched_at
    return when.astimezone(UTC).date().isoformat()


def parse_archive_uri(uri: str) -> Path:
    """The archive's local root: the folder of ``file:///path`` or a plain path; for
    ``s3://bucket/prefix`` its local folder on this machine (state, spool; see
    :func:`archive.storage.local_root`). ``<root>/state/`` is where crawl state lives."""
    return local_root(uri)


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSmmmZ-<6 hex>``: the start time to the millisecond, so runs started
    within the same second (cron jobs, tests) still sort in start order."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{os.urandom(3).hex()}"



@dataclass
class Batch:
    """An open batch file: one kind, one date partition."""

    kind: str
    day: str
    relpath: str
    tmp_path: Path
    stream: _Closing
    opened_at: float = 0.0
    records: int = 0
    raw_bytes: int = 0
    entries: list[IndexEntry] = field(default_factory=list)


@dataclass
class Spooled:
    """A closed batch kept on this machine until it is published."""

    run_id: str
    relpath: str
    path: Path
    records: int
    bytes: int
    sha256: str
    entries: list[IndexEntry] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.relpath.split("/", 1)[0]

    def manifest_file(self) -> ManifestFile:
        return ManifestFile(
            path=self.relpath, kind=self.kind, records=self.records, bytes=self.bytes, sha256=self.sha256
        )


@dataclass(frozen=True)
class Recovery:
    """What :meth:`ArchiveWriter.open` repaired."""

    tmp_files_removed: int = 0
    orphans_removed: int = 0
    batches_reindexed: int = 0
    runs_interrupted: int = 0
    spooled_uploaded: int = 0
    index_restored: int = 0


def read_manifest(path: Path) -> Manifest:
    return Manifest.model_validate_json(path.read_bytes())


def read_manifests(storage: Storage) -> dict[str, Manifest]:
    """Every published manifest by run id, in run id order."""
    found = {}
    for key in storage.list(f"{MANIFESTS}/"):
        if key.endswith(".json") and key.count("/") == 1:
            manifest = Manifest.model_validate_json(storage.get_bytes(key))
            found[manifest.run_id] = manifest
    return dict(sorted(found.items()))


class ArchiveWriter:
    """Batches records into files and publishes them to ``storage``; see the module
    docstring for the protocol. ``root`` is the archive's local folder (``tmp/``,
    ``spool/``, ``state/``); ``storage`` defaults to the local archive at ``root``.

    Two threads may use a writer: one calls :meth:`add`, :meth:`expired` and :meth:`spool`
    (cheap, local), the other :meth:`publish_spooled` and :meth:`finish` (slow, remote);
    the store pipeline runs each on its own I/O thread.
    """

    def __init__(
        self,
        root: Path,
        *,
        run_id: str,
        max_records: int = 5000,
        max_bytes: int = 64 * 1024 * 1024,
        max_seconds: float | None = None,
        storage: Storage | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_records < 1 or max_bytes < 1 or (max_seconds is not None and max_seconds <= 0):
            raise ValueError("batch limits must be positive")
        self.root = Path(root)
        self.storage: Storage = storage if storage is not None else FileStorage(self.root)
        self.run_id = run_id
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.clock = clock
        self.index = DedupIndex(self.root / STATE / "index.sqlite")
        self._open: dict[tuple[str, str], Batch] = {}
        self._seq = 0
        self._manifest: Manifest | None = None
        self._spooled: list[Spooled] = []
        self._lock = threading.Lock()  # guards _spooled, shared by the two threads

    @property
    def local(self) -> bool:
        """Is the archive this machine's folder (and so has no other writer)?"""
        return isinstance(self.storage, FileStorage)

    @property
    def is_open(self) -> bool:
        return self._manifest is not None

    @property
    def spool_dir(self) -> Path:
        return self.root / SPOOL / self.run_id

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> Recovery:
        """Check the storage, repair what a crashed run left, publish earlier runs' spooled
        batches and the new run's manifest (status ``running``). Raises StorageError (an
        OSError) if the archive cannot be used."""
        self.storage.check()
        for sub in (STATE, TMP, SPOOL):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.index.open()
        try:
            restored = self._restore_index()
            recovery = self._recover()
            if restored:
                recovery = replace(recovery, index_restored=1)
            if self.storage.exists(f"{MANIFESTS}/{self.run_id}.json"):
                raise ValueError(f"run id {self.run_id!r} is already in archive {self.storage.uri}")
            now = datetime.now(UTC)
            self._manifest = Manifest(run_id=self.run_id, started_at=now, updated_at=now, status="running")
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            self._write_manifest(self._manifest)
        except BaseException:
            self.index.close()
            raise
        return recovery

    def close(self) -> list[ManifestFile]:
        """Commit every open batch and mark the run finished. Raises StorageError if some
        batch could not be published (it stays spooled for the next run)."""
        try:
            for batch in list(self._open.values()):
                self.spool(batch)
            committed = self.publish_spooled()
            self.finish()
        finally:
            self.index.close()
        return committed

    def finish(self) -> bool:
        """Mark the run finished: in the local copy of its manifest always, in the archive
        if every batch is published (True) - else the next run completes it."""
        manifest = self._require_manifest()
        manifest.status = "finished"
        manifest.finished_at = datetime.now(UTC)
        self._save_local_manifest(manifest)
        if self.spooled_count:
            return False
        self._write_manifest(manifest)
        shutil.rmtree(self.spool_dir, ignore_errors=True)
        self._snapshot_index()
        return True

    def _restore_index(self) -> bool:
        """A remote archive used for the first time on this machine (an empty index): start
        from the index snapshot the last run left in the bucket. Batches it misses are then
        indexed by the recovery, from the manifests."""
        if self.local or self.index.indexed_batches():
            return False
        tmp = self.root / TMP / "index-restore.sqlite"
        try:
            with self.storage.open_read(INDEX_SNAPSHOT) as remote, open(tmp, "wb") as f:
                shutil.copyfileobj(remote, f, 1 << 20)
        except FileNotFoundError:
            return False
        try:
            # copied into the open database: other connections to it (the dedup stage's)
            # see the restored content
            snapshot = sqlite3.connect(tmp)
            try:
                snapshot.backup(self.index.db)
            finally:
                snapshot.close()
        finally:
            tmp.unlink(missing_ok=True)
        logger.info("Restored the dedup index from %s/%s", self.storage.uri, INDEX_SNAPSHOT)
        return True

    def _snapshot_index(self) -> None:
        """Leave a copy of the dedup index in a remote archive, for another machine."""
        if self.local:
            return
        tmp = self.root / TMP / f"index-snapshot-{self.run_id}.sqlite"
        try:
            copy = sqlite3.connect(tmp)
            try:
                self.index.db.backup(copy)
            finally:
                copy.close()
            self.storage.put_file(tmp, INDEX_SNAPSHOT)
        except (OSError, sqlite3.Error) as exc:
            logger.warning("Could not copy the dedup index to %s: %s", self.storage.uri, exc)
        finally:
            tmp.unlink(missing_ok=True)

    # -- writing -----------------------------------------------------------------------

    def add(self, record: Record) -> Batch | None:
        """Append a record to its open batch. Returns the batch when it is full and must be
        passed to :meth:`commit` (or :meth:`spool`); it no longer receives records."""
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

    def expired(self) -> list[Batch]:
        """Open batches older than ``max_seconds``, taken out of use: pass each to
        :meth:`spool` or :meth:`commit`."""
        if self.max_seconds is None:
            return []
        now = self.clock()
        due = [b for b in self._open.values() if now - b.opened_at >= self.max_seconds]
        for batch in due:
            del self._open[(batch.kind, batch.day)]
        return due

    def take_open(self) -> list[Batch]:
        """Every open batch, taken out of use (to be spooled when the run ends)."""
        batches = list(self._open.values())
        self._open.clear()
        return batches

    def spool(self, batch: Batch) -> Spooled:
        """Close a batch (step 2): finish, fsync and move it into this run's spool."""
        if self._open.get((batch.kind, batch.day)) is batch:
            # (a full batch is already out: a newer one of its kind and day may be open)
            del self._open[(batch.kind, batch.day)]
        batch.stream.close()
        digest = hashlib.sha256()
        with open(batch.tmp_path, "rb+") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
            os.fsync(f.fileno())
            size = f.tell()
        dest = self.spool_dir / batch.relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(batch.tmp_path, dest)
        fsync_dir(dest.parent)
        spooled = Spooled(
            run_id=self.run_id,
            relpath=batch.relpath,
            path=dest,
            records=batch.records,
            bytes=size,
            sha256=digest.hexdigest(),
            entries=batch.entries,
        )
        with self._lock:
            self._spooled.append(spooled)
        return spooled

    def spool_file(self, local: Path, key: str, *, records: int = 0) -> Spooled:
        """Queue a closed file another stage wrote (a WARC file) for publication under
        ``key``, after everything spooled before it: fsync it and move it into the spool."""
        dest = self.spool_dir / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(local, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
            os.fsync(f.fileno())
            size = f.tell()
        os.replace(local, dest)
        fsync_dir(dest.parent)
        spooled = Spooled(
            run_id=self.run_id, relpath=key, path=dest, records=records, bytes=size, sha256=digest.hexdigest()
        )
        with self._lock:
            self._spooled.append(spooled)
        return spooled

    def publish_file(self, local: Path, key: str, *, records: int = 0) -> ManifestFile:
        """Spool and publish another stage's closed file now, in the calling thread."""
        return self.publish(self.spool_file(local, key, records=records))

    def commit(self, batch: Batch) -> ManifestFile:
        """Close and publish one batch now (steps 2-6), in the calling thread."""
        return self.publish(self.spool(batch))

    def publish(self, spooled: Spooled) -> ManifestFile:
        """Publish one spooled batch of this run (steps 3-6). On a StorageError it stays
        spooled; publishing it again is safe."""
        entry = self._publish(spooled, self._require_manifest())
        with self._lock:
            if spooled in self._spooled:
                self._spooled.remove(spooled)
        return entry

    def publish_spooled(self) -> list[ManifestFile]:
        """Publish every spooled batch, oldest first; stops at the first failure (raised)."""
        published = []
        while (spooled := self.next_spooled()) is not None:
            published.append(self.publish(spooled))
        return published

    def next_spooled(self) -> Spooled | None:
        with self._lock:
            return self._spooled[0] if self._spooled else None

    @property
    def spooled_count(self) -> int:
        """Closed batches waiting to be published."""
        with self._lock:
            return len(self._spooled)

    @property
    def spooled_records(self) -> int:
        with self._lock:
            return sum(s.records for s in self._spooled)

    @property
    def pending_records(self) -> int:
        return sum(b.records for b in self._open.values())

    # -- internals ---------------------------------------------------------------------

    def _new_batch(self, kind: str, day: str) -> Batch:
        self._seq += 1
        name = f"{self.run_id}-{self._seq:05d}.jsonl.gz"
        tmp_path = self.root / TMP / f"{kind}-{name}"
        raw = open(tmp_path, "wb")  # noqa: SIM115 - closed in spool()
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
        batch = Batch(
            kind=kind,
            day=day,
            relpath=f"{kind}/date={day}/{name}",
            tmp_path=tmp_path,
            stream=_Closing(stream, raw),
            opened_at=self.clock(),
        )
        self._open[(kind, day)] = batch
        return batch

    def _require_manifest(self) -> Manifest:
        if self._manifest is None:
            raise RuntimeError("archive writer is not open")
        return self._manifest

    def _publish(self, spooled: Spooled, manifest: Manifest) -> ManifestFile:
        """Steps 3-6 for a batch of ``manifest``'s run."""
        entry = spooled.manifest_file()
        self.storage.put_file(spooled.path, spooled.relpath)
        named = [f.path for f in manifest.files]
        if spooled.relpath in named:  # published before, by an attempt that did not finish
            manifest.files[named.index(spooled.relpath)] = entry
            self._write_manifest(manifest)
        else:
            manifest.files.append(entry)
            try:
                self._write_manifest(manifest)
            except BaseException:
                manifest.files.pop()
                raise
        if entry.kind in (ARTICLES, SIGHTINGS):
            self.index.add_batch(entry.path, spooled.entries)
        spooled.path.unlink(missing_ok=True)
        logger.info("Published %s (%d records, %d bytes)", entry.path, entry.records, entry.bytes)
        return entry

    def _save_local_manifest(self, manifest: Manifest) -> None:
        folder = self.root / SPOOL / manifest.run_id
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / LOCAL_MANIFEST, manifest.model_dump_json(indent=2).encode("utf-8"))

    def _write_manifest(self, manifest: Manifest) -> None:
        """Publish a run's manifest (after its data files), then keep a local copy."""
        manifest.updated_at = datetime.now(UTC)
        data = manifest.model_dump_json(indent=2).encode("utf-8")
        self.storage.put_bytes(f"{MANIFESTS}/{manifest.run_id}.json", data)
        if (self.root / SPOOL / manifest.run_id).is_dir():
            write_atomic(self.root / SPOOL / manifest.run_id / LOCAL_MANIFEST, data)

    def _recover(self) -> Recovery:
        tmp_removed = 0
        for leftover in (self.root / TMP).iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
            tmp_removed += 1

        published = read_manifests(self.storage)
        interrupted = 0
        uploaded = 0
        # Runs spooled on this machine: publish what they left, complete their manifests.
        for folder in sorted(p for p in (self.root / SPOOL).iterdir() if p.is_dir()):
            manifest, was_running = self._recovered_manifest(folder, published.get(folder.name))
            interrupted += was_running
            named = {f.path for f in manifest.files}
            spooled_files = (p for p in folder.rglob("*") if p.is_file() and p.name != LOCAL_MANIFEST)
            # WARC files first: batches published with them may refer to them
            for path in sorted(spooled_files, key=lambda p: (not p.name.endswith(".warc.gz"), p)):
                relpath = path.relative_to(folder).as_posix()
                if relpath in named:  # published and named; the index is checked below
                    path.unlink()
                    continue
                spooled = _describe(path, manifest.run_id, relpath)
                logger.warning("Publishing %s, spooled by run %s", relpath, manifest.run_id)
                self._publish(spooled, manifest)
                uploaded += 1
            self._write_manifest(manifest)
            published[manifest.run_id] = manifest
            shutil.rmtree(folder)

        orphans = 0
        if self.local:
            for manifest in published.values():
                if manifest.status == "running":
                    manifest.status = "interrupted"
                    self._write_manifest(manifest)
                    interrupted += 1
            named = {f.path for m in published.values() for f in m.files}
            for kind in (*KINDS.values(), WARC):
                for partial in (self.root / kind).rglob(".*.tmp"):  # a publish cut short
                    partial.unlink()
                    tmp_removed += 1
                for key in self.storage.list(f"{kind}/"):
                    if key not in named:
                        logger.warning("Removing %s: no manifest names it (left by an interrupted run)", key)
                        self.storage.delete(key)
                        orphans += 1

        indexed = self.index.indexed_batches()
        reindexed = 0
        for manifest in published.values():
            for entry in manifest.files:
                if entry.kind in (ARTICLES, SIGHTINGS) and entry.path not in indexed:
                    model = Article if entry.kind == ARTICLES else Sighting
                    with self.storage.open_read(entry.path) as raw, gzip.GzipFile(fileobj=raw, mode="rb") as f:
                        records = [model.model_validate_json(line) for line in f if line.strip()]
                    self.index.add_batch(entry.path, [index_entry(r) for r in records])
                    reindexed += 1
        recovery = Recovery(
            tmp_files_removed=tmp_removed,
            orphans_removed=orphans,
            batches_reindexed=reindexed,
            runs_interrupted=interrupted,
            spooled_uploaded=uploaded,
        )
        if recovery != Recovery():
            logger.warning("Archive %s recovered from an interrupted run: %s", self.storage.uri, recovery)
        return recovery

    def _recovered_manifest(self, folder: Path, published: Manifest | None) -> tuple[Manifest, bool]:
        """The manifest of a run spooled in ``folder``: the published one, with the status of
        the local copy if it finished; ``running`` becomes ``interrupted``."""
        local_copy = folder / LOCAL_MANIFEST
        local = read_manifest(local_copy) if local_copy.is_file() else None
        manifest = published or local
        if manifest is None:
            now = datetime.now(UTC)
            manifest = Manifest(run_id=folder.name, started_at=now, updated_at=now, status="interrupted")
            return manifest, True
        if local is not None and local.status == "finished":
            manifest.status, manifest.finished_at = "finished", local.finished_at
        if manifest.status == "running":
            manifest.status = "interrupted"
            return manifest, True
        return manifest, False


def _describe(path: Path, run_id: str, relpath: str) -> Spooled:
    """A spooled file left by an earlier run, described again from its content."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if relpath.startswith(f"{WARC}/"):
        from warcio.archiveiterator import ArchiveIterator

        with open(path, "rb") as f:  # a WARC file counts its pages: its response records
            records = sum(1 for r in ArchiveIterator(f) if r.rec_type == "response")
        return Spooled(run_id=run_id, relpath=relpath, path=path, records=records, bytes=path.stat().st_size, sha256=digest)
    with gzip.open(path, "rb") as f:
        lines = [line for line in f if line.strip()]
    entries = []
    if relpath.startswith(f"{ARTICLES}/"):
        entries = [index_entry(Article.model_validate_json(line)) for line in lines]
    elif relpath.startswith(f"{SIGHTINGS}/"):
        entries = [index_entry(Sighting.model_validate_json(line)) for line in lines]
    return Spooled(
        run_id=run_id,
        relpath=relpath,
        path=path,
        records=len(lines),
        bytes=path.stat().st_size,
        sha256=digest,
        entries=entries,
    )


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
