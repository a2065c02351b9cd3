"""Stage 3: one story, stored once. A page already stored (same URL) is dropped; a copy of
a stored story (same text, or a near copy by MinHash-LSH) becomes a ``Sighting`` of it.

Earlier runs are answered by the archive's dedup index (``state/index.sqlite``, filled by
the store stage as batches are published); this run's articles not yet published are kept
in a :class:`~archive.index.MemoryIndex` here.

Outcomes, each also per outlet:

* ``dedup/dropped_url``: the page's URL (fetched or canonical, in canonical form) is one
  already stored or sighted. The same page fetched again is not a sighting: nothing new
  is learnt about where the story appeared. Dropped.
* ``dedup/dropped_text``: same words as a stored article (case and punctuation aside).
* ``dedup/dropped_near``: estimated Jaccard similarity of word shingles with a stored
  article at least ``DEDUP_NEAR_THRESHOLD``.

A text or near copy is not stored as an article: it goes on as a ``Sighting`` (story id,
URL, outlet, time, similarity, match kind, the publisher it names) that the store stage
writes under ``sightings/``. ``is_original`` is set when the copy's outlet is the original
publisher detected on the stored story (an AP story first stored from an aggregator, then
found on AP News).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from archive import parse_archive_uri
from archive.index import DedupIndex, IndexEntry, MemoryIndex, MinHasher, NearMatch, Story, index_entry
from archive.writer import STATE
from pipelines.outcomes import count
from schemas import Article, Sighting

logger = logging.getLogger(__name__)

# Names an outlet and a byline may use for the same publisher.
_PUBLISHER_ALIASES = (
    {"associated press", "ap", "ap news", "the associated press"},
    {"agence france presse", "afp", "agence france-presse"},
    {"reuters", "thomson reuters"},
    {"kuwait news agency", "kuna"},
    {"press trust of india", "pti"},
    {"united press international", "upi"},
    {"deutsche presse agentur", "dpa", "deutsche presse-agentur"},
    {"xinhua", "xinhua news agency"},
)
_ALIAS = {re.sub(r"[^a-z0-9]+", " ", name).strip(): min(group) for group in _PUBLISHER_ALIASES for name in group}


def _publisher_key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]+", " ", name.casefold()).strip().removeprefix("the ")
    return _ALIAS.get(key, _ALIAS.get(f"the {key}", key))


def same_publisher(a: str | None, b: str | None) -> bool:
    """True when two names (outlet, byline attribution) name one publisher:
    ``same_publisher("AP News", "Associated Press")``."""
    return bool(a and b) and _publisher_key(a) == _publisher_key(b)  # type: ignore[arg-type]


_T = TypeVar("_T")


def _setting(get: Callable[[str, _T], _T], name: str, default: _T) -> _T:
    """A setting read with a typed getter; a value of the wrong type is an error naming it."""
    try:
        return get(name, default)
    except ValueError as exc:
        raise ValueError(f"setting {name}: {exc}") from None


class DedupPipeline:
    def __init__(
        self,
        archive_root: Path,
        stats: StatsCollector,
        *,
        near_threshold: float = 0.5,
        num_perm: int | None = None,
        bands: int | None = None,
        shingle_size: int | None = None,
    ) -> None:
        if not 0.0 < near_threshold <= 1.0:
            raise ValueError(f"setting DEDUP_NEAR_THRESHOLD: must be in (0, 1], not {near_threshold}")
        hasher = None
        if num_perm is not None or bands is not None or shingle_size is not None:
            defaults = MinHasher()
            try:
                hasher = MinHasher(num_perm or defaults.num_perm, bands or defaults.bands,
                                   shingle_size or defaults.shingle_size)
            except ValueError as exc:
                raise ValueError(f"settings DEDUP_NUM_PERM, DEDUP_LSH_BANDS, DEDUP_SHINGLE_SIZE: {exc}") from None
        self.index = DedupIndex(Path(archive_root) / STATE / "index.sqlite", hasher)
        self.near_threshold = near_threshold
        self.stats = stats
        self.pending = MemoryIndex(self.index.hasher)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        s = crawler.settings
        return cls(
            archive_root=parse_archive_uri(s["ARCHIVE_URI"]),
            stats=crawler.stats,
            near_threshold=_setting(s.getfloat, "DEDUP_NEAR_THRESHOLD", 0.5),
            num_perm=_setting(s.getint, "DEDUP_NUM_PERM", 0) or None,
            bands=_setting(s.getint, "DEDUP_LSH_BANDS", 0) or None,
            shingle_size=_setting(s.getint, "DEDUP_SHINGLE_SIZE", 0) or None,
        )

    def open_spider(self) -> None:
        self.index.open()
        self.pending = MemoryIndex(self.index.hasher)  # the parameters the archive's index was made with

    def close_spider(self) -> None:
        self.index.close()

    # -- lookups: this run's pending articles first, then the archive ----------------------

    def _by_url(self, keys: tuple[str, ...]) -> str | None:
        for key in keys:
            if found := self.pending.article_for_url(key) or self.index.article_for_url(key):
                return found
        return None

    def _by_text(self, fingerprint: str) -> str | None:
        return self.pending.article_for_text(fingerprint) or self.index.article_for_text(fingerprint)

    def _story(self, article_id: str) -> Story:
        return self.pending.story(article_id) or self.index.story(article_id) or Story(article_id, None, None)

    def _near(self, signature) -> NearMatch | None:  # type: ignore[no-untyped-def]
        found = [m for m in (self.pending.near(signature, self.near_threshold),
                             self.index.near(signature, self.near_threshold)) if m]
        return max(found, key=lambda m: m.similarity) if found else None

    # -- the stage -----------------------------------------------------------------------

    def process_item(self, item: object) -> object:
        if not isinstance(item, Article):
            return item
        entry = index_entry(item)
        if stored := self._by_url(entry.url_keys):
            count(self.stats, "dedup/dropped_url", item.source)
            raise DropItem(f"Duplicate URL {item.url}: stored as article {stored}", log_level="INFO")
        if stored := self._by_text(entry.fingerprint):  # type: ignore[arg-type]
            count(self.stats, "dedup/dropped_text", item.source)
            return self._sighting(item, entry, self._story(stored), "text", 1.0)
        signature = self.pending.hasher.signature(item.text)
        if match := self._near(signature):
            count(self.stats, "dedup/dropped_near", item.source)
            return self._sighting(item, entry, match.story, "near", match.similarity)
        self.pending.add(entry, signature)
        return item

    def _sighting(self, item: Article, entry: IndexEntry, story: Story, match: str, similarity: float) -> Sighting:
        is_original = same_publisher(item.source, story.original_publisher) and not same_publisher(
            story.source, story.original_publisher
        )
        sighting = Sighting(
            story_id=story.article_id,
            url=item.url,
            canonical_url=item.canonical_url,
            source=item.source,
            title=item.title,
            seen_at=item.fetched_at,
            match=match,  # type: ignore[arg-type]
            similarity=round(similarity, 4),
            original_publisher=item.original_publisher,
            is_original=is_original,
        )
        # the copy's URLs are known from now on: fetched again, it is the same page
        self.pending.add(IndexEntry(story.article_id, entry.url_keys))
        logger.info(
            "Copy of article %s at %s (%s, similarity %.2f%s): kept as a sighting",
            story.article_id, item.url, match, similarity, ", the original publisher" if is_original else "",
        )
        return sighting
