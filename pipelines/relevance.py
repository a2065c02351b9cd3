"""Stage 2b: keep only articles on the seeds' topic.

Each article gets its relevance (``Article.relevance``, 0-1: see ``relevance/profile.py``).
One below the threshold is not stored: it is counted (``relevance/rejected``, also per
source) and listed with its URL and score in the stats (``relevance/rejected_items``, the
first ``RELEVANCE_REJECTED_LIST_MAX``), which the run summary prints.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector

from pipelines.outcomes import count
from relevance import RelevanceConfig, TopicProfile
from schemas import Article


class OffTopic(DropItem):
    """An article below the threshold. ``seen_reason`` names the topic profile that judged
    it, so that the crawl state skips the page only while the profile is unchanged."""

    def __init__(self, message: str, *, profile: str) -> None:
        super().__init__(message, log_level="INFO")
        self.seen_reason = f"off_topic/{profile}"


class RelevancePipeline:
    def __init__(self, profile: TopicProfile, stats: StatsCollector, *, rejected_list_max: int = 500) -> None:
        self.profile = profile
        self.stats = stats
        self.rejected_list_max = rejected_list_max

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePipeline:
        config = RelevanceConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("RELEVANCE_ENABLED is off")
        return cls(config.profile(), crawler.stats, rejected_list_max=config.rejected_list_max)

    def open_spider(self) -> None:
        self.stats.set_value("relevance/threshold", round(self.profile.threshold, 4))
        self.stats.set_value("relevance/seeds", len(self.profile.seeds))
        self.stats.set_value("relevance/profile", self.profile.fingerprint)

    def process_item(self, item: object) -> object:
        if not isinstance(item, Article):
            return item
        score = self.profile.score(f"{item.title or ''}\n{item.text}")
        item.relevance = round(score, 4)
        if score < self.profile.threshold:
            count(self.stats, "relevance/rejected", item.source)
            listed = self.stats.get_value("relevance/rejected_items") or []
            if len(listed) < self.rejected_list_max:
                listed.append({"url": item.url, "source": item.source, "score": item.relevance, "title": item.title})
                self.stats.set_value("relevance/rejected_items", listed)
            raise OffTopic(
                f"Off topic {item.url}: relevance {score:.3f} < threshold {self.profile.threshold:.3f}",
                profile=self.profile.fingerprint,
            )
        count(self.stats, "relevance/kept", item.source)
        return item
