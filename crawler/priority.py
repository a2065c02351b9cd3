"""Best-first crawling: article requests ordered by how likely they are to be on topic.

A spider middleware. Every article request (``meta["kind"] == "article"``) is scored
against the topic profile on what is known before fetching it: ``meta["link_text"]`` (the
anchor text, or the feed entry's title and summary) and the words of its URL. Its priority
becomes ``priority + round(score * 100) - 100``: articles still come after any discovery
request of the same base priority (feeds, sitemaps, listing pages: so the frontier is known
first), and among themselves the likeliest first. Scrapy's scheduler pops higher priorities
first (its default queue, ``DownloaderAwarePriorityQueue``, takes turns between sites and
pops the highest priority within each), so when a crawl is bounded
(``CLOSESPIDER_PAGECOUNT``, a time limit) each outlet's relevant articles are the ones
fetched. A hundred levels are plenty to put the likely articles first; with a job directory
each level in use is a queue file on disk, created when its first request comes and deleted
when its last one goes, so finer levels (a thousand, at first) cost file churn on every
request and thousands of files on a large crawl.

Off with ``RELEVANCE_PRIORITY_ENABLED = False`` (or ``RELEVANCE_ENABLED = False``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from w3lib.html import remove_tags

from relevance import RelevanceConfig, TopicProfile
from relevance.text import slug_text

PRIORITY_SCALE = 100


class RelevancePriorityMiddleware:
    def __init__(self, profile: TopicProfile) -> None:
        self.profile = profile

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePriorityMiddleware:
        config = RelevanceConfig.from_settings(crawler.settings)
        if not (config.enabled and config.priority_enabled):
            raise NotConfigured("RELEVANCE_PRIORITY_ENABLED or RELEVANCE_ENABLED is off")
        return cls(config.profile())

    def link_score(self, request: Request) -> float:
        """The cheap score of a link: its text and URL words against the profile."""
        link_text = remove_tags(request.meta.get("link_text") or "")
        return self.profile.score(f"{link_text}\n{slug_text(request.url)}")

    def prioritise(self, request: Request) -> Request:
        score = self.link_score(request)
        request.meta["link_score"] = round(score, 4)
        request.priority += round(score * PRIORITY_SCALE) - PRIORITY_SCALE
        return request

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for obj in result:
            if isinstance(obj, Request) and obj.meta.get("kind") == "article":
                obj = self.prioritise(obj)
            yield obj
