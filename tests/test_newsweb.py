"""The local news web itself: deterministic, realistic, and served correctly over a socket."""

import http.client
import io
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


def test_size_scales_the_number_of_articles():
    assert len(NewsWeb(size=3000).articles) - len(NewsWeb(size=0).articles) == 3000


def test_every_outlet_has_robots_sitemap_feed_section_and_articles():
    web = NewsWeb(size=40)
    assert len(web.outlets) >= 4
    assert {o.theme for o in web.outlets} == {"newscms", "wordpress", "blogger"}
    for outlet in web.outlets:
        status, headers, body = get(web, f"http://{outlet.host}/robots.txt")
        assert status == 200 and f"Sitemap: http://{outlet.host}/sitemap.xml" in body.decode()
        status, _, body = get(web, outlet.sitemap_urls[0])
        listed = {a.url for a in web.articles if a.outlet == outlet.name and not a.disallowed}
        assert status == 200 and body.decode().count("<loc>") == len(listed)
        feed = feedparser.parse(io.BytesIO(get(web, outlet.feed_urls[0])[2]))
        assert not feed.bozo and feed.entries
        for entry in feed.entries:
            assert web.article(entry.link) is not None
        assert get(web, outlet.section_urls[0])[0] == 200
        for article in listed:
            status, headers, body = get(web, article)
            assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
            assert 30_000 <= len(body) <= 100_000


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


def _request(port: int, path: str, host: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_server_routes_by_absolute_url_and_by_host_header():
    web = NewsWeb(size=5)
    server = NewsWebServer(web).start()
    port = int(server.url.rsplit(":", 1)[1])
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, body = _request(port, "http://www.rt.test/robots.txt")  # proxy mode
        assert status == 200 and b"Sitemap: http://www.rt.test/sitemap.xml" in body
        status, body = _request(port, "/robots.txt", host="apnews.test:80")  # Host mode
        assert status == 200 and b"apnews.test/sitemap.xml" in body
        assert _request(port, "http://unknown.test/")[0] == 502
        assert _request(port, "http://www.rt.test/no/such/page")[0] == 404
        assert ("GET", "www.rt.test", "/robots.txt", 200) in server.requests
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
