"""Stats helper: every outcome is counted overall and per source (outlet)."""

from scrapy.statscollectors import StatsCollector


def count(stats: StatsCollector, key: str, source: str | None = None, n: int = 1) -> None:
    """Increment ``key`` and ``key/by_source/<source>``."""
    stats.inc_value(key, n)
    if source:
        stats.inc_value(f"{key}/by_source/{source}", n)
