"""Stage 3: drop an article already stored, by URL or by text, in this run or an earlier one.

Earlier runs are answered by the archive's dedup index (``state/index.sqlite``, filled by
the store stage as batches are published); this run's articles not yet published are
remembered here.
"""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from archive import DedupIndex, index_entry, parse_archive_uri
from archive.writer import STATE
from pipelines.outcomes import count
from schemas import Article


class DedupPipeline:
    def __init__(self, archive_root: Path, stats: StatsCollector) -> None:
        self.index = DedupIndex(Path(archive_root) / STATE / "index.sqlite")
        self.stats = stats
        self._urls: dict[str, str] = {}
        self._texts: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        return cls(archive_root=parse_archive_uri(crawler.settings["ARCHIVE_URI"]), stats=crawler.stats)

    def open_spider(self) -> None:
        self.index.open()

    def close_spider(self) -> None:
        self.index.close()

    def process_item(self, item: object) -> object:
        if not isinstance(item, Article):
            return item
        _, keys, fingerprint = index_entry(item)
        for key in keys:
            if stored := self._urls.get(key) or self.index.article_for_url(key):
                count(self.stats, "dedup/dropped_url", item.source)
                raise DropItem(f"Duplicate URL {item.url}: stored as article {stored}", log_level="INFO")
        if stored := self._texts.get(fingerprint) or self.index.article_for_text(fingerprint):
            count(self.stats, "dedup/dropped_text", item.source)
            raise DropItem(f"Duplicate text at {item.url}: same text as article {stored}", log_level="INFO")
        for key in keys:
            self._urls[key] = item.id
        self._texts[fingerprint] = item.id
        return item
