"""Stage 2: validate a candidate against the Article schema.

A candidate that fails becomes a ``QuarantineRecord`` naming every failed field, with the
extracted fields kept for inspection; nothing is dropped silently.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from pipelines.outcomes import count, quarantine
from schemas import Article, ArticleCandidate


def describe(exc: ValidationError) -> str:
    """One line naming each failing field and why."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())


class ValidatePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(stats=crawler.stats)

    def process_item(self, item: object) -> object:
        if not isinstance(item, ArticleCandidate):
            return item
        try:
            article = Article.model_validate(item.fields)
        except ValidationError as exc:
            return quarantine(
                self.stats,
                "validate",
                url=item.url,
                source=item.source,
                fetched_at=item.fetched_at,
                reason=describe(exc),
                data=to_jsonable_python(item.fields, fallback=repr),
            )
        count(self.stats, "validate/valid", item.source)
        return article
