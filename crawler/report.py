"""What a run did, read from the crawl's stats: for people (the CLI summary) and for
machines (the JSON run report, ``<archive root>/reports/<run_id>.json``).

The report (written atomically by :class:`RunReportExtension` when the spider closes)::

    {"run_id", "archive", "started_at", "finished_at", "finish_reason",
     "status": "ok" | "interrupted" | "failed", "problems": [why it failed],
     "totals":  {outcome: n},
     "outlets": {name: {"status": "ok" | "failed", outcome: n, …,
                        "failed_reasons": {reason: n}, "discovery_errors": {reason: n}}},
     "stats": {every stat of the run}}

Outcomes, per article URL: ``discovered`` (found by any discovery path, once per run),
``skipped_seen`` (already archived or dropped for good before: not requested),
``fetched``, ``stored``, ``duplicate`` (same URL/text/near-text as a stored article),
``irrelevant`` (off topic), ``quarantined``, ``failed`` (could not be fetched: see
``failed_reasons``), ``ignored`` (not fetched by rule: robots.txt). Every discovered URL
is skipped_seen, fetched, failed or ignored. Per outlet also ``documents_read`` (feeds, sitemaps, pages read),
``not_modified`` (answered 304), ``discovery_failed`` (feeds, sitemaps, pages that could
not be fetched or read: see ``failed_reasons`` and ``discovery_errors``).

An outlet failed when none of its feeds, sitemaps or pages could be read and none of its
articles fetched. A run failed when every outlet failed, or the archive could not be
written; it was interrupted when stopped by a signal (resumable).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

REPORTS = "reports"

# outcome -> the stats keys that add up to it
OUTCOMES: dict[str, tuple[str, ...]] = {
    "discovered": ("discovery/articles",),
    "skipped_seen": ("discovery/skipped_seen",),
    "fetched": ("news/pages",),
    "stored": ("archive/stored",),
    "duplicate": ("dedup/dropped_url", "dedup/dropped_text", "dedup/dropped_near"),
    "irrelevant": ("relevance/rejected",),
    "quarantined": ("archive/quarantined",),
    "failed": ("fetch/failed/article",),
    "ignored": ("fetch/ignored/article",),
    "documents_read": tuple(f"discovery/read/{k}" for k in ("feed", "sitemap", "robots", "home", "section")),
    "not_modified": ("discovery/not_modified",),
    "discovery_failed": tuple(f"fetch/failed/{k}" for k in ("feed", "sitemap", "robots", "home", "section"))
    + tuple(f"discovery/{k}_errors" for k in ("feed", "sitemap", "robots", "home", "section")),
}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def build_report(
    stats: dict[str, Any],
    outlets: list[str],
    *,
    started_at: datetime,
    finished_at: datetime,
    finish_reason: str,
) -> dict[str, Any]:
    """The run report (a JSON-able dict) from a run's stats."""

    def total(outcome: str, source: str | None = None) -> int:
        suffix = f"/by_source/{source}" if source else ""
        return sum(int(stats.get(key + suffix, 0)) for key in OUTCOMES[outcome])

    def reasons(prefix: str, source: str) -> dict[str, int]:
        suffix = f"/by_source/{source}"
        return {
            key[len(prefix) : -len(suffix)]: int(v)
            for key, v in sorted(stats.items())
            if key.startswith(prefix) and key.endswith(suffix)
        }

    by_outlet: dict[str, dict[str, Any]] = {}
    for name in outlets:
        entry: dict[str, Any] = {outcome: total(outcome, name) for outcome in OUTCOMES}
        alive = entry["documents_read"] + entry["not_modified"] + entry["fetched"] + entry["skipped_seen"]
        entry["status"] = "ok" if alive else "failed"
        entry["failed_reasons"] = reasons("fetch/failed/reason/", name)
        entry["discovery_errors"] = reasons("discovery/error_reason/", name)
        by_outlet[name] = entry

    problems = []
    if outlets and all(e["status"] == "failed" for e in by_outlet.values()):
        problems.append("every outlet failed")
    if write_errors := int(stats.get("archive/write_errors", 0)):
        problems.append(f"archive write errors: {write_errors}")
    if "archive/run_id" not in stats:
        problems.append("the archive was never opened")
    if problems:
        status = "failed"
    elif finish_reason == "shutdown":
        status = "interrupted"
    elif finish_reason in ("finished",) or finish_reason.startswith("closespider"):
        status = "ok"
    else:
        status = "failed"
        problems.append(f"the crawl ended with {finish_reason!r}")
    return {
        "run_id": stats.get("archive/run_id"),
        "archive": stats.get("archive/root"),
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "finish_reason": finish_reason,
        "status": status,
        "problems": problems,
        "totals": {outcome: total(outcome) for outcome in OUTCOMES},
        "outlets": by_outlet,
        "stats": {k: _json_value(v) for k, v in sorted(stats.items())},
    }


class RunReportExtension:
    """Writes the run report into the archive when the spider closes (``NEWS_REPORT_ENABLED``).

    The path is also left in the stats as ``report/path`` and the status as ``report/status``."""

    def __init__(self, crawler: Crawler, archive_root: Path) -> None:
        self.crawler = crawler
        self.archive_root = archive_root
        self.started_at = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReportExtension:
        if not crawler.settings.getbool("NEWS_REPORT_ENABLED", True):
            raise NotConfigured("NEWS_REPORT_ENABLED is off")
        from archive import parse_archive_uri

        ext = cls(crawler, parse_archive_uri(crawler.settings["ARCHIVE_URI"]))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.started_at = datetime.now(UTC)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        from archive.storage import write_atomic
        from archive.writer import new_run_id

        stats = self.crawler.stats
        assert stats is not None
        values = stats.get_stats()
        sources = getattr(spider, "sources", None)
        outlets = [s.name for s in sources.sources] if sources is not None and not getattr(spider, "url_list", None) else sorted(
            {k.rsplit("/by_source/", 1)[1] for k in values if "/by_source/" in k}
        )
        report = build_report(values, outlets, started_at=self.started_at, finished_at=datetime.now(UTC), finish_reason=reason)
        run_id = report["run_id"] or new_run_id(self.started_at)
        path = self.archive_root / REPORTS / f"{run_id}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")
        except OSError as exc:
            logger.error("Could not write the run report %s: %s", path, exc)
            stats.set_value("report/status", "failed")
            return
        stats.set_value("report/path", str(path))
        stats.set_value("report/status", report["status"])
        logger.info("Run report %s: %s %s", path, report["status"], "; ".join(report["problems"]))


def read_report(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))

# (column title, stats key) in the order they are printed
_COLUMNS = (
    ("found", "discovery/articles"),
    ("seen before", "discovery/skipped_seen"),
    ("fetched", "news/pages"),
    ("stored", "archive/stored"),
    ("dup URL", "dedup/dropped_url"),
    ("dup text", "dedup/dropped_text"),
    ("quarantined", "archive/quarantined"),
    ("fetch failed", "fetch/failed/article"),
)


@dataclass
class RunSummary:
    stats: dict[str, Any]
    sources: list[str] = field(default_factory=list)

    def total(self, key: str) -> int:
        return int(self.stats.get(key, 0))

    def by_source(self, key: str, source: str) -> int:
        return int(self.stats.get(f"{key}/by_source/{source}", 0))

    @property
    def duplicates(self) -> int:
        return self.total("dedup/dropped_url") + self.total("dedup/dropped_text")

    @property
    def ok(self) -> bool:
        """The run finished and its archive was written without errors."""
        return (
            self.stats.get("finish_reason") == "finished"
            and "archive/run_id" in self.stats
            and not self.stats.get("archive/write_errors")
            and not self.stats.get("archive/spooled")
        )

    def _off_topic(self, limit: int = 20) -> list[str]:
        """Articles not stored because they are off topic (pipelines/relevance.py), with scores."""
        if not (rejected := self.total("relevance/rejected")):
            return []
        lines = [f"off topic, not stored (relevance below {self.stats.get('relevance/threshold', '?')}): {rejected}"]
        listed = sorted(self.stats.get("relevance/rejected_items") or [], key=lambda r: -r["score"])
        lines += [f"  {r['score']:.3f}  {r['url']}" for r in listed[:limit]]
        if rejected > min(limit, len(listed)):
            lines.append(f"  … and {rejected - min(limit, len(listed))} more")
        return lines

    def format(self) -> str:
        stored, dups, quarantined = (
            self.total("archive/stored"),
            self.duplicates,
            self.total("archive/quarantined"),
        )
        lines = [
            f"run {self.stats.get('archive/run_id', '?')} into {self.stats.get('archive/root', '?')}: "
            f"{self.stats.get('finish_reason', 'did not finish')}",
            f"pages fetched: {self.total('news/pages')}",
            f"articles stored: {stored}; duplicates skipped: {dups} "
            f"(same URL {self.total('dedup/dropped_url')}, same text {self.total('dedup/dropped_text')}); "
            f"quarantined: {quarantined}",
        ]
        lines.extend(self._off_topic())
        errors = sum(self.total(f"discovery/{k}_errors") for k in ("feed", "sitemap", "robots", "home", "section"))
        failed = sum(v for k, v in self.stats.items() if k.startswith("fetch/failed/reason/"))
        ignored = sum(v for k, v in self.stats.items() if k.startswith("fetch/ignored/") and "/by_source/" not in k)
        if errors or failed or ignored:
            lines.append(
                f"unreadable feeds/sitemaps: {errors}; requests failed: {failed}; "
                f"skipped by rule (robots.txt): {ignored}"
            )
        if write_errors := self.total("archive/write_errors"):
            lines.append(f"ARCHIVE WRITE ERRORS: {write_errors} (see the log); the run failed")
        if not_modified := self.total("discovery/not_modified"):
            lines.append(f"feeds, sitemaps and pages unchanged since the last run (304): {not_modified}")
        if skipped := self.total("discovery/skipped_seen"):
            lines.append(f"already archived, not requested again: {skipped}")
        if spooled := self.total("archive/spooled"):
            lines.append(
                f"ARCHIVE UPLOAD PENDING: {spooled} closed batches ({self.total('archive/spooled_records')} records) "
                f"could not be uploaded and are kept in the local spool under {self.stats.get('archive/local_dir', '?')}; "
                "the next run uploads them before crawling"
            )
        elif upload_errors := self.total("archive/upload_errors"):
            lines.append(f"archive upload errors: {upload_errors} (retried; every batch was uploaded)")
        if recovered := self.total("archive/recovery/spooled_uploaded"):
            lines.append(f"uploaded {recovered} batches left in the local spool by an earlier run")
        if stored == 0:
            lines.append(
                "Nothing new stored: every article found was already in the archive."
                if dups or skipped
                else "Nothing stored: every article found was off topic."
                if self.total("relevance/rejected")
                else "Nothing stored: no article was found."
            )
        if path := self.stats.get("report/path"):
            lines.append(f"run report: {path} ({self.stats.get('report/status')})")
        width = max([len(s) for s in self.sources] + [6])
        lines.append("")
        lines.append("outlet".ljust(width) + "".join(f"  {title:>11}" for title, _ in _COLUMNS))
        for source in self.sources:
            lines.append(
                source.ljust(width) + "".join(f"  {self.by_source(key, source):>11}" for _, key in _COLUMNS)
            )
        return "\n".join(lines)
