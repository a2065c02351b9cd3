"""Stage 1: extract clean text and metadata from a fetched page.

``FetchedPage`` in, ``ArticleCandidate`` out; a page with nothing to extract (not HTML,
empty, no article text) becomes a ``QuarantineRecord`` with the reason.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from extraction import ExtractionError, Extractor
from pipelines.outcomes import count, quarantine
from schemas import ArticleCandidate, FetchedPage, QuarantineRecord
from schemas.article import article_id, content_sha256


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
            fields={
                "id": article_id(ex.canonical_url),
                "url": item.url,
                "canonical_url": ex.canonical_url,
                "source": item.source,
                "title": ex.title,
                "text": ex.text,
                "authors": ex.authors,
                "published_at": ex.published_at,
                "modified_at": ex.modified_at,
                "language": ex.language,
                "original_publisher": ex.original_publisher,
                "site_name": ex.site_name,
                "description": ex.description,
                "tags": ex.tags,
                "image_url": ex.image_url,
                "fetched_at": item.fetched_at,
                "content_sha256": content_sha256(ex.text),
                "extractor": {"name": self.extractor.name, "version": self.extractor.version},
            },
        )

    def _quarantine(self, page: FetchedPage, reason: str) -> QuarantineRecord:
        return quarantine(
            self.stats,
            "extract",
            url=page.url,
            source=page.source,
            fetched_at=page.fetched_at,
            reason=reason,
            data={"status": page.status, "content_type": page.content_type, "request_url": page.request_url},
        )
