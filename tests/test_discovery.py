"""Reading feeds, sitemaps, robots.txt and pages (crawler/discovery.py), hostile input included."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime

import pytest

from crawler.discovery import (
    DiscoveryError,
    Link,
    check_xml_safe,
    classify_url,
    page_links,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
)

BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>\n"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a.test/2024/04/26/xi-tells-blinken/", "article"),  # date path
        ("http://a.test/en/asia-pacific/20240426-xi-tells-blinken-us-and-china", "article"),  # compact date
        ("http://a.test/news/565432-us-china-bilateral-rivalry/", "article"),  # numeric id
        ("http://a.test/ArticleDetails.aspx?id=3092349&language=en", "article"),  # id in the query
        ("http://a.test/article/china-blinken-qin-gang-phone-call-3f5e0c1a", "article"),  # slug
        ("http://a.test/news/international/some-long-slug-here/article38331234.ece", "article"),
        ("http://a.test/tag/world/", "navigation"),
        ("http://a.test/author/jane-doe/", "navigation"),
        ("http://a.test/login?next=/", "navigation"),
        ("http://a.test/share?url=http://a.test/2024/04/26/xi-tells-blinken/", "navigation"),
        ("http://a.test/2024/04/26/xi-tells-blinken/?replytocom=5", "navigation"),
        ("http://a.test/hub/china", "navigation"),  # another section
        ("http://a.test/", "navigation"),
        ("http://a.test/hub/world-news?page=2", "pagination"),
        ("http://a.test/hub/world-news/page/3/", "pagination"),
        ("http://b.test/2024/04/26/another-outlets-story/", "ignore"),  # another site
        ("http://a.test/files/report-2024-annual-results-final.pdf", "ignore"),
        ("mailto:desk@a.test", "ignore"),
    ],
)
def test_classify_url(url, expected):
    assert classify_url(url, "http://www.a.test/hub/world-news") == expected


def test_page_links_finds_alternate_feeds_and_anchor_texts():
    html = (
        '<html><head><link rel="alternate" type="application/rss+xml" href="/feed/">'
        '<link rel="alternate" type="application/atom+xml" href="http://a.test/atom.xml">'
        '<link rel="alternate" hreflang="fr" href="/fr/"><link rel="stylesheet" href="/s.css"></head>'
        '<body><a href="/2024/01/02/a-story/">A <b>story</b></a> <a href="/2024/01/02/a-story/#comments">2</a>'
        '<a href="#top">top</a><a href="javascript:void(0)">x</a></body></html>'
    )
    feeds, anchors = page_links(html, "http://a.test/")
    assert feeds == ["http://a.test/feed/", "http://a.test/atom.xml"]
    assert anchors == [("http://a.test/2024/01/02/a-story/", "A story")]


def test_robots_sitemap_lines():
    text = "User-agent: *\nDisallow: /x\nSitemap: https://a.test/s1.xml\nsitemap:/s2.xml # relative\nSitemap: ftp://a.test/x\n"
    assert robots_sitemaps(text, "https://a.test/robots.txt") == ["https://a.test/s1.xml", "https://a.test/s2.xml"]


def test_sitemap_index_news_sitemap_and_lastmod():
    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://a.test/s1.xml.gz</loc>'
        b"<lastmod>2024-01-02</lastmod></sitemap><sitemap><loc>http://a.test/s2.xml</loc></sitemap>"
        b"<sitemap><loc>/relative.xml</loc></sitemap></sitemapindex>"
    )
    doc = parse_sitemap(index, "http://a.test/index.xml")
    assert doc.links == [
        Link("http://a.test/s1.xml.gz", "sitemap", "", datetime(2024, 1, 2, tzinfo=UTC)),
        Link("http://a.test/s2.xml", "sitemap"),
    ]
    news = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        b"<url><loc>http://a.test/1</loc><lastmod>2020-01-01T00:00:00Z</lastmod><news:news><news:publication_date>"
        b"2024-04-26T09:45:00+02:00</news:publication_date><news:title>Xi &amp; Blinken</news:title></news:news></url>"
        b"<url><loc>http://a.test/2</loc><lastmod>2023-05-06T07:08:09Z</lastmod></url><url><loc>ftp://x</loc></url></urlset>"
    )
    doc = parse_sitemap(news, "http://a.test/news.xml")
    assert [(lk.url, lk.kind, lk.text, lk.published.isoformat()) for lk in doc.links] == [
        ("http://a.test/1", "article", "Xi & Blinken", "2024-04-26T09:45:00+02:00"),
        ("http://a.test/2", "article", "", "2023-05-06T07:08:09+00:00"),
    ]
    assert doc.problem is None


def test_malformed_sitemap_is_reported_and_what_can_be_recovered_followed():
    doc = parse_sitemap(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.test/1</loc></url><url><loc>http', "http://a.test/")
    assert [lk.url for lk in doc.links] == ["http://a.test/1"]
    assert doc.problem_reason == "malformed_xml"
    with pytest.raises(DiscoveryError, match="not_a_sitemap"):
        parse_sitemap(b"<html><body>hi</body></html>", "http://a.test/")


def test_entity_bombs_are_refused_before_parsing():
    sitemap = (BOMB + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.test/&lol9;</loc></url></urlset>').encode()
    feed = (BOMB + '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><link>http://a.test/1</link></item></channel></rss>').encode()
    started = time.monotonic()
    for parse in (parse_sitemap, parse_feed):
        for body in (sitemap, feed):
            with pytest.raises(DiscoveryError) as info:
                parse(body, "http://a.test/")
            assert info.value.reason == "entity_declarations"
    assert time.monotonic() - started < 5  # a guard against a hang, not a timing claim
    check_xml_safe(b'<?xml version="1.0"?><!DOCTYPE html><rss/>')  # a DOCTYPE without entities is fine
    with pytest.raises(DiscoveryError):  # an external entity
        check_xml_safe(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


def test_rss_atom_and_json_feed():
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>One</title>'
        b"<link>http://a.test/1</link><description>&lt;p&gt;First &amp; foremost&lt;/p&gt;</description>"
        b"<pubDate>Fri, 26 Apr 2024 09:45:00 GMT</pubDate></item><item><title>No link</title></item></channel></rss>"
    )
    assert parse_feed(rss, "http://a.test/rss").links == [
        Link("http://a.test/1", "article", "One First & foremost", datetime(2024, 4, 26, 9, 45, tzinfo=UTC))
    ]
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>Two</title>'
        b'<link rel="alternate" href="/2"/><id>x</id><updated>2024-04-26T09:45:00Z</updated><summary>S</summary></entry></feed>'
    )
    assert parse_feed(atom, "http://a.test/atom").links == [
        Link("http://a.test/2", "article", "Two S", datetime(2024, 4, 26, 9, 45, tzinfo=UTC))
    ]
    items = [
        {"id": "1", "url": "http://a.test/3", "title": "Three", "content_text": "C", "date_published": "2024-04-26T11:45:00+02:00"},
        {"id": "2", "external_url": "/4", "summary": "Only a summary"},
        {"id": "3"},
        "junk",
    ]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": items}).encode()
    assert parse_feed(body, "http://a.test/feed.json", "application/feed+json").links == [
        Link("http://a.test/3", "article", "Three C", datetime(2024, 4, 26, 9, 45, tzinfo=UTC)),
        Link("http://a.test/4", "article", "Only a summary"),
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<?xml version='1.0'?><rss><channel><item><title>Bro", "application/rss+xml", "malformed_feed"),
        (b'{"items": []}', "application/json", "not_a_feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', "application/feed+json", "malformed_feed"),
        (b"{not json", "application/feed+json", "malformed_feed"),
        (b"<html><body>Not a feed</body></html>", "text/html", "not_a_feed"),
    ],
)
def test_unreadable_feeds(body, content_type, reason):
    with pytest.raises(DiscoveryError) as info:
        parse_feed(body, "http://a.test/feed", content_type)
    assert info.value.reason == reason


def test_gzip_is_for_the_spider_but_parse_sitemap_reads_plain_xml():
    plain = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.test/1</loc></url></urlset>'
    assert parse_sitemap(gzip.decompress(gzip.compress(plain)), "http://a.test/").links == [Link("http://a.test/1", "article")]


def test_a_feed_in_another_encoding_than_declared_is_read_without_a_problem():
    body = '<?xml version="1.0" encoding="us-ascii"?><rss version="2.0"><channel><item><title>Café</title><link>http://a.test/1</link></item></channel></rss>'
    doc = parse_feed(body.encode("utf-8"), "http://a.test/rss", "text/xml; charset=utf-8")
    assert [lk.url for lk in doc.links] == ["http://a.test/1"] and doc.problem is None
