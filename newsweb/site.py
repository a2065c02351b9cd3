"""``NewsWeb``: outlets, their articles, and every URL they serve, rendered on request."""

from __future__ import annotations

import random
import re
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
    feed: str
    section: str
    article_path: str  # str.format with n, slug, hex, d (datetime)


_OUTLETS = (
    _OutletSpec("RT", "www.rt.test", "newscms", "/rss/", "/news/", "/news/{n}-{slug}/"),
    _OutletSpec("The Hindu", "www.thehindu.test", "newscms", "/feeder/default.rss", "/news/international/",
                "/news/international/{slug}/article{n}.ece"),
    _OutletSpec("AP News", "apnews.test", "newscms", "/world-news.rss", "/hub/world-news", "/article/{slug}-{hex}"),
    _OutletSpec("France 24", "www.france24.test", "newscms", "/en/rss", "/en/asia-pacific/",
                "/en/asia-pacific/{d:%Y%m%d}-{slug}"),
    _OutletSpec("Kuwait News Agency", "www.kuna.test", "newscms", "/rss.aspx?language=en", "/NewsList.aspx?language=en",
                "/ArticleDetails.aspx?id={n}&language=en"),
    _OutletSpec("Ns News Online", "nsnewsonline.test", "wordpress", "/feed/", "/category/world/",
                "/{d:%Y/%m/%d}/{slug}/"),
    _OutletSpec("The Dawn News", "thedawnnews.blogspot.test", "blogger", "/feeds/posts/default?alt=rss",
                "/search/label/World", "/{d:%Y/%m}/{slug}.html"),
)
_FAULTY = _OutletSpec("Faulty Times", "www.faultytimes.test", "newscms", "/rss/", "/news/", "/news/{n}-{slug}/")


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


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80]


class NewsWeb:
    """A deterministic web of news outlets. ``size`` = number of off-topic articles."""

    def __init__(self, size: int = 40, *, seed: int = 0, faults: bool = False) -> None:
        self.size = size
        self.seed = seed
        specs = _OUTLETS + ((_FAULTY,) if faults else ())
        self._specs = {s.name: s for s in specs}
        self.outlets = [
            Outlet(
                name=s.name,
                host=s.host,
                theme=s.theme,
                home_url=f"http://{s.host}/",
                feed_urls=(f"http://{s.host}{s.feed}",) + ((f"http://{s.host}/broken-feed.xml",) if s is _FAULTY else ()),
                sitemap_urls=(f"http://{s.host}/sitemap.xml",),
                section_urls=(f"http://{s.host}{s.section}",),
            )
            for s in specs
        ]
        self._outlet_by_host = {o.host: o for o in self.outlets}
        self._extras: dict[str, PageExtras] = {}
        self._generated: dict[str, int] = {}  # url -> off-topic number, rendered lazily
        self.articles: list[WebArticle] = []
        self._add_seed_pages()
        self._add_offtopic(size)
        if faults:
            self._add_faults()
        self._by_url = {a.url: a for a in self.articles}
        self._by_outlet: dict[str, list[WebArticle]] = {o.name: [] for o in self.outlets}
        for a in self.articles:
            self._by_outlet[a.outlet].append(a)
        for articles in self._by_outlet.values():
            articles.sort(key=lambda a: (a.published_at, a.url), reverse=True)

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
        path = spec.article_path.format(
            n=700000 + number, slug=_slug(title), hex=f"{(number * 2654435761) % 2**32:08x}", d=published
        )
        return f"http://{spec.host}{path}"

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

    def sources_toml(self) -> str:
        blocks = []
        for o in self.outlets:
            feeds = ", ".join(f'"{u}"' for u in o.feed_urls)
            sitemaps = ", ".join(f'"{u}"' for u in o.sitemap_urls)
            blocks.append(f'[[sources]]\nname = "{o.name}"\nfeeds = [{feeds}]\nsitemaps = [{sitemaps}]\n')
        return "\n".join(blocks)

    # -- rendering ---------------------------------------------------------------------

    def render(self, host: str, path_and_query: str) -> tuple[int, dict[str, str], bytes]:
        outlet = self._outlet_by_host.get(host.lower())
        if outlet is None:
            return 502, {"Content-Type": "text/plain; charset=utf-8"}, f"Unknown host {host}\n".encode()
        spec = self._specs[outlet.name]
        url = f"http://{outlet.host}{path_and_query}"
        if path_and_query == "/robots.txt":
            body = f"User-agent: *\nDisallow: /private/\n\nSitemap: http://{outlet.host}/sitemap.xml\n"
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, body.encode()
        if path_and_query == "/sitemap.xml":
            return self._sitemap(outlet)
        if url in outlet.feed_urls:
            return self._feed(outlet, url)
        if path_and_query == "/" or url in outlet.section_urls:
            return 200, {"Content-Type": _HTML}, self._listing(outlet, path_and_query == "/").encode()
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
        return 200, {"Content-Type": _HTML}, html.encode("utf-8")

    def _visible(self, outlet: Outlet) -> list[WebArticle]:
        return [a for a in self._by_outlet[outlet.name] if not a.disallowed]

    def _sitemap(self, outlet: Outlet) -> tuple[int, dict[str, str], bytes]:
        if outlet.name == _FAULTY.name:
            body = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://'
            return 200, {"Content-Type": "application/xml"}, body.encode()
        urls = "".join(
            f"<url><loc>{escape(a.url)}</loc><lastmod>{a.published_at.isoformat()}</lastmod></url>"
            for a in self._visible(outlet)
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
        return 200, {"Content-Type": "application/xml"}, body.encode()

    def _feed(self, outlet: Outlet, url: str) -> tuple[int, dict[str, str], bytes]:
        if url.endswith("/broken-feed.xml"):
            return 200, {"Content-Type": "application/rss+xml"}, b"<?xml version='1.0'?><rss><channel><item><title>Bro"
        items = self._by_outlet[outlet.name]
        listed = [a for a in items if not a.disallowed and not a.fault][:20]
        listed += [a for a in items if a.disallowed or a.fault]
        parts = []
        for a in listed:
            story = self._extras.get(a.url)
            desc = (story.teaser if story and story.teaser else a.paragraphs[0][:200]) if a.paragraphs else ""
            parts.append(
                f"<item><title>{escape(a.title)}</title><link>{escape(a.url)}</link>"
                f"<description>{escape(desc)}</description><pubDate>{format_datetime(a.published_at.astimezone(UTC))}</pubDate>"
                f'<guid isPermaLink="true">{escape(a.url)}</guid></item>'
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(outlet.name)}</title><link>{outlet.home_url}</link><description>Latest news</description>"
            + "".join(parts)
            + "</channel></rss>\n"
        )
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, body.encode()

    def _listing(self, outlet: Outlet, home: bool) -> str:
        articles = self._visible(outlet)[: 20 if home else 100]
        links = "".join(f'<li><a href="{escape(a.url)}">{escape(a.title)}</a></li>' for a in articles)
        section = "".join(f'<a href="{escape(u)}">Section</a>' for u in outlet.section_urls)
        feed = f'<link rel="alternate" type="application/rss+xml" href="{escape(outlet.feed_urls[0])}">'
        return (
            f'<!DOCTYPE html><html lang="en"><head><title>{escape(outlet.name)}</title>{feed}</head>'
            f"<body><nav>{section}</nav><ul>{links}</ul></body></html>"
        )

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
