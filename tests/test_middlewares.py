"""Downloader middlewares: proxy bypass for loopback, the User-Agent with a contact, Retry-After."""

from datetime import UTC, datetime

import pytest
from scrapy import Request
from scrapy.http import Response

from crawler.middlewares import ProxyMiddleware, RedirectLoopMiddleware, retry_after_seconds, user_agent


def test_user_agent_names_the_project_and_the_contact():
    base = "newsarchive/0.1 (news archiver; +https://pypi.org/project/newsarchive/)"
    assert user_agent(base, "") == base
    assert user_agent(base, "mailto:ops@example.org") == (
        "newsarchive/0.1 (news archiver; +https://pypi.org/project/newsarchive/; contact: mailto:ops@example.org)"
    )
    assert user_agent("bot/1", "ops@example.org") == "bot/1 (contact: ops@example.org)"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(b"120", 120.0), ("0", 0.0), (b"Wed, 01 Dec 2026 10:00:30 GMT", 30.0), (b"Wed, 01 Dec 2026 09:00:00 GMT", 0.0),
     (b"soon", None), (None, None)],
)
def test_retry_after(value, seconds):
    assert retry_after_seconds(value, now=datetime(2026, 12, 1, 10, 0, tzinfo=UTC)) == seconds


def test_loopback_requests_are_never_proxied():
    mw = ProxyMiddleware("http://127.0.0.1:8080")
    local, remote = Request("http://127.0.0.1:9/rss"), Request("http://www.rt.test/rss/")
    mw.process_request(local)
    mw.process_request(remote)
    assert "proxy" not in local.meta and remote.meta["proxy"] == "http://127.0.0.1:8080"


def test_a_redirect_back_into_its_own_chain_fails_at_once():
    from scrapy.exceptions import IgnoreRequest

    mw = RedirectLoopMiddleware()
    request = Request("http://a.test/b", meta={"redirect_urls": ["http://a.test/a"]})
    onward = Response("http://a.test/b", status=302, headers={"Location": "/c"})
    assert mw.process_response(request, onward) is onward
    with pytest.raises(IgnoreRequest, match="redirect loop"):
        mw.process_response(request, Response("http://a.test/b", status=301, headers={"Location": "/a"}))
