"""Downloader middlewares."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class ProxyMiddleware:
    """Routes every request through one HTTP proxy (setting ``PROXY_URL``).

    Sets ``request.meta["proxy"]`` for Scrapy's own HttpProxyMiddleware, unless a request
    already names its proxy.
    """

    def __init__(self, proxy_url: str) -> None:
        if not proxy_url:
            raise NotConfigured("PROXY_URL is not set")
        self.proxy_url = proxy_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        return cls(crawler.settings.get("PROXY_URL", ""))

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("proxy", self.proxy_url)
