"""crawler/request.py: requests stored in a job directory come back the same."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.squeues import PickleLifoDiskQueue
from scrapy.utils.request import request_from_dict
from scrapy.utils.test import get_crawler

from crawler.request import NewsRequest, method_name
from crawler.spiders.news import NewsSpider


def _spider(tmp_path) -> NewsSpider:
    crawler = get_crawler(NewsSpider, {"ARCHIVE_URI": str(tmp_path / "archive"), "RELEVANCE_ENABLED": False})
    crawler.spider = NewsSpider.from_crawler(crawler, sources="sources/default.toml")
    return crawler.spider


def test_a_request_survives_the_disk_queue_with_its_callbacks(tmp_path):
    spider = _spider(tmp_path)
    request = NewsRequest(
        "https://news.test/2024/01/02/story", callback=spider.parse_article, errback=spider.on_error,
        cb_kwargs={"source": "RT"}, meta={"kind": "article", "link_text": "Blinken in Beijing"}, priority=-700,
    )
    queue = PickleLifoDiskQueue.from_crawler(spider.crawler, str(tmp_path / "q"))
    queue.push(request)
    back = queue.pop()
    queue.close()

    assert type(back) is NewsRequest
    assert back.callback == spider.parse_article and back.errback == spider.on_error
    assert (back.url, back.cb_kwargs, back.meta, back.priority) == (request.url, request.cb_kwargs, request.meta, -700)
    # the same dict as Scrapy's own search for the method names would give
    plain = scrapy.Request(request.url, callback=spider.parse_article, errback=spider.on_error)
    assert {k: v for k, v in request.to_dict(spider=spider).items() if k in ("callback", "errback")} == {
        "callback": "parse_article", "errback": "on_error"} == {
        k: v for k, v in plain.to_dict(spider=spider).items() if k in ("callback", "errback")}
    # the request itself is left as it was
    assert request.callback == spider.parse_article and request.errback == spider.on_error
    assert request_from_dict(request.to_dict(spider=spider), spider=spider).to_dict(spider=spider) == request.to_dict(spider=spider)


def test_a_function_that_is_not_the_spiders_method_is_refused_as_scrapy_does(tmp_path):
    spider = _spider(tmp_path)
    with pytest.raises(ValueError, match="not an instance method"):
        method_name(spider, lambda response: None)
    assert method_name(spider, None) is None
    request = NewsRequest("https://news.test/a")
    assert request.to_dict(spider=spider)["callback"] is None


def test_the_spiders_own_methods_are_named_without_searching_the_spider(tmp_path, monkeypatch):
    spider = _spider(tmp_path)

    def search(obj, func):
        raise AssertionError("Scrapy's inspect.getmembers search was used")

    monkeypatch.setattr("crawler.request._find_method", search)
    request = NewsRequest("https://news.test/a", callback=spider.parse_document, errback=spider.on_error)
    d = request.to_dict(spider=spider)
    assert (d["callback"], d["errback"]) == ("parse_document", "on_error")
