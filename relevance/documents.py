"""Reading a document to score from a file or a URL, the way the crawl would see it.

HTML goes through ``extraction.Extractor`` (title and clean body); plain text through the
line rules of ``extraction/cleaning.py``, as seeds are.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path

from extraction import ExtractionError, Extractor
from extraction.cleaning import clean_text

USER_AGENT = "newsarchive-topic/0.1 (+https://pypi.org/project/newsarchive/)"


class DocumentError(ValueError):
    """The document cannot be read or has no text; the message says which and why."""


@dataclass(frozen=True)
class Document:
    where: str
    title: str | None
    text: str

    @property
    def scored_text(self) -> str:
        """What the relevance stage scores: the title, then the body."""
        return f"{self.title or ''}\n{self.text}"


def _looks_like_html(data: bytes, content_type: str | None) -> bool:
    if content_type:
        return "html" in content_type.lower()
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in head


def _document(where: str, data: bytes, content_type: str | None, extractor: Extractor) -> Document:
    if _looks_like_html(data, content_type):
        try:
            ex = extractor.extract(data, where if "://" in where else Path(where).resolve().as_uri())
        except ExtractionError as exc:
            raise DocumentError(f"{where}: {exc}") from exc
        return Document(where, ex.title, ex.text)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{where}: not UTF-8 text: {exc}") from exc
    cleaned = clean_text(text).text
    if not cleaned.strip():
        raise DocumentError(f"{where}: no text")
    return Document(where, None, cleaned)


def read_document(where: str, *, proxy: str | None = None, timeout: float = 30.0, extractor: Extractor | None = None) -> Document:
    """A file path, or an http(s) URL fetched with one plain GET (through ``proxy`` if given)."""
    extractor = extractor or Extractor()
    if where.startswith(("http://", "https://")):
        handlers = [urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {})]
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(where, headers={"User-Agent": USER_AGENT})
        try:
            with opener.open(request, timeout=timeout) as response:
                data = response.read()
                content_type = response.headers.get("Content-Type")
        except OSError as exc:  # URLError, HTTPError, timeouts
            raise DocumentError(f"{where}: cannot be fetched: {exc}") from exc
        return _document(where, data, content_type, extractor)
    try:
        data = Path(where).read_bytes()
    except OSError as exc:
        raise DocumentError(f"{where}: cannot be read: {exc.strerror or exc}") from exc
    return _document(where, data, None, extractor)
