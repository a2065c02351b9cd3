"""Stage 1: extract clean text and metadata from a fetched page.

``FetchedPage`` in, ``ArticleCandidate`` out; a page with nothing to extract (not HTML,
empty, no article text) becomes a ``QuarantineRecord`` with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from extraction import ExtractionError, Extracted, Extractor
from pipelines.outcomes import count, quarantine
from schemas import ArticleCandidate, FetchedPage, QuarantineRecord, RawRef
from schemas.article import article_id, content_sha256


def article_fields(
    ex: Extracted, extractor: Extractor, *, url: str, source: str, fetched_at: datetime, raw: RawRef | None = None
) -> dict[str, Any]:
    """The Article fields of one extraction: the one mapping used by this stage and by
    ``newsarchive reextract``."""
    return {
        "id": article_id(ex.canonical_url),
        "url": url,
        "canonical_url": ex.canonical_url,
        "source": source,
        "title": ex.title,
        "text": ex.text,
        "authors": ex.authors,
        "published_at": ex.published_at,
        "language": ex.language,
        "original_publisher": ex.original_publisher,
        "fetched_at": fetched_at,
        "content_sha256": content_sha256(ex.text),
        "extractor": {"name": extractor.name, "version": extractor.version},
        "raw": raw,
    }


class ExtractPipeline:
    def __init__(self, stats: StatsCollector, extractor: Extractor | None = None) -> None:
        self.stats = stats
        self.extractor = extractor or Extractor()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(stats=crawler.stats)

    def process_item(self, item: object) -> object:
        if not isinstance(item, FetchedPage):
            return item
        if item.html is None:
            return self._quarantine(item, f"not an HTML page (Content-Type: {item.content_type or 'missing'})")
        try:
            ex = self.extractor.extract(item.html, item.url)
        except ExtractionError as exc:
            return self._quarantine(item, str(exc))
        count(self.stats, "extract/extracted", item.source)
        return ArticleCandidate(
            url=item.url,
            source=item.source,
            fetched_at=item.fetched_at,
            fields=article_fields(ex, self.extractor, url=item.url, source=item.source, fetched_at=item.fetched_at, raw=item.raw),
        )

    def _quarantine(self, page: FetchedPage, reason: str) -> QuarantineRecord:
        return quarantine(
            self.stats,
            "extract",
            url=page.url,
            source=page.source,
            fetched_at=page.fetched_at,
            reason=reason,
            data={
                "status": page.status,
                "content_type": page.content_type,
                "request_url": page.request_url,
                "raw": page.raw.model_dump() if page.raw else None,
            },
        )
