"""What a run did, read from the crawl's stats, for people (the CLI summary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# (column title, stats key) in the order they are printed
_COLUMNS = (
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
        errors = self.total("discovery/feed_errors") + self.total("discovery/sitemap_errors")
        failed = sum(v for k, v in self.stats.items() if k.startswith("fetch/failed/reason/"))
        ignored = sum(v for k, v in self.stats.items() if k.startswith("fetch/ignored/") and "/by_source/" not in k)
        if errors or failed or ignored:
            lines.append(
                f"unreadable feeds/sitemaps: {errors}; requests failed: {failed}; "
                f"skipped by rule (robots.txt): {ignored}"
            )
        if write_errors := self.total("archive/write_errors"):
            lines.append(f"ARCHIVE WRITE ERRORS: {write_errors} (see the log); the run failed")
        if stored == 0:
            lines.append(
                "Nothing new stored: every article found was already in the archive."
                if dups
                else "Nothing stored: every article found was off topic."
                if self.total("relevance/rejected")
                else "Nothing stored: no article was found."
            )
        width = max([len(s) for s in self.sources] + [6])
        lines.append("")
        lines.append("outlet".ljust(width) + "".join(f"  {title:>11}" for title, _ in _COLUMNS))
        for source in self.sources:
            lines.append(
                source.ljust(width) + "".join(f"  {self.by_source(key, source):>11}" for _, key in _COLUMNS)
            )
        return "\n".join(lines)
