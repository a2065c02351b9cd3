"""``NewsWeb``: outlets, their articles, and every URL they serve, rendered on request."""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from urllib.parse import urlsplit

from newsweb.content import GeneratedArticle, offtopic_article, seed_story, seed_teaser_line
from newsweb.model import Outlet, WebArticle
from newsweb.themes import THEMES, PageExtras

_HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class _OutletSpec:
    name: str
    host: str
    theme: str
    feed: str  # the feed path article pages name in <link rel="alternate">
    section: str
    article_path: str  # str.format with n, slug, hex, d (datetime)
    mix: str  # how crawlers can discover the outlet's articles, see _MIXES


# Each outlet offers crawlers a different way in, so that a crawl finding every article
# has exercised every discovery path:
_MIXES = {
    "rss": "an RSS 2.0 feed named in the sources file",
    "robots-sitemap-index": "robots.txt Sitemap: line -> sitemap index -> Google News sitemap + gzip sitemap",
    "sections": "section pages only (paginated, with tag/author/login/share links around the articles)",
    "atom": "an Atom feed named in the sources file",
    "jsonfeed": "a JSON Feed named in the sources file",
    "alternate": "an RSS feed found only through the home page's <link rel=\"alternate\">",
    "sitemap": "a plain sitemap named in the sources file",
    "faults": "healthy and broken feeds and sitemaps (malformed, entity bomb, 404, 500, redirect loop, 429)",
}

_OUTLETS = (
    _OutletSpec("RT", "www.rt.test", "newscms", "/rss/", "/news/", "/news/{n}-{slug}/", "rss"),
    _OutletSpec("The Hindu", "www.thehindu.test", "newscms", "/feeder/default.rss", "/news/international/",
                "/news/international/{slug}/article{n}.ece", "robots-sitemap-index"),
    _OutletSpec("AP News", "apnews.test", "newscms", "/world-news.rss", "/hub/world-news", "/article/{slug}-{hex}",
                "sections"),
    _OutletSpec("France 24", "www.france24.test", "newscms", "/en/rss", "/en/asia-pacific/",
                "/en/asia-pacific/{d:%Y%m%d}-{slug}", "atom"),
    _OutletSpec("Kuwait News Agency", "www.kuna.test", "newscms", "/rss.aspx?language=en", "/NewsList.aspx?language=en",
                "/ArticleDetails.aspx?id={n}&language=en", "jsonfeed"),
    _OutletSpec("Ns News Online", "nsnewsonline.test", "wordpress", "/feed/", "/category/world/",
                "/{d:%Y/%m/%d}/{slug}/", "alternate"),
    _OutletSpec("The Dawn News", "thedawnnews.blogspot.test", "blogger", "/feeds/posts/default?alt=rss",
                "/search/label/World", "/{d:%Y/%m}/{slug}.html", "sitemap"),
)
_FAULTY = _OutletSpec("Faulty Times", "www.faultytimes.test", "newscms", "/rss/", "/news/", "/news/{n}-{slug}/", "faults")

# Faulty Times' feeds and sitemaps, by path: what each one does wrong
_FAULT_FEEDS = {
    "/rss/": "ok",
    "/broken-feed.xml": "malformed",
    "/bomb-feed.xml": "entity-bomb",
    "/missing-feed.xml": "404",
    "/error-feed.xml": "500",
    "/loop-feed.xml": "redirect-loop",
    "/busy-feed.xml": "429-then-ok",
}
_FAULT_SITEMAPS = {"/sitemap.xml": "malformed", "/bomb-sitemap.xml": "entity-bomb"}
_BOMB_PROLOG = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>\n"
)
_NEWS_SITEMAP_SIZE = 5  # newest articles in The Hindu's Google News sitemap
_EPOCH = datetime(2021, 1, 1, tzinfo=UTC)


def _tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# (seed, outlet, kind, path, published, authors, original publisher, extras, title override)
_SEED_PAGES = (
    ("000", "RT", "original", "/news/565432-us-china-bilateral-rivalry/", datetime(2022, 10, 31, 18, 12, tzinfo=UTC), ()),
    ("001", "The Hindu", "original", "/news/international/address-russias-legitimate-concerns-china-tells-us/article38331234.ece",
     datetime(2022, 1, 27, 10, 5, tzinfo=_tz(5.5)), ("Ananth Krishnan",)),
    ("002", "AP News", "original", "/article/china-blinken-qin-gang-phone-call-3f5e0c1a",
     datetime(2023, 6, 14, 8, 20, tzinfo=_tz(-4)), ("Didi Tang",)),
    ("003", "France 24", "original", "/en/asia-pacific/20240426-xi-tells-blinken-us-and-china-should-be-partners-not-rivals",
     datetime(2024, 4, 26, 9, 45, tzinfo=_tz(2)), ()),
    ("004", "Kuwait News Agency", "original", "/ArticleDetails.aspx?id=3092349&language=en",
     datetime(2023, 6, 19, 17, 30, tzinfo=_tz(3)), ()),
    ("000", "Ns News Online", "copy-exact", "/2022/10/31/us-and-china-discuss-bilateral-rivalry/",
     datetime(2022, 10, 31, 21, 0, tzinfo=UTC), ()),
    ("001", "Ns News Online", "copy-exact", "/2022/01/27/address-russias-legitimate-concerns-china-tells-u-s/",
     datetime(2022, 1, 27, 14, 40, tzinfo=UTC), ()),
    ("002", "Ns News Online", "copy-edited", "/2023/06/14/chinas-foreign-minister-airs-concerns-in-phone-call-with-blinken/",
     datetime(2023, 6, 14, 16, 2, tzinfo=UTC), ()),
    ("004", "Ns News Online", "copy-exact", "/2023/06/19/blinken-us-china-agree-to-stabilize-relationship/",
     datetime(2023, 6, 19, 19, 15, tzinfo=UTC), ()),
    ("003", "The Dawn News", "copy-exact", "/2024/04/xi-tells-blinken-us-and-china-should-be.html",
     datetime(2024, 4, 26, 13, 1, tzinfo=_tz(-7)), ()),
    ("002", "The Dawn News", "copy-edited", "/2023/06/blinken-and-qin-gang-talk-by-phone-before.html",
     datetime(2023, 6, 15, 2, 30, tzinfo=_tz(-7)), ()),
)


# With ``hold_back_copies``: pages of seed stories kept off the web until
# :meth:`NewsWeb.publish_copies` (seed, outlet). AP News' own page of seed 002 comes last
# to the web: its story is first found on the aggregators that credit AP (Ns News
# Online's "By Associated Press", The Dawn News' "from AP News"), so AP's page, when it
# appears, is the original publisher's.
_HELD_BACK = (("000", "Ns News Online"), ("003", "The Dawn News"), ("002", "AP News"))


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80]


class NewsWeb:
    """A deterministic web of news outlets. ``size`` = number of off-topic articles.

    Each outlet offers crawlers its own way in (``Outlet.mix``, see ``_MIXES``);
    :meth:`sources_toml` is the sources file that tells a crawler those ways, and
    :meth:`crawlable` the articles a complete, polite crawl finds. :meth:`publish` adds new
    articles (feeds, sitemaps, pages and their validators change with them).

    ``hold_back_copies`` keeps some pages of seed stories (``_HELD_BACK``) off the web
    until :meth:`publish_copies`: a first crawl sees only the other copies."""

    def __init__(self, size: int = 40, *, seed: int = 0, faults: bool = False, hold_back_copies: bool = False) -> None:
        self.size = size
        self.seed = seed
        specs = _OUTLETS + ((_FAULTY,) if faults else ())
        self._specs = {s.name: s for s in specs}
        self.outlets = [self._outlet(s) for s in specs]
        self._outlet_by_host = {o.host: o for o in self.outlets}
        self._extras: dict[str, PageExtras] = {}
        self._generated: dict[str, int] = {}  # url -> off-topic number, rendered lazily
        self._hits: dict[str, int] = {}  # url -> requests served (for faults that change over time)
        self._lock = threading.Lock()
        self.articles: list[WebArticle] = []
        self._add_seed_pages()
        self._add_offtopic(size)
        self._published = size
        if faults:
            self._add_faults()
        self._held: list[WebArticle] = []
        if hold_back_copies:
            held = {(f"seed-{seed_id}", outlet) for seed_id, outlet in _HELD_BACK}
            self._held = [a for a in self.articles if (a.story, a.outlet) in held]
            self._held.sort(key=lambda a: _HELD_BACK.index((a.story.removeprefix("seed-"), a.outlet)))
            self.articles = [a for a in self.articles if (a.story, a.outlet) not in held]
        self._by_url = {a.url: a for a in self.articles}
        self._by_outlet: dict[str, list[WebArticle]] = {o.name: [] for o in self.outlets}
        for a in self.articles:
            self._by_outlet[a.outlet].append(a)
        for articles in self._by_outlet.values():
            articles.sort(key=lambda a: (a.published_at, a.url), reverse=True)

    @staticmethod
    def _outlet(s: _OutletSpec) -> Outlet:
        base = f"http://{s.host}"
        feeds: tuple[str, ...] = ()
        sitemaps: tuple[str, ...] = ()
        if s.mix in ("rss", "atom", "alternate"):
            feeds = (f"{base}{s.feed}",)
        elif s.mix == "jsonfeed":
            feeds = (f"{base}/feed.json?language=en",)
        elif s.mix == "faults":
            feeds = tuple(f"{base}{path}" for path in _FAULT_FEEDS)
        if s.mix == "robots-sitemap-index":
            sitemaps = (f"{base}/sitemap-index.xml",)
        elif s.mix == "sitemap":
            sitemaps = (f"{base}/sitemap.xml",)
        elif s.mix == "faults":
            sitemaps = tuple(f"{base}{path}" for path in _FAULT_SITEMAPS)
        return Outlet(
            name=s.name, host=s.host, theme=s.theme, home_url=f"{base}/", feed_urls=feeds, sitemap_urls=sitemaps,
            section_urls=(f"{base}{s.section}",), mix=s.mix, head_feed_url=f"{base}{s.feed}",
        )

    # -- building ----------------------------------------------------------------------

    def _add_seed_pages(self) -> None:
        for seed_id, outlet, kind, path, published, authors in _SEED_PAGES:
            story = seed_story(seed_id)
            host = self._specs[outlet].host
            url = f"http://{host}{path}"
            extras = PageExtras(curly_to_straight=kind == "copy-edited")
            title, publisher = story.title, None
            if outlet == "Ns News Online":
                if seed_id == "000":
                    extras.teaser = seed_teaser_line("000")
                    extras.read_more_after = 5
                elif seed_id == "001":
                    extras.source_link = f"http://{self._specs['The Hindu'].host}{_SEED_PAGES[1][3]}"
                elif seed_id == "002":
                    extras.crumbs = ("Conflict", "North America", "World")
                    extras.desk_prefix = "Ns News Online Desk:"
                    extras.trailer_lines = ("By Associated Press",)
                    publisher = "Associated Press"
                elif seed_id == "004":
                    extras.trailer_lines = ("Source: Kuwait News Agency",)
                    extras.archives_widget = True
                    publisher = "Kuwait News Agency"
            elif outlet == "The Dawn News":
                if seed_id == "003":
                    extras.ifttt = "from The Dawn News - Home https://ift.tt/1gBO6wd"
                    extras.popular_posts = story.popular_posts
                    publisher = "The Dawn News"
                else:
                    extras.ifttt = "from AP News - Home https://ift.tt/3xYz9Qa"
                    title = "Blinken and Qin Gang talk by phone before planned China trip"
                    publisher = "AP News"
            paragraphs = story.paragraphs
            if extras.curly_to_straight:
                paragraphs = tuple(
                    p.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"') for p in paragraphs
                )
            self._extras[url] = extras
            self.articles.append(
                WebArticle(
                    url=url, outlet=outlet, story=f"seed-{seed_id}", kind=kind, title=title,
                    paragraphs=paragraphs, authors=authors, published_at=published,
                    original_publisher=publisher, headings=story.headings,
                )
            )

    def _offtopic_url(self, spec: _OutletSpec, number: int, title: str, published: datetime) -> str:
        def url(slug: str) -> str:
            path = spec.article_path.format(
                n=700000 + number, slug=slug, hex=f"{(number * 2654435761) % 2**32:08x}", d=published
            )
            return f"http://{spec.host}{path}"

        first = url(_slug(title))
        if first in self._generated or first in self._extras:  # (_extras: the seed pages)
            return url(f"{_slug(title)[:70]}-{number}")  # same title, same day: one URL per article
        return first

    def _add_offtopic(self, size: int) -> None:
        base = datetime(2022, 1, 1, tzinfo=UTC)
        names = [s.name for s in _OUTLETS]
        for number in range(1, size + 1):
            spec = self._specs[names[number % len(names)]]
            gen = offtopic_article(number, self.seed)
            rng = random.Random(f"newsweb-date-{self.seed}-{number}")
            published = base + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            url = self._offtopic_url(spec, number, gen.title, published)
            self._add_generated(url, spec, number, gen, published, f"offtopic-{number:05d}", "offtopic")
        # one robots-disallowed page, listed in RT's feed
        gen = offtopic_article(0, self.seed)
        url = f"http://{self._specs['RT'].host}/private/preview-{_slug(gen.title)}/"
        self._add_generated(url, self._specs["RT"], 0, gen, datetime(2024, 5, 1, tzinfo=UTC), "private-00000",
                            "offtopic", disallowed=True)

    def _add_generated(self, url: str, spec: _OutletSpec, number: int, gen: GeneratedArticle, published: datetime,
                       story: str, kind: str, *, disallowed: bool = False, fault: str | None = None) -> None:
        self._generated[url] = number
        self.articles.append(
            WebArticle(
                url=url, outlet=spec.name, story=story, kind=kind, title=gen.title, paragraphs=gen.paragraphs,
                authors=(gen.author,), published_at=published, disallowed=disallowed, fault=fault,
            )
        )

    def _add_faults(self) -> None:
        spec = _FAULTY
        published = datetime(2024, 3, 1, 12, tzinfo=UTC)
        gen = offtopic_article(990001, self.seed)
        self._add_generated(f"http://{spec.host}/news/990001-{_slug(gen.title)}/", spec, 990001, gen, published,
                            "offtopic-990001", "offtopic")
        for i, (fault, path) in enumerate(
            [("pdf", "/docs/annual-report.pdf"), ("empty", "/news/990002-empty-page/"),
             ("malformed-html", "/news/990003-cafe-owners-celebrate/"), ("404", "/news/990004-gone/"),
             ("500", "/news/990005-server-error/")]
        ):
            gen = offtopic_article(990002 + i, self.seed)
            self._add_generated(f"http://{spec.host}{path}", spec, 990002 + i, gen, published + timedelta(hours=i + 1),
                                f"fault-{fault}", "fault", fault=fault)

    # -- queries -----------------------------------------------------------------------

    def article(self, url: str) -> WebArticle | None:
        return self._by_url.get(url)

    def crawlable(self) -> list[WebArticle]:
        """Every article page a polite crawler can find and fetch (robots.txt allows it)."""
        return [a for a in self.articles if not a.disallowed]

    def publish(self, n: int) -> list[WebArticle]:
        """Publish ``n`` new off-topic articles, newer than every other, spread over the
        healthy outlets; their feeds, sitemaps and section pages change accordingly."""
        newest = max(a.published_at for a in self.articles)
        names = [s.name for s in _OUTLETS]
        new: list[WebArticle] = []
        with self._lock:
            for k in range(1, n + 1):
                number = self._published + k
                spec = self._specs[names[number % len(names)]]
                gen = offtopic_article(number, self.seed)
                published = newest + timedelta(hours=k)
                url = self._offtopic_url(spec, number, gen.title, published)
                self._add_generated(url, spec, number, gen, published, f"offtopic-{number:05d}", "offtopic")
                new.append(self.articles[-1])
            self._published += n
            for a in new:
                self._by_url[a.url] = a
                self._by_outlet[a.outlet].insert(0, a)
            for articles in self._by_outlet.values():
                articles.sort(key=lambda a: (a.published_at, a.url), reverse=True)
        return new

    def publish_copies(self) -> list[WebArticle]:
        """Publish the pages of seed stories held back (``hold_back_copies``), newer than
        every other article, in ``_HELD_BACK`` order; feeds, sitemaps and section pages
        list them from now on, as they do :meth:`publish`'s articles."""
        with self._lock:
            newest = max(a.published_at for a in self.articles)
            new = [replace(a, published_at=newest + timedelta(hours=k)) for k, a in enumerate(self._held, 1)]
            self._held = []
            self.articles.extend(new)
            for a in new:
                self._by_url[a.url] = a
                self._by_outlet[a.outlet].append(a)
            for articles in self._by_outlet.values():
                articles.sort(key=lambda a: (a.published_at, a.url), reverse=True)
        return new

    def sources_toml(self) -> str:
        """The sources file that tells a crawler each outlet's way in (its mix)."""

        def urls(values: tuple[str, ...]) -> str:
            return "[" + ", ".join(f'"{u}"' for u in values) + "]"

        blocks = []
        for o in self.outlets:
            lines = [f'[[sources]]\nname = "{o.name}"\nhome = "{o.home_url}"']
            if o.mix in ("rss", "atom", "jsonfeed", "faults"):
                lines.append(f"feeds = {urls(o.feed_urls)}")
            if o.mix in ("sitemap", "faults"):
                lines.append(f"sitemaps = {urls(o.sitemap_urls)}")
            if o.mix == "robots-sitemap-index":
                lines.append("robots_sitemaps = true")
            if o.mix == "alternate":
                lines.append("autodiscover_feeds = true")
            if o.mix == "sections":
                lines.append(f"sections = {urls(o.section_urls)}\nsection_depth = 10")
            blocks.append("\n".join(lines) + "\n")
        return "\n".join(blocks)

    # -- rendering ---------------------------------------------------------------------

    def render(self, host: str, path_and_query: str) -> tuple[int, dict[str, str], bytes]:
        outlet = self._outlet_by_host.get(host.lower())
        if outlet is None:
            return 502, {"Content-Type": "text/plain; charset=utf-8"}, f"Unknown host {host}\n".encode()
        with self._lock:
            self._hits[f"{host}{path_and_query}"] = hits = self._hits.get(f"{host}{path_and_query}", 0) + 1
        spec = self._specs[outlet.name]
        url = f"http://{outlet.host}{path_and_query}"
        path = urlsplit(url).path
        if path_and_query == "/robots.txt":
            return self._robots(outlet)
        if outlet.mix == "faults" and (path in _FAULT_FEEDS or path in _FAULT_SITEMAPS):
            return self._fault_document(outlet, path, hits, path_and_query)
        if url in outlet.feed_urls:
            return self._feed(outlet)
        if outlet.mix == "robots-sitemap-index" and path.startswith("/sitemap"):
            return self._hindu_sitemaps(outlet, path_and_query)
        if outlet.mix == "sitemap" and path_and_query == "/sitemap.xml":
            return self._urlset(self._visible(outlet))
        if path_and_query == "/":
            return self._listing(outlet, self._visible(outlet)[:20], home=True)
        if path == urlsplit(outlet.section_urls[0]).path:
            return self._section(outlet, path_and_query)
        article = self._by_url.get(url)
        if article is None or article.fault == "404":
            return 404, {"Content-Type": _HTML}, b"<html><body><h1>Page not found</h1></body></html>"
        if article.fault:
            return self._fault(article)
        rng = random.Random(f"newsweb-page-{self.seed}-{url}")
        extras = self._extras.get(url) or PageExtras()
        if not extras.related:
            others = self._by_outlet[outlet.name]
            extras = replace(extras, related=[(a.title, a.url) for a in rng.sample(others, min(6, len(others))) if a.url != url and not a.fault])
        html = THEMES[spec.theme](article, outlet, extras, rng)
        return 200, {"Content-Type": _HTML, "Last-Modified": _http_date(article.published_at)}, html.encode("utf-8")

    def _visible(self, outlet: Outlet) -> list[WebArticle]:
        return [a for a in self._by_outlet[outlet.name] if not a.disallowed]

    def _robots(self, outlet: Outlet) -> tuple[int, dict[str, str], bytes]:
        body = "User-agent: *\nDisallow: /private/\n"
        if outlet.mix in ("robots-sitemap-index", "sitemap"):
            body += "".join(f"\nSitemap: {u}" for u in outlet.sitemap_urls) + "\n"
        return 200, {"Content-Type": "text/plain; charset=utf-8", "Last-Modified": _http_date(_EPOCH)}, body.encode()

    def _urlset(self, articles: list[WebArticle], *, news: str | None = None) -> tuple[int, dict[str, str], bytes]:
        parts = []
        for a in articles:
            if news:
                parts.append(
                    f"<url><loc>{escape(a.url)}</loc><news:news><news:publication><news:name>{escape(news)}</news:name>"
                    f"<news:language>en</news:language></news:publication>"
                    f"<news:publication_date>{a.published_at.isoformat()}</news:publication_date>"
                    f"<news:title>{escape(a.title)}</news:title></news:news></url>"
                )
            else:
                parts.append(f"<url><loc>{escape(a.url)}</loc><lastmod>{a.published_at.isoformat()}</lastmod></url>")
        ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>'
            + "".join(parts) + "</urlset>\n"
        )
        return 200, {"Content-Type": "application/xml", "Last-Modified": _newest(articles)}, body.encode()

    def _hindu_sitemaps(self, outlet: Outlet, path: str) -> tuple[int, dict[str, str], bytes]:
        visible = self._visible(outlet)
        news, archive = visible[:_NEWS_SITEMAP_SIZE], visible[_NEWS_SITEMAP_SIZE:]
        base = f"http://{outlet.host}"
        if path == "/sitemap-index.xml":
            children = [(f"{base}/sitemaps/news.xml", news), (f"{base}/sitemaps/archive.xml.gz", archive)]
            entries = "".join(
                f"<sitemap><loc>{escape(u)}</loc>"
                + (f"<lastmod>{arts[0].published_at.isoformat()}</lastmod>" if arts else "")
                + "</sitemap>"
                for u, arts in children
            )
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{entries}</sitemapindex>\n"
            )
            return 200, {"Content-Type": "application/xml", "Last-Modified": _newest(visible)}, body.encode()
        if path == "/sitemaps/news.xml":
            return self._urlset(news, news=outlet.name)
        if path == "/sitemaps/archive.xml.gz":
            status, headers, body = self._urlset(archive)
            return status, {**headers, "Content-Type": "application/x-gzip"}, gzip.compress(body, mtime=0)
        return 404, {"Content-Type": _HTML}, b"<html><body><h1>Page not found</h1></body></html>"

    def _feed(self, outlet: Outlet) -> tuple[int, dict[str, str], bytes]:
        listed = self._by_outlet[outlet.name]  # robots-disallowed pages too: a feed does not know robots.txt
        last_modified = {"Last-Modified": _newest(listed)}
        if outlet.mix == "atom":
            return 200, {"Content-Type": "application/atom+xml; charset=utf-8", **last_modified}, self._atom(outlet, listed)
        if outlet.mix == "jsonfeed":
            return 200, {"Content-Type": "application/feed+json", **last_modified}, self._json_feed(outlet, listed)
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8", **last_modified}, self._rss(outlet, listed)

    def _summary(self, a: WebArticle) -> str:
        story = self._extras.get(a.url)
        return (story.teaser if story and story.teaser else a.paragraphs[0][:200]) if a.paragraphs else ""

    def _rss(self, outlet: Outlet, listed: list[WebArticle]) -> bytes:
        parts = [
            f"<item><title>{escape(a.title)}</title><link>{escape(a.url)}</link>"
            f"<description>{escape(self._summary(a))}</description><pubDate>{format_datetime(a.published_at.astimezone(UTC))}</pubDate>"
            f'<guid isPermaLink="true">{escape(a.url)}</guid></item>'
            for a in listed
        ]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(outlet.name)}</title><link>{outlet.home_url}</link><description>Latest news</description>"
            + "".join(parts)
            + "</channel></rss>\n"
        ).encode()

    def _atom(self, outlet: Outlet, listed: list[WebArticle]) -> bytes:
        updated = max((a.published_at for a in listed), default=_EPOCH).isoformat()
        parts = [
            f'<entry><title>{escape(a.title)}</title><link rel="alternate" type="text/html" href="{escape(a.url)}"/>'
            f"<id>{escape(a.url)}</id><published>{a.published_at.isoformat()}</published>"
            f"<updated>{a.published_at.isoformat()}</updated><summary>{escape(self._summary(a))}</summary></entry>"
            for a in listed
        ]
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(outlet.name)}</title><id>{outlet.home_url}</id><updated>{updated}</updated>"
            f'<link rel="self" href="{escape(outlet.feed_urls[0])}"/><link rel="alternate" href="{outlet.home_url}"/>'
            + "".join(parts) + "</feed>\n"
        ).encode()

    def _json_feed(self, outlet: Outlet, listed: list[WebArticle]) -> bytes:
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": outlet.name,
            "home_page_url": outlet.home_url,
            "feed_url": outlet.feed_urls[0],
            "items": [
                {"id": a.url, "url": a.url, "title": a.title, "summary": self._summary(a),
                 "date_published": a.published_at.isoformat()}
                for a in listed
            ],
        }
        return json.dumps(feed, ensure_ascii=False, indent=1).encode()

    def _section(self, outlet: Outlet, path_and_query: str) -> tuple[int, dict[str, str], bytes]:
        visible = self._visible(outlet)
        per_page = max(5, math.ceil(len(visible) / 8))
        pages = max(1, math.ceil(len(visible) / per_page))
        query = urlsplit(path_and_query).query
        match = re.fullmatch(r"page=(\d+)", query)
        if query and not match:
            return 404, {"Content-Type": _HTML}, b"<html><body><h1>Page not found</h1></body></html>"
        page = int(match.group(1)) if match else 1
        if not 1 <= page <= pages:
            return 404, {"Content-Type": _HTML}, b"<html><body><h1>Page not found</h1></body></html>"
        base = outlet.section_urls[0]
        return self._listing(
            outlet, visible[(page - 1) * per_page : page * per_page], home=False,
            next_url=f"{base}?page={page + 1}" if page < pages else None,
        )

    def _listing(self, outlet: Outlet, articles: list[WebArticle], *, home: bool,
                 next_url: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """A home or section page: article links among navigation a crawler must not take
        for articles (tags, authors, login, share links, other outlets, other sections)."""
        base = f"http://{outlet.host}"
        items = []
        for a in articles:
            author = a.authors[0].lower().replace(" ", "-") if a.authors else "staff"
            items.append(
                f'<li class="teaser"><a href="{escape(a.url)}">{escape(a.title)}</a>'
                f'<span class="by"><a href="/author/{escape(author)}/">{escape(a.authors[0] if a.authors else "Staff")}</a></span>'
                f'<a class="share" href="/share?url={escape(a.url)}">Share</a>'
                f'<a href="{escape(a.url)}#comments">Comments</a></li>'
            )
        nav = "".join(f'<a href="{escape(u)}">Section</a>' for u in outlet.section_urls)
        nav += f'<a href="{base}/tag/world/">World</a><a href="{base}/login?next=/">Log in</a><a href="{base}/hub/china">China</a>'
        nav += '<a href="http://www.elsewhere.test/2024/01/01/another-outlets-story-here/">Elsewhere</a>'
        pager = f'<a class="next" href="{escape(next_url)}">Next page</a>' if next_url else ""
        feed = ""
        if home and outlet.mix == "alternate":
            feed = f'<link rel="alternate" type="application/rss+xml" title="{escape(outlet.name)} Feed" href="{escape(outlet.feed_urls[0])}">'
        html = (
            f'<!DOCTYPE html><html lang="en"><head><title>{escape(outlet.name)}</title>{feed}</head>'
            f'<body><nav>{nav}</nav><ul>{"".join(items)}</ul>{pager}</body></html>'
        )
        return 200, {"Content-Type": _HTML, "Last-Modified": _newest(articles)}, html.encode()

    def _fault_document(self, outlet: Outlet, path: str, hits: int, path_and_query: str) -> tuple[int, dict[str, str], bytes]:
        fault = _FAULT_FEEDS.get(path) or _FAULT_SITEMAPS[path]
        xml = {"Content-Type": "application/xml"}
        if fault == "ok":
            return self._feed(outlet)
        if fault == "429-then-ok":
            if hits % 2 == 1:
                return 429, {"Content-Type": "text/plain", "Retry-After": "1"}, b"Too many requests\n"
            return self._feed(outlet)
        if fault == "404":
            return 404, {"Content-Type": _HTML}, b"<html><body><h1>Page not found</h1></body></html>"
        if fault == "500":
            return 500, {"Content-Type": _HTML}, b"<html><body>Internal Server Error</body></html>"
        if fault == "redirect-loop":
            target = "/loop-feed.xml?again" if path_and_query == "/loop-feed.xml" else "/loop-feed.xml"
            return 302, {"Location": f"http://{outlet.host}{target}", "Content-Type": "text/plain"}, b""
        if path in _FAULT_SITEMAPS:
            if fault == "entity-bomb":
                body = _BOMB_PROLOG + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://www.faultytimes.test/news/&lol9;/</loc></url></urlset>\n'
                return 200, xml, body.encode()
            body = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://'
            return 200, xml, body.encode()
        if fault == "entity-bomb":
            body = _BOMB_PROLOG + "<rss version=\"2.0\"><channel><title>&lol9;</title><item><title>&lol9;</title><link>http://www.faultytimes.test/news/1-lol/</link></item></channel></rss>\n"
            return 200, {"Content-Type": "application/rss+xml"}, body.encode()
        return 200, {"Content-Type": "application/rss+xml"}, b"<?xml version='1.0'?><rss><channel><item><title>Bro"

    def _fault(self, article: WebArticle) -> tuple[int, dict[str, str], bytes]:
        if article.fault == "pdf":
            return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + bytes(range(256)) * 8
        if article.fault == "empty":
            return 200, {"Content-Type": _HTML}, b""
        if article.fault == "500":
            return 500, {"Content-Type": _HTML}, b"<html><body>Internal Server Error</body></html>"
        # malformed HTML, declared UTF-8 but encoded as windows-1252, with a NUL byte
        paras = "".join(f"<p>{escape(p)} Le café’s owner said so.<div>" for p in article.paragraphs)
        html = (
            f"<html><head><title>{escape(article.title)}<body><div><div></div></div></div><h1>{escape(article.title)}"
            f"<article>{paras}</span></td>\x00</article></b></body>"
        )
        return 200, {"Content-Type": _HTML}, html.encode("cp1252")


def _http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _newest(articles: list[WebArticle]) -> str:
    return _http_date(max((a.published_at for a in articles), default=_EPOCH))
