"""Request fingerprints on the canonical form of the URL, so the same page is not fetched
twice under two URLs (tracking parameters, AMP or mobile variants, ``www.`` or not, http or
https, a fragment): ``REQUEST_FINGERPRINTER_CLASS = "crawler.fingerprint.CanonicalRequestFingerprinter"``.

The form is :func:`extraction.urls.dedup_form`, the one the dedup index keys URLs by. A
redirect whose target is the same page as a URL it came from (``/a?utm_source=rss`` →
``/a``) keeps a distinct fingerprint: otherwise the scheduler would drop the redirected
request as a duplicate of the one that led to it.
"""

from __future__ import annotations

import hashlib
import json
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.crawler import Crawler

from extraction.urls import dedup_form


class CanonicalRequestFingerprinter:
    def __init__(self) -> None:
        self._cache: WeakKeyDictionary[Request, bytes] = WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CanonicalRequestFingerprinter:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        if (cached := self._cache.get(request)) is not None:
            return cached
        page = dedup_form(request.url)
        came_from = {dedup_form(u) for u in request.meta.get("redirect_urls", ())}
        data = {
            "method": request.method.upper(),
            "url": page,
            "body": hashlib.sha1(request.body).hexdigest(),
            "redirected_to_itself": page in came_from,
        }
        fp = hashlib.sha1(json.dumps(data, sort_keys=True).encode("utf-8")).digest()
        self._cache[request] = fp
        return fp
