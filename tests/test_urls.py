"""Canonical URLs (extraction/urls.py), the canonical URL an article declares, and request
fingerprints on the canonical form (crawler/fingerprint.py): one row per rule."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import pytest_twisted
from scrapy import Request, Spider
from scrapy.crawler import AsyncCrawlerRunner
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred
from w3lib.url import canonicalize_url

from crawler.fingerprint import CanonicalRequestFingerprinter
from extraction import Extractor
from extraction.urls import canonical_url, dedup_form, normalize_url, same_site

# -- normalize_url ---------------------------------------------------------------------------

NORMALIZE = [
    # tracking parameters, one row per family
    ("utm", "https://news.test/a?utm_source=rss&utm_medium=feed&utm_campaign=x&utm_term=y&utm_content=z", "https://news.test/a"),
    ("utm-any-suffix", "https://news.test/a?utm_whatever=1", "https://news.test/a"),
    ("utm-upper-case-name", "https://news.test/a?UTM_Source=x", "https://news.test/a"),
    ("utm-percent-encoded-name", "https://news.test/a?utm%5Fsource=x", "https://news.test/a"),
    ("piwik-pk", "https://news.test/a?pk_campaign=x&pk_kwd=y", "https://news.test/a"),
    ("matomo-mtm", "https://news.test/a?mtm_source=x", "https://news.test/a"),
    ("hubspot-hsa", "https://news.test/a?hsa_acc=1&hsa_cam=2", "https://news.test/a"),
    ("facebook-fbclid", "https://news.test/a?fbclid=IwAR0", "https://news.test/a"),
    ("google-ads", "https://news.test/a?gclid=1&gclsrc=aw.ds&dclid=2&gbraid=3&wbraid=4", "https://news.test/a"),
    ("other-click-ids", "https://news.test/a?msclkid=1&yclid=2&twclid=3&ttclid=4&igshid=5", "https://news.test/a"),
    ("mailchimp", "https://news.test/a?mc_cid=1&mc_eid=2", "https://news.test/a"),
    ("ref", "https://news.test/a?ref=home", "https://news.test/a"),
    ("ref-variants", "https://news.test/a?ref_src=twsrc&ref_url=x&referrer=y", "https://news.test/a"),
    ("google-analytics", "https://news.test/a?_ga=1.2&_gl=3", "https://news.test/a"),
    ("campaign-ids", "https://news.test/a?cmpid=1&ito=2&ncid=3&ocid=4&s_cid=5&spm=6", "https://news.test/a"),
    ("marketo-and-others", "https://news.test/a?mkt_tok=1&oly_enc_id=2&oly_anon_id=3&vero_id=4&wt.mc_id=5", "https://news.test/a"),
    ("share-trackers", "https://news.test/a?sr_share=tw&at_medium=x&at_campaign=y&__twitter_impression=true", "https://news.test/a"),
    ("tracking-among-kept", "https://news.test/a?id=7&utm_source=x&fbclid=y", "https://news.test/a?id=7"),
    # other parameters are kept, sorted, with blank values kept
    ("non-tracking-kept", "https://news.test/a?id=5&page=2", "https://news.test/a?id=5&page=2"),
    ("params-sorted", "https://news.test/a?b=2&a=1&c=3", "https://news.test/a?a=1&b=2&c=3"),
    ("repeated-param-sorted", "https://news.test/a?a=1&a=0", "https://news.test/a?a=0&a=1"),
    ("blank-value-kept", "https://news.test/a?foo", "https://news.test/a?foo="),
    ("empty-pairs-dropped", "https://news.test/a?b=2&&a=1", "https://news.test/a?a=1&b=2"),
    ("param-like-tracking-kept", "https://news.test/a?refresh=1&reference=2&utm=3", "https://news.test/a?reference=2&refresh=1&utm=3"),
    ("non-utf8-query-bytes-kept", "https://news.test/a?q=%E9&utm_source=x", "https://news.test/a?q=%E9"),
    ("query-space-as-plus", "https://news.test/a?q=a%20b", "https://news.test/a?q=a+b"),
    ("query-plus-sign-encoded", "https://news.test/a?x=%2B", "https://news.test/a?x=%2B"),
    # AMP renderings
    ("amp-path-suffix", "https://news.test/story/amp", "https://news.test/story"),
    ("amp-path-suffix-trailing-slash", "https://news.test/story/amp/", "https://news.test/story/"),
    ("amp-path-prefix", "https://news.test/amp/story", "https://news.test/story"),
    ("amp-path-upper-case", "https://news.test/story/AMP", "https://news.test/story"),
    ("amp-html-suffix", "https://news.test/2024/story.amp.html", "https://news.test/2024/story.html"),
    ("amp-htm-suffix", "https://news.test/2024/story.amp.htm", "https://news.test/2024/story.htm"),
    ("amp-bare-suffix", "https://news.test/2024/story.amp", "https://news.test/2024/story"),
    ("amp-inside-a-word-kept", "https://news.test/stamp.html", "https://news.test/stamp.html"),
    ("amp-dotfile-kept", "https://news.test/.amp", "https://news.test/.amp"),
    ("amp-param-1", "https://news.test/story?amp=1", "https://news.test/story"),
    ("amp-param-bare", "https://news.test/story?amp", "https://news.test/story"),
    ("amp-param-true", "https://news.test/story?amp=true&id=2", "https://news.test/story?id=2"),
    ("amp-param-0-kept", "https://news.test/story?amp=0", "https://news.test/story?amp=0"),
    ("outputType-amp", "https://news.test/story?outputType=amp", "https://news.test/story"),
    ("outputType-AMP-value-case", "https://news.test/story?outputType=AMP", "https://news.test/story"),
    ("outputType-other-kept", "https://news.test/story?outputType=html", "https://news.test/story?outputType=html"),
    ("output-format-amp", "https://news.test/story?output=amp&format=amp", "https://news.test/story"),
    ("underscore-amp", "https://news.test/story?_amp=true", "https://news.test/story"),
    # mobile and AMP hosts
    ("amp-host", "https://amp.news.test/story", "https://www.news.test/story"),
    ("m-host", "https://m.news.test/story", "https://www.news.test/story"),
    ("mobile-host", "https://mobile.news.test/story", "https://www.news.test/story"),
    ("m-host-and-amp-path", "https://m.news.test/story/amp?utm_source=x", "https://www.news.test/story"),
    ("m-is-the-domain-kept", "https://m.test/story", "https://m.test/story"),
    ("amp-is-the-domain-kept", "https://amp.dev/story", "https://amp.dev/story"),
    ("www-kept", "https://www.news.test/story", "https://www.news.test/story"),
    # fragment, ports, case
    ("fragment", "https://news.test/a#top", "https://news.test/a"),
    ("fragment-hashbang", "https://news.test/a?b=1#!/x", "https://news.test/a?b=1"),
    ("default-port-http", "http://news.test:80/a", "http://news.test/a"),
    ("default-port-https", "https://news.test:443/a", "https://news.test/a"),
    ("other-port-kept", "https://news.test:8443/a", "https://news.test:8443/a"),
    ("https-port-on-http-kept", "http://news.test:443/a", "http://news.test:443/a"),
    ("scheme-and-host-lower-cased", "HTTPS://News.TEST/a", "https://news.test/a"),
    ("path-case-kept", "https://news.test/Story/A", "https://news.test/Story/A"),
    ("host-trailing-dot", "https://news.test./a", "https://news.test/a"),
    ("surrounding-space", "  https://news.test/a\n", "https://news.test/a"),
    # trailing slash and empty path, as w3lib
    ("trailing-slash-kept", "https://news.test/a/", "https://news.test/a/"),
    ("no-trailing-slash-kept", "https://news.test/a", "https://news.test/a"),
    ("empty-path", "https://news.test", "https://news.test/"),
    ("empty-path-with-query", "https://news.test?x=1", "https://news.test/?x=1"),
    # percent-encoding
    ("percent-escape-upper-cased", "https://news.test/caf%c3%a9", "https://news.test/caf%C3%A9"),
    ("non-ascii-path-encoded", "https://news.test/café", "https://news.test/caf%C3%A9"),
    ("space-in-path", "https://news.test/a b", "https://news.test/a%20b"),
    ("unreserved-unescaped", "https://news.test/a/%7Euser", "https://news.test/a/~user"),
    ("escaped-slash-kept", "https://news.test/a%2Fb", "https://news.test/a%2Fb"),
    # internationalised host names
    ("idn-to-punycode", "https://bücher.test/a", "https://xn--bcher-kva.test/a"),
    ("punycode-kept", "https://xn--bcher-kva.test/a", "https://xn--bcher-kva.test/a"),
    ("idn-upper-case", "https://BÜCHER.test/a", "https://xn--bcher-kva.test/a"),
]


@pytest.mark.parametrize(("url", "expected"), [r[1:] for r in NORMALIZE], ids=[r[0] for r in NORMALIZE])
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), [r[1:] for r in NORMALIZE], ids=[r[0] for r in NORMALIZE])
def test_normalize_url_is_idempotent(url: str, expected: str) -> None:
    assert normalize_url(expected) == expected


W3LIB_ALIKE = [
    "http://News.TEST/A/b/?b=2&a=1",
    "https://news.test/a/",
    "https://news.test/a",
    "https://news.test/caf%c3%a9/?q=%E9",
    "https://news.test/a?x=1;y=2",
    "https://news.test/a%2Fb?x=%2B&q=a%20b",
]


@pytest.mark.parametrize("url", W3LIB_ALIKE)
def test_without_tracking_or_variants_it_is_w3libs_canonical_form(url: str) -> None:
    assert normalize_url(url) == canonicalize_url(url)


# -- dedup_form -------------------------------------------------------------------------------

SAME_PAGE = [
    ("http-vs-https", "http://news.test/a", "https://news.test/a"),
    ("www-vs-bare", "https://www.news.test/a", "https://news.test/a"),
    ("m-vs-www", "https://m.news.test/a", "https://www.news.test/a"),
    ("amp-host-vs-bare", "https://amp.news.test/a", "http://news.test/a"),
    ("tracking-and-fragment", "https://www.news.test/a?utm_source=x#c", "http://news.test/a"),
    ("amp-path", "https://news.test/a/amp", "https://www.news.test/a"),
    ("default-port", "https://news.test:443/a", "http://news.test:80/a"),
    ("param-order", "https://news.test/a?b=2&a=1", "http://www.news.test/a?a=1&b=2"),
]

OTHER_PAGE = [
    ("path-case", "https://news.test/A", "https://news.test/a"),
    ("trailing-slash", "https://news.test/a/", "https://news.test/a"),
    ("other-host", "https://news.test/a", "https://other.test/a"),
    ("subdomain", "https://sport.news.test/a", "https://news.test/a"),
    ("other-port", "https://news.test:8443/a", "https://news.test/a"),
    ("kept-param", "https://news.test/a?id=1", "https://news.test/a?id=2"),
    ("amp-0", "https://news.test/a?amp=0", "https://news.test/a"),
    ("non-utf8-query-bytes", "https://news.test/a?q=%E9", "https://news.test/a?q=%E8"),
]


@pytest.mark.parametrize(("a", "b"), [r[1:] for r in SAME_PAGE], ids=[r[0] for r in SAME_PAGE])
def test_dedup_form_same_page(a: str, b: str) -> None:
    assert dedup_form(a) == dedup_form(b)


@pytest.mark.parametrize(("a", "b"), [r[1:] for r in OTHER_PAGE], ids=[r[0] for r in OTHER_PAGE])
def test_dedup_form_other_page(a: str, b: str) -> None:
    assert dedup_form(a) != dedup_form(b)


def test_dedup_form_has_no_scheme_nor_www() -> None:
    assert dedup_form("https://www.news.test/a?utm_source=x&id=1#top") == "news.test/a?id=1"
    assert dedup_form("https://m.news.test:8443/a/amp") == "news.test:8443/a"


# -- the canonical URL an article declares -------------------------------------------------

PAGE = "https://www.news.test/2024/04/story?utm_source=rss"

CANONICAL = [
    ("none-declared", (), "https://www.news.test/2024/04/story"),
    ("link-canonical", ("https://www.news.test/2024/04/story-slug",), "https://www.news.test/2024/04/story-slug"),
    ("canonical-normalised", ("https://WWW.news.test/2024/04/story-slug?fbclid=1#x",), "https://www.news.test/2024/04/story-slug"),
    ("canonical-on-bare-host", ("http://news.test/s",), "http://news.test/s"),
    ("canonical-on-mobile-host", ("https://m.news.test/s",), "https://www.news.test/s"),
    ("other-host-rejected", ("https://other.test/2024/04/story",), "https://www.news.test/2024/04/story"),
    ("lookalike-host-rejected", ("https://news.test.evil.test/s",), "https://www.news.test/2024/04/story"),
    ("subdomain-rejected", ("https://sport.news.test/s",), "https://www.news.test/2024/04/story"),
    ("home-page-rejected", ("https://www.news.test/",), "https://www.news.test/2024/04/story"),
    ("bare-home-page-rejected", ("https://news.test",), "https://www.news.test/2024/04/story"),
    ("home-with-query-accepted", ("https://www.news.test/?p=123",), "https://www.news.test/?p=123"),
    ("not-http-rejected", ("ftp://www.news.test/s",), "https://www.news.test/2024/04/story"),
    ("relative-rejected-here", ("/s",), "https://www.news.test/2024/04/story"),
    ("malformed-port-ignored", ("https://www.news.test:abc/s",), "https://www.news.test/2024/04/story"),
    ("port-out-of-range-ignored", ("https://www.news.test:99999/s",), "https://www.news.test/2024/04/story"),
    ("malformed-ipv6-ignored", ("http://[::1/s",), "https://www.news.test/2024/04/story"),
    ("empty-ignored", ("", None), "https://www.news.test/2024/04/story"),
    ("first-agreeing-wins", ("https://www.news.test/a", "https://www.news.test/b"), "https://www.news.test/a"),
    ("og-url-when-canonical-disagrees", ("https://other.test/a", "https://www.news.test/b"), "https://www.news.test/b"),
    ("og-url-when-canonical-missing", (None, "https://www.news.test/b"), "https://www.news.test/b"),
]


@pytest.mark.parametrize(("declared", "expected"), [r[1:] for r in CANONICAL], ids=[r[0] for r in CANONICAL])
def test_canonical_url(declared: tuple[str | None, ...], expected: str) -> None:
    assert canonical_url(PAGE, *declared) == expected


def test_home_page_may_declare_itself() -> None:
    assert canonical_url("https://www.news.test/?utm_source=x", "https://www.news.test/") == "https://www.news.test/"


def test_same_site_ignores_variant_prefixes() -> None:
    assert same_site("https://www.news.test/a", "http://m.news.test/b")
    assert same_site("https://amp.news.test/a", "https://news.test/b")
    assert not same_site("https://news.test/a", "https://sport.news.test/a")


ARTICLE_BODY = (
    "<article><h1>Harbour bridge reopens</h1>"
    + "".join(
        f"<p>{s}</p>"
        for s in (
            "The harbour bridge reopened on Monday after three months of repairs to its deck and cables, "
            "the city's transport office said in a statement released in the morning.",
            "Engineers replaced more than two hundred steel plates and repainted the towers, and traffic "
            "returned to all four lanes shortly after dawn, officials told reporters at the scene.",
        )
    )
    + "</article>"
)
ARTICLE_URL = "https://m.news.test/2024/05/bridge/amp?utm_source=rss"

EXTRACTED_CANONICAL = [
    ("relative-link-resolved", '<link rel="canonical" href="/2024/05/bridge-reopens">', "https://www.news.test/2024/05/bridge-reopens"),
    ("protocol-relative-link", '<link rel="canonical" href="//www.news.test/2024/05/b">', "https://www.news.test/2024/05/b"),
    ("relative-og-url-resolved", '<meta property="og:url" content="bridge-reopens">', "https://www.news.test/2024/05/bridge/bridge-reopens"),
    ("link-on-other-host-rejected", '<link rel="canonical" href="https://aggregator.test/bridge">', "https://www.news.test/2024/05/bridge"),
    ("other-host-link-then-og-url", '<link rel="canonical" href="https://aggregator.test/bridge">'
     '<meta property="og:url" content="https://www.news.test/2024/05/bridge-og">', "https://www.news.test/2024/05/bridge-og"),
    ("malformed-link-ignored", '<link rel="canonical" href="https://www.news.test:bad/x">', "https://www.news.test/2024/05/bridge"),
    ("javascript-link-ignored", '<link rel="canonical" href="javascript:void(0)">', "https://www.news.test/2024/05/bridge"),
    ("no-declaration", "", "https://www.news.test/2024/05/bridge"),
]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


@pytest.mark.parametrize(("head", "expected"), [r[1:] for r in EXTRACTED_CANONICAL], ids=[r[0] for r in EXTRACTED_CANONICAL])
def test_extractor_chooses_the_canonical_url(extractor: Extractor, head: str, expected: str) -> None:
    html = f'<html lang="en"><head><title>Bridge</title>{head}</head><body>{ARTICLE_BODY}</body></html>'
    assert extractor.extract(html, ARTICLE_URL).canonical_url == expected


# -- request fingerprints ----------------------------------------------------------------------


@pytest.fixture
def fingerprinter() -> CanonicalRequestFingerprinter:
    return CanonicalRequestFingerprinter()


@pytest.mark.parametrize(("a", "b"), [r[1:] for r in SAME_PAGE], ids=[r[0] for r in SAME_PAGE])
def test_variants_of_one_page_have_one_fingerprint(fingerprinter: CanonicalRequestFingerprinter, a: str, b: str) -> None:
    assert fingerprinter.fingerprint(Request(a)) == fingerprinter.fingerprint(Request(b))


@pytest.mark.parametrize(("a", "b"), [r[1:] for r in OTHER_PAGE], ids=[r[0] for r in OTHER_PAGE])
def test_other_pages_have_other_fingerprints(fingerprinter: CanonicalRequestFingerprinter, a: str, b: str) -> None:
    assert fingerprinter.fingerprint(Request(a)) != fingerprinter.fingerprint(Request(b))


def test_method_and_body_are_part_of_the_fingerprint(fingerprinter: CanonicalRequestFingerprinter) -> None:
    get = fingerprinter.fingerprint(Request("https://news.test/a"))
    head = fingerprinter.fingerprint(Request("https://news.test/a", method="HEAD"))
    post_1 = fingerprinter.fingerprint(Request("https://news.test/a", method="POST", body=b"x=1"))
    post_2 = fingerprinter.fingerprint(Request("https://news.test/a", method="POST", body=b"x=2"))
    assert len({get, head, post_1, post_2}) == 4


def test_redirect_to_the_same_page_keeps_a_distinct_fingerprint(fingerprinter: CanonicalRequestFingerprinter) -> None:
    first = Request("https://news.test/a?utm_source=rss")
    redirected = first.replace(url="https://www.news.test/a", meta={"redirect_urls": [first.url]})
    plain = Request("https://www.news.test/a")
    assert fingerprinter.fingerprint(redirected) != fingerprinter.fingerprint(first)
    assert fingerprinter.fingerprint(plain) == fingerprinter.fingerprint(first)
    # a redirect to another page is that page, whatever it came from
    moved = first.replace(url="https://news.test/b", meta={"redirect_urls": [first.url]})
    assert fingerprinter.fingerprint(moved) == fingerprinter.fingerprint(Request("https://news.test/b"))


def _dupefilter() -> RFPDupeFilter:
    crawler = get_crawler(settings_dict={"REQUEST_FINGERPRINTER_CLASS": "crawler.fingerprint.CanonicalRequestFingerprinter"})
    crawler._apply_settings()
    assert isinstance(crawler.request_fingerprinter, CanonicalRequestFingerprinter)
    return RFPDupeFilter.from_crawler(crawler)


def test_scheduler_dupefilter_sees_variants_as_one_request() -> None:
    dupefilter = _dupefilter()
    assert not dupefilter.request_seen(Request("https://www.news.test/a?utm_source=rss"))
    assert dupefilter.request_seen(Request("http://news.test/a#comments"))
    assert dupefilter.request_seen(Request("https://m.news.test/a/amp?fbclid=1"))
    assert not dupefilter.request_seen(Request("https://news.test/b"))
    redirected = Request("https://news.test/a", meta={"redirect_urls": ["https://www.news.test/a?utm_source=rss"]})
    assert not dupefilter.request_seen(redirected)


# -- a real crawl: one page linked under several URLs is fetched once ----------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.paths.append(self.path)
        if self.path.startswith("/moved?"):  # a tracking redirect to the page itself
            self.send_response(301)
            self.send_header("Location", "/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<html><body>page</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths: list[str] = []
        self.lock = threading.Lock()


class _VariantsSpider(Spider):
    name = "variants"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.fetched: list[str] = []

    async def start(self):  # type: ignore[no-untyped-def]
        for url in self.urls:
            yield Request(url, callback=self.parse)

    def parse(self, response):  # type: ignore[no-untyped-def]
        self.fetched.append(response.url)
        return []


@pytest.fixture
def server():
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()


@pytest_twisted.ensureDeferred
async def test_crawl_fetches_a_page_linked_under_several_urls_once(server: _Server) -> None:
    host, port = server.server_address[:2]
    assert isinstance(host, str)
    base = f"http://{host}:{port}"
    urls = [
        f"{base}/story?utm_source=rss&id=1",
        f"{base}/story?id=1#comments",
        f"{base}/story/amp?id=1&fbclid=x",
        f"{base}/story?id=1&amp=1",
        f"{base}/other",
        f"{base}/moved?utm_source=rss",  # redirected to /moved: fetched there, not dropped
    ]
    runner = AsyncCrawlerRunner(
        {
            "REQUEST_FINGERPRINTER_CLASS": "crawler.fingerprint.CanonicalRequestFingerprinter",
            "ROBOTSTXT_OBEY": False,
            "CONCURRENT_REQUESTS": 1,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    crawler = runner.create_crawler(_VariantsSpider)
    await Deferred.fromFuture(runner.crawl(crawler, urls=urls))
    spider = crawler.spider
    assert isinstance(spider, _VariantsSpider)
    assert server.paths == ["/story?utm_source=rss&id=1", "/other", "/moved?utm_source=rss", "/moved"]
    assert spider.fetched == [urls[0], f"{base}/other", f"{base}/moved"]
    assert crawler.stats is not None
    assert crawler.stats.get_value("dupefilter/filtered") == 3

