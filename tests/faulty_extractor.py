"""A test-only extractor that kills or hangs its worker on chosen pages (for the pool tests).

Given to the pipeline as ``EXTRACT_EXTRACTOR_CLASS`` (or ``extractor_factory``), so it is
built in each worker process: it must stay importable and picklable.
"""

from __future__ import annotations

from typing import Any

import os
import time

from extraction import Extracted, Extractor

CRASH = "<!-- test: crash the worker -->"
HANG = "<!-- test: hang the worker -->"
CRASH_EXIT_CODE = 7


class FaultyExtractor(Extractor):
    """Dies with exit code 7 on pages containing ``CRASH`` or whose URL is in ``crash_urls``;
    sleeps for an hour on ``HANG`` or ``hang_urls``; otherwise extracts as usual."""

    def __init__(self, crash_urls: frozenset[str] = frozenset(), hang_urls: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.crash_urls = crash_urls
        self.hang_urls = hang_urls

    def extract(self, html: str | bytes, url: str, **options: Any) -> Extracted:
        text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
        if CRASH in text or url in self.crash_urls:
            os._exit(CRASH_EXIT_CODE)
        if HANG in text or url in self.hang_urls:
            time.sleep(3600)
        return super().extract(html, url, **options)


def broken_factory() -> Extractor:
    """An extractor factory that fails in every worker (a missing model, say)."""
    raise RuntimeError("no language model here")
