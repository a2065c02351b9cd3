"""Articles out of the archive as JSON Lines, CSV or Parquet (``newsarchive export``).

JSON Lines keeps each record exactly as archived. CSV and Parquet are flat tables with the
columns of :data:`ARTICLE_COLUMNS` (``extractor`` and ``raw`` flattened to
``extractor_name``/``extractor_version`` and ``raw_warc``/``raw_offset``/``raw_length``/
``raw_record_id``). In CSV, timestamps are ISO 8601 in UTC, lists are JSON arrays and a
missing value is an empty cell. Parquet (needs ``pyarrow``: ``pip install
'newsarchive[parquet]'``) uses these types, which DuckDB reads as noted:

==================  ====================  ==========================
column              Parquet (Arrow) type  DuckDB type
==================  ====================  ==========================
timestamps          timestamp[us, UTC]    TIMESTAMP WITH TIME ZONE
authors, tags       list<string>          VARCHAR[]
relevance           float64               DOUBLE
raw_offset/length   int64                 BIGINT
schema_version      int32                 INTEGER
everything else     string                VARCHAR
==================  ====================  ==========================

A field added to ``Article`` later and not listed here is exported as a string column
holding its JSON value.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Any

from schemas import Article

_TIMESTAMP = "timestamp[us, tz=UTC]"

ARTICLE_COLUMNS: list[tuple[str, str, Callable[[Article], Any]]] = [
    ("schema_version", "int32", lambda a: a.schema_version),
    ("id", "string", lambda a: a.id),
    ("url", "string", lambda a: a.url),
    ("canonical_url", "string", lambda a: a.canonical_url),
    ("source", "string", lambda a: a.source),
    ("title", "string", lambda a: a.title),
    ("text", "string", lambda a: a.text),
    ("authors", "list<string>", lambda a: list(a.authors)),
    ("published_at", _TIMESTAMP, lambda a: a.published_at),
    ("modified_at", _TIMESTAMP, lambda a: a.modified_at),
    ("language", "string", lambda a: a.language),
    ("original_publisher", "string", lambda a: a.original_publisher),
    ("site_name", "string", lambda a: a.site_name),
    ("description", "string", lambda a: a.description),
    ("tags", "list<string>", lambda a: list(a.tags)),
    ("image_url", "string", lambda a: a.image_url),
    ("relevance", "float64", lambda a: a.relevance),
    ("fetched_at", _TIMESTAMP, lambda a: a.fetched_at),
    ("content_sha256", "string", lambda a: a.content_sha256),
    ("extractor_name", "string", lambda a: a.extractor.name),
    ("extractor_version", "string", lambda a: a.extractor.version),
    ("raw_warc", "string", lambda a: a.raw.warc if a.raw else None),
    ("raw_offset", "int64", lambda a: a.raw.offset if a.raw else None),
    ("raw_length", "int64", lambda a: a.raw.length if a.raw else None),
    ("raw_record_id", "string", lambda a: a.raw.record_id if a.raw else None),
]
"""(column, Arrow type, value) of the flat export; see the module docstring."""

_COVERED = {"extractor", "raw"} | {name for name, _, _ in ARTICLE_COLUMNS}


def _columns() -> list[tuple[str, str, Callable[[Article], Any]]]:
    extra = [
        (name, "string", lambda a, name=name: None if getattr(a, name) is None else json.dumps(
            a.model_dump(mode="json", include={name})[name], ensure_ascii=False))
        for name in Article.model_fields
        if name not in _COVERED
    ]
    return ARTICLE_COLUMNS + extra


def write_jsonl(articles: Iterable[Article], out: IO[str]) -> int:
    n = 0
    for n, article in enumerate(articles, 1):  # noqa: B007 - the count is returned
        out.write(article.model_dump_json() + "\n")
    return n


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_csv(articles: Iterable[Article], out: IO[str]) -> int:
    columns = _columns()
    writer = csv.writer(out)
    writer.writerow([name for name, _, _ in columns])
    n = 0
    for n, article in enumerate(articles, 1):  # noqa: B007
        writer.writerow([_csv_value(get(article)) for _, _, get in columns])
    return n


def parquet_schema() -> Any:
    """The Arrow schema of the Parquet export."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "list<string>": pa.list_(pa.string()),
        _TIMESTAMP: pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind, _ in _columns()])


def write_parquet(articles: Iterable[Article], path: str, *, row_group: int = 5000) -> int:
    """Write a Parquet file (row groups of ``row_group`` articles); returns the count."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise RuntimeError("Parquet export needs pyarrow: pip install 'newsarchive[parquet]'") from exc

    schema = parquet_schema()
    columns = _columns()
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        rows: list[Article] = []

        def flush() -> None:
            arrays = [
                pa.array([get(a) for a in rows], type=f.type) for (_, _, get), f in zip(columns, schema, strict=True)
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            rows.clear()

        for article in articles:
            rows.append(article)
            n += 1
            if len(rows) >= row_group:
                flush()
        if rows or n == 0:
            flush()
    return n
