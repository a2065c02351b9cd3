"""The crawl state kept with the archive (crawler/state.py) and the crawl lock (crawler/lock.py)."""

import sqlite3
from datetime import UTC, datetime

import pytest

from crawler.discovery import Link
from crawler.lock import CrawlLock, CrawlLocked
from crawler.state import CrawlState


def test_validators_links_and_seen_urls_survive_a_reopen(tmp_path):
    path = tmp_path / "state" / "crawl.sqlite"
    state = CrawlState(path, batch=2).open()
    links = [Link("http://a.test/1", "article", "One", datetime(2024, 1, 2, tzinfo=UTC)), Link("http://a.test/s.xml", "sitemap", depth=1)]
    state.save_document("http://a.test/feed", '"abc"', "Tue, 02 Jan 2024 00:00:00 GMT", links)
    assert state.validators("http://a.test/feed") == ('"abc"', "Tue, 02 Jan 2024 00:00:00 GMT")  # before any flush
    state.mark_seen("k1", "http://a.test/copy", "Duplicate text")
    assert sqlite3.connect(path).execute("SELECT count(*) FROM seen").fetchone() == (1,)  # a full batch is written
    state.save_document("http://a.test/other", None, "Mon, 01 Jan 2024 00:00:00 GMT", [])
    state.close()

    state = CrawlState(path).open()
    assert state.validators("http://a.test/feed") == ('"abc"', "Tue, 02 Jan 2024 00:00:00 GMT")
    assert state.links("http://a.test/feed") == links
    assert state.links("http://a.test/other") == []
    assert state.validators("http://a.test/never") == (None, None) and state.links("http://a.test/never") is None
    assert state.is_seen("k1") and not state.is_seen("k2")
    state.forget_document("http://a.test/feed")
    assert state.links("http://a.test/feed") is None
    state.close()


def test_one_crawl_lock_holder_at_a_time(tmp_path):
    path = tmp_path / "state" / "crawl.lock"
    with CrawlLock(path):
        with pytest.raises(CrawlLocked, match=r"another crawl holds .*crawl.lock \(pid \d+ since \d{4}-\d\d-\d\dT"):
            CrawlLock(path).acquire()
    CrawlLock(path).acquire().release()  # released: free again
