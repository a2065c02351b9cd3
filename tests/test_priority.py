"""crawler/priority.py: article requests ordered by the relevance of their link."""

import pytest
import pytest_twisted
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawler.priority import RelevancePriorityMiddleware
from crawler.discovery import parse_feed
from relevance import TopicProfile
from seeds import SEEDS_DIR


@pytest.fixture(scope="module")
def middleware():
    return RelevancePriorityMiddleware(TopicProfile.from_seeds(SEEDS_DIR))


def article_request(url: str, link_text: str = "") -> Request:
    return Request(url, meta={"kind": "article", "source": "News", "link_text": link_text})


async def run(middleware, outputs):
    async def result():
        for obj in outputs:
            yield obj

    return [obj async for obj in middleware.process_spider_output(None, result())]


@pytest_twisted.ensureDeferred
async def test_on_topic_links_come_first_and_discovery_before_any_article(middleware):
    on_topic = article_request("http://a.test/news/1/", "Blinken meets Wang Yi in Beijing")
    by_slug = article_request("http://a.test/article/blinken-china-visit-3f5e0c1a")
    off_topic = article_request("http://a.test/news/2/", "Local bakery opens a new store")
    nothing = article_request("http://a.test/news/3/")
    feed = Request("http://a.test/rss", meta={"kind": "feed"})
    item = {"an": "item"}
    out = await run(middleware, [on_topic, by_slug, off_topic, nothing, feed, item])
    assert out == [on_topic, by_slug, off_topic, nothing, feed, item]
    assert feed.priority == 0
    assert 0 > on_topic.priority > by_slug.priority > off_topic.priority >= nothing.priority >= -100
    assert nothing.priority == -100
    assert on_topic.priority == round(on_topic.meta["link_score"] * 100) - 100


@pytest_twisted.ensureDeferred
async def test_html_in_a_feed_summary_is_not_scored(middleware):
    plain = article_request("http://a.test/1", "Blinken in Beijing")
    tagged = article_request("http://a.test/2", "<p class='x'>Blinken</p> in <b>Beijing</b>")
    await run(middleware, [plain, tagged])
    assert plain.priority == tagged.priority


def test_off_when_disabled():
    for setting in ("RELEVANCE_PRIORITY_ENABLED", "RELEVANCE_ENABLED"):
        with pytest.raises(NotConfigured):
            RelevancePriorityMiddleware.from_crawler(get_crawler(settings_dict={setting: False}))


def test_feed_entries_carry_title_and_summary_as_link_text():
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>'
        "<item><title>Blinken meets Wang</title><link>http://a.test/1</link><description>Talks in Beijing.</description></item>"
        "<item><link>http://a.test/2</link></item></channel></rss>"
    )
    doc = parse_feed(body.encode(), "http://a.test/rss", "application/rss+xml")
    assert [(link.url, link.kind, link.text) for link in doc.links] == [
        ("http://a.test/1", "article", "Blinken meets Wang Talks in Beijing."),
        ("http://a.test/2", "article", ""),
    ]
