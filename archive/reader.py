"""Reading the archive back, for consumers: only files that a manifest names, in manifest order.

    from archive import Archive

    archive = Archive.open("file:///data/news")          # or a path, or s3://bucket/prefix
    for article in archive.articles(source="RT", fetched_since=datetime(2024, 5, 1, tzinfo=UTC)):
        ...
    html = archive.raw_html(article)                        # the page as it was served

Order: runs oldest first (run ids sort by start time), each run's files in the order its
manifest lists them, each file's records in the order they were written.

Incremental reads: ``since_run=RUN_ID`` reads only runs started after that run;
a :class:`Cursor` remembers which files were consumed, so a consumer that runs after each
crawl gets every record exactly once, including records of files added later to the
manifest of a run that was still running (or was interrupted) at the previous read.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from archive.storage import Storage, open_storage, read_range
from archive.warc import RawResponse, parse_response_record
from archive.writer import ARTICLES, MANIFESTS, QUARANTINE, SIGHTINGS, WARC
from schemas import Article, Manifest, ManifestFile, QuarantineRecord, RawRef, Sighting

R = TypeVar("R", bound=BaseModel)

CURSOR_FORMAT = "newsarchive-cursor"
CURSOR_VERSION = 1


class RawNotAvailable(LookupError):
    """The record has no raw response, or its WARC file is not (yet) named in a manifest."""


@dataclass
class Cursor:
    """Which manifest-named files a consumer has read: ``{run_id: {file path, …}}``.

    Stored as JSON (``save``/``load``); the file is rewritten atomically. A file counts as
    consumed once all its records were yielded, whatever filters were applied.
    """

    path: Path | None = None
    consumed: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Cursor:
        """The cursor stored in ``path``; an empty one if the file does not exist yet."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path=path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable cursor file: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != CURSOR_FORMAT or data.get("version") != CURSOR_VERSION:
            raise ValueError(f"{path}: not a newsarchive cursor file (version {CURSOR_VERSION})")
        return cls(path=path, consumed={run: set(files) for run, files in data["consumed"].items()})

    def save(self, path: str | Path | None = None) -> None:
        path = Path(path or self.path or "")
        if not path.name:
            raise ValueError("cursor has no file to save to")
        data = {
            "format": CURSOR_FORMAT,
            "version": CURSOR_VERSION,
            "consumed": {run: sorted(files) for run, files in sorted(self.consumed.items())},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=1) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def is_consumed(self, run_id: str, entry: ManifestFile) -> bool:
        return entry.path in self.consumed.get(run_id, ())

    def mark(self, run_id: str, entry: ManifestFile) -> None:
        self.consumed.setdefault(run_id, set()).add(entry.path)


def _file_day(entry: ManifestFile) -> date | None:
    for part in entry.path.split("/"):
        if part.startswith("date="):
            try:
                return date.fromisoformat(part.removeprefix("date="))
            except ValueError:
                return None
    return None


def _aware(when: datetime | None) -> datetime | None:
    if when is not None and when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when


def _in_range(value: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    if value is None:
        return False
    return (since is None or value >= since) and (until is None or value < until)


class Archive:
    """A read-only view of an archive, on any storage backend."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._warc_named: set[str] = set()  # WARC files seen named in a manifest (only ever grows)

    @classmethod
    def open(cls, uri: str | Path | Storage, **options: Any) -> Archive:
        """The archive at a path, ``file:///path`` or any URI scheme :func:`open_storage` knows
        (``options`` go to the backend, e.g. ``endpoint_url=`` for an S3-compatible store),
        or on an already opened storage."""
        if not isinstance(uri, (str, Path)):
            return cls(uri)
        return cls(open_storage(str(uri), **options))

    @property
    def uri(self) -> str:
        return self.storage.uri

    # -- runs and files ------------------------------------------------------------------

    def manifests(self) -> list[Manifest]:
        """Every run's manifest, oldest run first, as stored now (a running run's grows)."""
        keys = [k for k in self.storage.list(f"{MANIFESTS}/") if k.endswith(".json")]
        return [Manifest.model_validate_json(self.storage.get_bytes(k)) for k in sorted(keys)]

    def run_ids(self) -> list[str]:
        return [m.run_id for m in self.manifests()]

    def files(
        self, kind: str, *, since_run: str | None = None, cursor: Cursor | None = None
    ) -> list[tuple[str, ManifestFile]]:
        """(run id, file) of every published file of ``kind`` still to read."""
        found = []
        for manifest in self.manifests():
            if since_run is not None and manifest.run_id <= since_run:
                continue
            for entry in manifest.files:
                if entry.kind == kind and not (cursor and cursor.is_consumed(manifest.run_id, entry)):
                    found.append((manifest.run_id, entry))
        return found

    def _lines(self, entry: ManifestFile) -> Iterator[bytes]:
        with self.storage.open_read(entry.path) as raw, gzip.open(raw, "rb") as f:
            yield from (line for line in f if line.strip())

    def _records(
        self,
        kind: str,
        model: type[R],
        *,
        since_run: str | None,
        cursor: Cursor | None,
        day_range: tuple[datetime | None, datetime | None] = (None, None),
    ) -> Iterator[R]:
        since, until = day_range
        for run_id, entry in self.files(kind, since_run=since_run, cursor=cursor):
            day = _file_day(entry)
            # partitions hold one UTC day of fetch (or sighting) times: skip whole files
            skip = day is not None and (
                (since is not None and datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) <= since)
                or (until is not None and datetime.combine(day, datetime.min.time(), UTC) >= until)
            )
            if not skip:
                for line in self._lines(entry):
                    yield model.model_validate_json(line)
            if cursor is not None:
                cursor.mark(run_id, entry)

    # -- records -------------------------------------------------------------------------

    def articles(
        self,
        *,
        published_since: datetime | None = None,
        published_until: datetime | None = None,
        fetched_since: datetime | None = None,
        fetched_until: datetime | None = None,
        source: str | Iterable[str] | None = None,
        language: str | None = None,
        min_relevance: float | None = None,
        since_run: str | None = None,
        cursor: Cursor | None = None,
    ) -> Iterator[Article]:
        """Articles matching every given filter. Date ranges include ``since`` and exclude
        ``until`` (naive datetimes are UTC); an article without ``published_at`` (or
        ``relevance``) never matches a filter on it."""
        sources = {source} if isinstance(source, str) else set(source) if source is not None else None
        published_since, published_until = _aware(published_since), _aware(published_until)
        fetched_since, fetched_until = _aware(fetched_since), _aware(fetched_until)
        for a in self._records(
            ARTICLES, Article, since_run=since_run, cursor=cursor, day_range=(fetched_since, fetched_until)
        ):
            if (
                _in_range(a.fetched_at, fetched_since, fetched_until)
                and _in_range(a.published_at, published_since, published_until)
                and (sources is None or a.source in sources)
                and (language is None or a.language == language)
                and (min_relevance is None or (a.relevance is not None and a.relevance >= min_relevance))
            ):
                yield a

    def sightings(
        self,
        *,
        story_id: str | None = None,
        source: str | None = None,
        since_run: str | None = None,
        cursor: Cursor | None = None,
    ) -> Iterator[Sighting]:
        """Later copies of stored stories (optionally of one story, or seen at one outlet)."""
        for s in self._records(SIGHTINGS, Sighting, since_run=since_run, cursor=cursor):
            if (story_id is None or s.story_id == story_id) and (source is None or s.source == source):
                yield s

    def quarantine(self, *, since_run: str | None = None, cursor: Cursor | None = None) -> Iterator[QuarantineRecord]:
        yield from self._records(QUARANTINE, QuarantineRecord, since_run=since_run, cursor=cursor)

    def get(self, article_id: str) -> Article | None:
        """The article with this id (a scan of the article files), or None."""
        needle = article_id.encode()
        for _run_id, entry in self.files(ARTICLES):
            for line in self._lines(entry):
                if needle in line:
                    article = Article.model_validate_json(line)
                    if article.id == article_id:
                        return article
        return None

    # -- raw responses -------------------------------------------------------------------

    def warc_files(self) -> set[str]:
        """Every WARC file named in a manifest now."""
        self._warc_named = {entry.path for _run_id, entry in self.files(WARC)}
        return set(self._warc_named)

    def raw(self, record: Article | RawRef) -> RawResponse:
        """The archived HTTP response an article was extracted from (one ranged read)."""
        ref = record.raw if isinstance(record, Article) else record
        if ref is None:
            raise RawNotAvailable(f"article {record.id} has no raw response in the archive")  # type: ignore[union-attr]
        if ref.warc not in self._warc_named and ref.warc not in self.warc_files():
            raise RawNotAvailable(f"WARC file {ref.warc} is not named in any manifest (yet)")
        return parse_response_record(read_range(self.storage, ref.warc, ref.offset, ref.length))

    def raw_html(self, record: Article | RawRef) -> str:
        """The archived page as text, decoded exactly as the crawl decoded it."""
        return decode_html(self.raw(record))


def decode_html(response: RawResponse) -> str:
    """The body as Scrapy decoded it during the crawl (declared charset, BOM, meta, sniffing)."""
    from scrapy.http import HtmlResponse

    headers = {}
    if content_type := response.header("Content-Type"):
        headers["Content-Type"] = content_type
    return HtmlResponse(url=response.url, body=response.body, headers=headers).text

# -- the first reader's functions, kept for existing callers ---------------------------------


def manifests(root: str | Path | Storage) -> list[Manifest]:
    """Every run's manifest, oldest run first (run ids sort by start time)."""
    return Archive.open(root).manifests()


def read_articles(root: str | Path | Storage) -> Iterator[Article]:
    return Archive.open(root).articles()


def read_quarantine(root: str | Path | Storage) -> Iterator[QuarantineRecord]:
    return Archive.open(root).quarantine()


def read_sightings(root: str | Path | Storage) -> Iterator[Sighting]:
    return Archive.open(root).sightings()
