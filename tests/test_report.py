"""The run report (crawler/report.py): outcomes per outlet, and when a run failed."""

from datetime import UTC, datetime

import pytest

from crawler.report import build_report

T0, T1 = datetime(2026, 12, 1, 10, tzinfo=UTC), datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
BASE = {"archive/run_id": "r1", "archive/root": "/a"}


def report(stats, outlets=("A", "B"), reason="finished"):
    return build_report({**BASE, **stats}, list(outlets), started_at=T0, finished_at=T1, finish_reason=reason)


def test_outcomes_per_outlet_and_in_total():
    stats = {
        "discovery/articles/by_source/A": 10, "discovery/articles": 10,
        "discovery/skipped_seen/by_source/A": 4, "discovery/skipped_seen": 4,
        "news/pages/by_source/A": 6, "news/pages": 6,
        "archive/stored/by_source/A": 2, "archive/stored": 2,
        "dedup/dropped_url/by_source/A": 1, "dedup/dropped_text/by_source/A": 1, "dedup/dropped_near/by_source/A": 1,
        "dedup/dropped_url": 1, "dedup/dropped_text": 1, "dedup/dropped_near": 1,
        "relevance/rejected/by_source/A": 1, "relevance/rejected": 1,
        "archive/quarantined/by_source/A": 0,
        "fetch/failed/article/by_source/A": 1, "fetch/failed/article": 1,
        "fetch/failed/reason/http_404/by_source/A": 1,
        "fetch/failed/feed/by_source/B": 1, "fetch/failed/reason/connection_refused/by_source/B": 1,
        "discovery/read/feed/by_source/A": 1, "discovery/sitemap_errors/by_source/A": 1,
        "discovery/error_reason/entity_declarations/by_source/A": 1,
    }
    r = report(stats)
    assert r["status"] == "ok" and r["problems"] == []
    a = r["outlets"]["A"]
    assert {k: a[k] for k in ("discovered", "skipped_seen", "fetched", "stored", "duplicate", "irrelevant",
                              "quarantined", "failed", "documents_read", "discovery_failed")} == {
        "discovered": 10, "skipped_seen": 4, "fetched": 6, "stored": 2, "duplicate": 3, "irrelevant": 1,
        "quarantined": 0, "failed": 1, "documents_read": 1, "discovery_failed": 1,
    }
    assert a["failed_reasons"] == {"http_404": 1} and a["discovery_errors"] == {"entity_declarations": 1}
    assert r["outlets"]["B"]["status"] == "failed"
    assert r["outlets"]["B"]["failed_reasons"] == {"connection_refused": 1}
    assert r["totals"]["duplicate"] == 3 and r["started_at"] == T0.isoformat() and r["run_id"] == "r1"


@pytest.mark.parametrize(
    ("stats", "reason", "status", "problems"),
    [
        ({"news/pages/by_source/A": 1}, "finished", "ok", []),
        ({"news/pages/by_source/A": 1}, "closespider_pagecount", "ok", []),
        ({"news/pages/by_source/A": 1}, "shutdown", "interrupted", []),
        ({}, "finished", "failed", ["every outlet failed"]),
        ({"news/pages/by_source/A": 1, "archive/write_errors": 2}, "finished", "failed", ["archive write errors: 2"]),
        ({"news/pages/by_source/A": 1}, "cancelled", "failed", ["the crawl ended with 'cancelled'"]),
    ],
)
def test_when_a_run_failed(stats, reason, status, problems):
    r = report(stats, outlets=("A",), reason=reason)
    assert (r["status"], r["problems"]) == (status, problems)
