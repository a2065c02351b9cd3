"""Helpers shared by the stages: counting outcomes, and turning a page into a quarantine record."""

import logging
from datetime import UTC, datetime
from typing import Any, Literal

from scrapy.statscollectors import StatsCollector

from schemas import QuarantineRecord

logger = logging.getLogger("pipelines")


def count(stats: StatsCollector, key: str, source: str | None = None, n: int = 1) -> None:
    """Increment ``key`` and ``key/by_source/<source>``."""
    stats.inc_value(key, n)
    if source:
        stats.inc_value(f"{key}/by_source/{source}", n)


def quarantine(
    stats: StatsCollector,
    stage: Literal["extract", "validate"],
    *,
    url: str,
    source: str,
    fetched_at: datetime,
    reason: str,
    data: dict[str, Any],
) -> QuarantineRecord:
    """Log, count (``<stage>/quarantined``) and build the record that keeps a rejected page."""
    logger.warning("Quarantined %s at %s: %s", url, stage, reason)
    count(stats, f"{stage}/quarantined", source)
    return QuarantineRecord(
        url=url,
        source=source,
        stage=stage,
        reason=reason,
        fetched_at=fetched_at,
        quarantined_at=datetime.now(UTC),
        data=data,
    )
