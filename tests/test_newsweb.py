"""The local news web itself: deterministic, realistic, and served correctly over a socket."""

import gzip
import http.client
import io
import json
import socket
from urllib.parse import urlsplit

import feedparser
import pytest

from newsweb import NewsWeb, NewsWebServer, seed_clean_body

SEED_IDS = ["000", "001", "002", "003", "004"]


def get(web: NewsWeb, url: str):
    parts = urlsplit(url)
    return web.render(parts.netloc, parts.path + (f"?{parts.query}" if parts.query else ""))


def test_rendering_is_deterministic():
    a, b = NewsWeb(size=20), NewsWeb(size=20)
    assert [x.url for x in a.articles] == [x.url for x in b.articles]
    for article in a.articles[:15]:
        assert get(a, article.url) == get(b, article.url)


def test_size_scales_the_number_of_articles_each_at_its_own_url():
    big = NewsWeb(size=3000)
    assert len(big.articles) - len(NewsWeb(size=0).articles) == 3000
    assert len({a.url for a in big.articles}) == len(big.articles)


def test_each_outlet_offers_its_own_discovery_mix():
    web = NewsWeb(size=40)
    assert {o.theme for o in web.outlets} == {"newscms", "wordpress", "blogger"}
    mixes = {o.name: o.mix for o in web.outlets}
    assert mixes == {
        "RT": "rss", "The Hindu": "robots-sitemap-index", "AP News": "sections", "France 24": "atom",
        "Kuwait News Agency": "jsonfeed", "Ns News Online": "alternate", "The Dawn News": "sitemap",
    }
    by_name = {o.name: o for o in web.outlets}
    for outlet in web.outlets:
        status, _, body = get(web, f"http://{outlet.host}/robots.txt")
        assert status == 200 and "Disallow: /private/" in body.decode()
        assert ("Sitemap:" in body.decode()) == (outlet.mix in ("robots-sitemap-index", "sitemap"))
        for article in (a for a in web.crawlable() if a.outlet == outlet.name):
            status, headers, body = get(web, article.url)
            assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
            assert 30_000 <= len(body) <= 100_000
    # only sitemaps: an index naming a Google News sitemap and a gzip sitemap
    hindu = by_name["The Hindu"]
    assert get(web, f"http://{hindu.host}/sitemap.xml")[0] == 404
    index = get(web, hindu.sitemap_urls[0])[2].decode()
    assert "<sitemapindex" in index and "/sitemaps/news.xml" in index and "/sitemaps/archive.xml.gz" in index
    news = get(web, f"http://{hindu.host}/sitemaps/news.xml")[2].decode()
    assert news.count("<news:publication_date>") == 5
    status, headers, archive = get(web, f"http://{hindu.host}/sitemaps/archive.xml.gz")
    assert headers["Content-Type"] == "application/x-gzip"
    listed = gzip.decompress(archive).decode().count("<loc>") + 5
    assert listed == len([a for a in web.crawlable() if a.outlet == "The Hindu"])
    # only Atom, only JSON Feed, RSS only through the home page
    assert feedparser.parse(io.BytesIO(get(web, by_name["France 24"].feed_urls[0])[2])).version == "atom10"
    feed = json.loads(get(web, by_name["Kuwait News Agency"].feed_urls[0])[2])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert {i["url"] for i in feed["items"]} == {a.url for a in web.articles if a.outlet == "Kuwait News Agency"}
    ns = by_name["Ns News Online"]
    assert f'<link rel="alternate" type="application/rss+xml" title="Ns News Online Feed" href="{ns.feed_urls[0]}">' in (
        get(web, ns.home_url)[2].decode()
    )
    assert "<link rel=\"alternate\"" not in get(web, by_name["RT"].home_url)[2].decode()
    # sections: paginated, articles among navigation links
    ap = by_name["AP News"]
    first = get(web, ap.section_urls[0])[2].decode()
    assert f'href="{ap.section_urls[0]}?page=2">Next page' in first and "/share?url=" in first and "/author/" in first
    assert get(web, f"{ap.section_urls[0]}?page=99")[0] == 404


def test_publish_adds_articles_that_feeds_sitemaps_and_sections_list():
    web = NewsWeb(size=7)
    before = {o.name: get(web, (o.feed_urls or o.sitemap_urls or o.section_urls)[0]) for o in web.outlets}
    new = web.publish(7)
    assert len(new) == 7 and {a.outlet for a in new} == {o.name for o in web.outlets}
    assert all(a.published_at > max(b.published_at for b in web.articles if b not in new) for a in new)
    for outlet in web.outlets:
        url = (outlet.feed_urls or outlet.sitemap_urls or outlet.section_urls)[0]
        after = get(web, url)
        assert after[2] != before[outlet.name][2], outlet.name
        assert after[1]["Last-Modified"] != before[outlet.name][1]["Last-Modified"]
    assert [web.article(a.url) for a in new] == new


def test_seed_clean_bodies_have_no_boilerplate():
    for seed in SEED_IDS:
        body = seed_clean_body(seed)
        for phrase in ("Read Full Article", "Source link", "Leave a Reply", "ConflictNorth", "Desk:",
                       "By Associated Press", "Back to top", "Skip to main", "ift.tt", "Popular posts",
                       "Source: Kuwait", "Archives"):
            assert phrase not in body
    assert seed_clean_body("002").startswith("TAIPEI, Taiwan (AP) — U.S. Secretary of State")
    assert seed_clean_body("003").endswith("has no intention of selling.")


@pytest.mark.parametrize(
    ("url", "phrases"),
    [
        ("http://nsnewsonline.test/2022/10/31/us-and-china-discuss-bilateral-rivalry/", ["Read Full Article at RT.com", "<p>Read more</p>"]),
        ("http://nsnewsonline.test/2022/01/27/address-russias-legitimate-concerns-china-tells-u-s/",
         ["Source link", "Leave a Reply", "Your email address will not be published."]),
        ("http://nsnewsonline.test/2023/06/14/chinas-foreign-minister-airs-concerns-in-phone-call-with-blinken/",
         ['>Conflict</a><a href="/category/north-america/" rel="category tag">North America</a><a',
          "Ns News Online Desk:</strong>Ns News Online Desk:", "By Associated Press", "Related Articles", "Back to top button"]),
        ("http://nsnewsonline.test/2023/06/19/blinken-us-china-agree-to-stabilize-relationship/", ["Source: Kuwait News Agency", "Archives"]),
        ("http://thedawnnews.blogspot.test/2024/04/xi-tells-blinken-us-and-china-should-be.html",
         ["Skip to main content", "The Dawn News - Home", "https://ift.tt/1gBO6wd", "Comments",
          "Popular posts from this blog", "The Republican primary race for president in 2024"]),
    ],
)
def test_syndicated_pages_carry_the_seeds_boilerplate(url, phrases):
    body = get(NewsWeb(size=0), url)[2].decode()
    for phrase in phrases:
        assert phrase in body


def _request(port: int, path: str, host: str | None = None, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={**({"Host": host} if host else {}), **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def test_server_answers_304_to_valid_validators():
    web = NewsWeb(size=5)
    with NewsWebServer(web) as server:
        port = int(server.url.rsplit(":", 1)[1])
        feed = "http://www.rt.test/rss/"
        status, body, headers = _request(port, feed)
        assert status == 200 and headers["ETag"].startswith('"') and headers["Last-Modified"]
        assert _request(port, feed, headers={"If-None-Match": headers["ETag"]})[:2] == (304, b"")
        assert _request(port, feed, headers={"If-Modified-Since": headers["Last-Modified"]})[0] == 304
        assert _request(port, feed, headers={"If-None-Match": '"other"', "If-Modified-Since": headers["Last-Modified"]})[0] == 200
        web.publish(7)
        assert _request(port, feed, headers={"If-None-Match": headers["ETag"]})[0] == 200
        assert _request(port, feed, headers={"If-Modified-Since": headers["Last-Modified"]})[0] == 200
        assert [r[3] for r in server.requests] == [200, 304, 304, 200, 200, 200]


def test_server_routes_by_absolute_url_and_by_host_header():
    web = NewsWeb(size=5)
    server = NewsWebServer(web).start()
    port = int(server.url.rsplit(":", 1)[1])
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, body, _ = _request(port, "http://www.thehindu.test/robots.txt")  # proxy mode
        assert status == 200 and b"Sitemap: http://www.thehindu.test/sitemap-index.xml" in body
        status, body, _ = _request(port, "/robots.txt", host="thedawnnews.blogspot.test:80")  # Host mode
        assert status == 200 and b"thedawnnews.blogspot.test/sitemap.xml" in body
        assert _request(port, "http://unknown.test/")[0] == 502
        assert _request(port, "http://www.rt.test/no/such/page")[0] == 404
        assert ("GET", "www.thehindu.test", "/robots.txt", 200) in server.requests
    finally:
        server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_faults_outlet():
    web = NewsWeb(size=2, faults=True)
    faults = {a.fault: a for a in web.articles if a.fault}
    assert set(faults) == {"pdf", "empty", "malformed-html", "404", "500"}
    assert get(web, faults["pdf"].url)[1]["Content-Type"] == "application/pdf"
    assert get(web, faults["empty"].url)[2] == b""
    assert get(web, faults["404"].url)[0] == 404
    assert get(web, faults["500"].url)[0] == 500
    malformed = get(web, faults["malformed-html"].url)[2]
    assert b"\x00" in malformed and "café’s".encode("cp1252") in malformed
    faulty = next(o for o in web.outlets if o.name == "Faulty Times")
    assert feedparser.parse(io.BytesIO(get(web, faulty.feed_urls[1])[2])).bozo
    feeds = {urlsplit(u).path: get(web, u) for u in faulty.feed_urls}
    assert b"<!ENTITY lol9" in feeds["/bomb-feed.xml"][2]
    assert feeds["/missing-feed.xml"][0] == 404 and feeds["/error-feed.xml"][0] == 500
    assert feeds["/loop-feed.xml"][:2] == (302, {"Location": "http://www.faultytimes.test/loop-feed.xml?again", "Content-Type": "text/plain"})
    assert get(web, "http://www.faultytimes.test/loop-feed.xml?again")[1]["Location"] == "http://www.faultytimes.test/loop-feed.xml"
    assert feeds["/busy-feed.xml"][1]["Retry-After"] == "1" and get(web, faulty.feed_urls[-1])[0] == 200
    assert b"<!ENTITY lol9" in get(web, faulty.sitemap_urls[1])[2]
