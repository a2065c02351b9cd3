"""The spider's requests: Scrapy's ``Request``, cheaper to store in a job directory.

With a job directory (``newsarchive crawl`` keeps one, so an interrupted run can resume),
Scrapy's scheduler stores every request on disk through ``Request.to_dict(spider=...)``,
which finds the names of the callback and errback with ``inspect.getmembers(spider)``: all
of the spider's attributes, twice per request (0.15 ms each on our spider, about 2% of a
crawl's CPU). :class:`NewsRequest` looks the name up directly and falls back to Scrapy's
search only when the direct lookup does not match. The stored form is Scrapy's own, so
``request_from_dict`` restores it (as a ``NewsRequest``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import scrapy
from scrapy.http.request import _find_method


def method_name(spider: scrapy.Spider | None, func: Callable[..., Any] | None) -> str | None:
    """The name under which ``spider`` has the bound method ``func``."""
    if func is None:
        return None
    name = getattr(func, "__name__", None)
    bound = getattr(spider, name, None) if spider is not None and name else None
    if bound is not None and getattr(bound, "__func__", None) is getattr(func, "__func__", object()):
        return name
    return _find_method(spider, func)  # raises ValueError, as Scrapy does, if it is not one


class NewsRequest(scrapy.Request):
    def to_dict(self, *, spider: scrapy.Spider | None = None) -> dict[str, Any]:
        callback, errback = self.callback, self.errback
        self.callback = self.errback = None  # Scrapy's to_dict would search the spider for them
        try:
            d = super().to_dict(spider=spider)
        finally:
            self.callback, self.errback = callback, errback
        d["callback"] = method_name(spider, callback) if callable(callback) else callback
        d["errback"] = method_name(spider, errback) if callable(errback) else errback
        return d
