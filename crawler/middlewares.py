"""Downloader middlewares: the proxy, an honest User-Agent, and polite retries."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from ipaddress import ip_address

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host or "").is_loopback
    except ValueError:
        return False


class ProxyMiddleware:
    """Routes every request through one HTTP proxy (setting ``PROXY_URL``).

    Sets ``request.meta["proxy"]`` for Scrapy's own HttpProxyMiddleware, unless a request
    already names its proxy or goes to a loopback address (never proxied).
    """

    def __init__(self, proxy_url: str) -> None:
        if not proxy_url:
            raise NotConfigured("PROXY_URL is not set")
        self.proxy_url = proxy_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        return cls(crawler.settings.get("PROXY_URL", ""))

    def process_request(self, request: Request) -> None:
        from urllib.parse import urlsplit

        if _is_loopback(urlsplit(request.url).hostname):
            return
        request.meta.setdefault("proxy", self.proxy_url)


def user_agent(base: str, contact: str) -> str:
    """``base`` with ``contact`` (an e-mail address or URL) added to its comment."""
    if not contact:
        return base
    if base.endswith(")"):
        return f"{base[:-1]}; contact: {contact})"
    return f"{base} (contact: {contact})"


class UserAgentMiddleware:
    """Sends ``USER_AGENT`` (naming the project) with ``NEWS_CONTACT`` added, so a site's
    operators can reach whoever runs the crawl. Replaces Scrapy's UserAgentMiddleware."""

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UserAgentMiddleware:
        s = crawler.settings
        return cls(user_agent(s.get("USER_AGENT", ""), s.get("NEWS_CONTACT", "")))

    def process_request(self, request: Request) -> None:
        if self.user_agent:
            request.headers.setdefault(b"User-Agent", self.user_agent)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (``RETRY_TIMES``; ``RETRY_HTTP_CODES``: 429 and 5xx; network
    errors), waiting before each retry: the ``Retry-After`` the server asked for, else
    exponential backoff (``NEWS_RETRY_BACKOFF_BASE`` × 2^(n-1), at most
    ``NEWS_RETRY_BACKOFF_MAX`` seconds).
    A ``Retry-After`` longer than ``NEWS_RETRY_AFTER_MAX`` is not waited for: the request
    fails (reason ``http_429`` …) and the next scheduled run tries again.

    Only the retried request waits (its download slot stays busy meanwhile, which is the
    point: the site asked us to slow down)."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("NEWS_RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("NEWS_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("NEWS_RETRY_AFTER_MAX", 120.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        stats = self.crawler.stats
        if asked is not None and asked > self.retry_after_max:
            logger.info("Not retrying %s: Retry-After %.0f s is longer than %.0f s", request, asked, self.retry_after_max)
            if stats:
                stats.inc_value("retry/retry_after_too_long")
            return response
        retry = self._retry(request, f"{response.status} response")
        if retry is None:
            return response
        attempt = retry.meta.get("retry_times", 1)
        wait = asked if asked is not None else min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        if stats:
            stats.inc_value("retry/waited_seconds", round(wait, 3))
            if asked is not None:
                stats.inc_value("retry/retry_after_honoured")
        if wait > 0:
            await _sleep(wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:  # type: ignore[override]
        """Network errors (refused, timed out, reset) are retried after the same backoff."""
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        wait = min(self.backoff_max, self.backoff_base * 2 ** (retry.meta.get("retry_times", 1) - 1))
        if self.crawler.stats:
            self.crawler.stats.inc_value("retry/waited_seconds", round(wait, 3))
        if wait > 0:
            await _sleep(wait)
        return retry


async def _sleep(seconds: float) -> None:
    try:  # Scrapy >= 2.18: works with and without the asyncio reactor
        from scrapy.utils.asyncio import sleep
    except ImportError:  # pragma: no cover
        await asyncio.sleep(seconds)
        return
    await sleep(seconds)


class RedirectLoopMiddleware:
    """Fails a request at once when a redirect leads back to a URL of its own redirect
    chain (``IgnoreRequest("redirect loop …")``, counted by the spider as reason
    ``redirect_loop``). Without it, Scrapy's duplicate filter drops the looping request
    silently. Runs before Scrapy's RedirectMiddleware (a higher number)."""

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in (301, 302, 303, 307, 308) or b"Location" not in response.headers:
            return response
        if response.status in request.meta.get("handle_httpstatus_list", ()) or request.meta.get("dont_redirect"):
            return response
        from urllib.parse import urljoin

        from scrapy.exceptions import IgnoreRequest
        from w3lib.url import safe_url_string

        target = safe_url_string(urljoin(request.url, response.headers[b"Location"].decode("latin-1")))
        chain = {*request.meta.get("redirect_urls", ()), request.url}
        if target in chain:
            raise IgnoreRequest(f"redirect loop: {request.url} -> {target}")
        return response
