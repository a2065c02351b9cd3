"""The three page themes of the local news web, modelled on the sites the seeds came from:
a news CMS, a WordPress auto-blog and a Blogger blog. Pages carry the bulk and the
boilerplate of the real thing (menus, inline CSS and scripts, widgets, comment forms)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from html import escape

from newsweb.model import Outlet, WebArticle

_NAV = ["World", "Business", "Politics", "Technology", "Science", "Health", "Sport", "Culture", "Travel",
        "Opinion", "Video", "Podcasts", "Weather", "Climate", "Asia", "Europe", "Americas", "Africa",
        "Middle East", "Economy", "Markets", "Lifestyle", "Food", "Books", "Film", "Music", "Education"]


@dataclass
class PageExtras:
    """Boilerplate a particular page carries inside or around its article body."""

    teaser: str | None = None  # a feed-teaser paragraph before the body
    read_more_after: int | None = None  # a bare "Read more" line after this paragraph
    crumbs: tuple[str, ...] = ()  # category links rendered without spaces between them
    desk_prefix: str | None = None  # e.g. "Ns News Online Desk:" twice before the first paragraph
    trailer_lines: tuple[str, ...] = ()  # last lines of the body ("By Associated Press", "Source: …")
    source_link: str | None = None  # "Source link" to the original
    ifttt: str | None = None  # "from X - Home https://ift.tt/…" line (Blogger)
    popular_posts: tuple[tuple[str, str], ...] = ()
    archives_widget: bool = False
    curly_to_straight: bool = False
    related: list[tuple[str, str]] = field(default_factory=list)  # (title, url) of other articles


def _bulk_css(rng: random.Random, rules: int) -> str:
    props = ["margin", "padding", "color", "font-size", "line-height", "border", "background", "width"]
    out = []
    for i in range(rules):
        sel = f".c{rng.randrange(10**6):06x}-{i} > .x{rng.randrange(999)}"
        body = ";".join(f"{rng.choice(props)}:{rng.randrange(1, 99)}px" for _ in range(4))
        out.append(f"{sel}{{{body}}}")
    return "\n".join(out)


def _bulk_script(rng: random.Random, items: int) -> str:
    config = {
        "ads": [{"slot": f"div-gpt-ad-{rng.randrange(10**9)}", "sizes": [[300, 250], [728, 90]]} for _ in range(items)],
        "analytics": {"id": f"UA-{rng.randrange(10**8)}-1", "dims": [rng.randrange(10**6) for _ in range(items)]},
    }
    return json.dumps(config)


def _nav(outlet: Outlet, rng: random.Random, n: int) -> str:
    items = [rng.choice(_NAV) for _ in range(n)]
    return "".join(
        f'<li class="menu-item"><a href="http://{outlet.host}/{escape(i.lower().replace(" ", "-"))}/">{escape(i)}</a></li>'
        for i in items
    )


def _text(p: str, extras: PageExtras) -> str:
    if extras.curly_to_straight:
        p = p.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return escape(p, quote=False)


def _body_paragraphs(article: WebArticle, extras: PageExtras, heading_tag: str = "h2") -> list[str]:
    out = []
    if extras.teaser:
        out.append(f"<p>{escape(extras.teaser)}</p>")
    for i, p in enumerate(article.paragraphs):
        if i in article.headings:
            out.append(f"<{heading_tag}>{_text(p, extras)}</{heading_tag}>")
        elif i == 0 and extras.desk_prefix:
            out.append(f"<p><strong>{escape(extras.desk_prefix)}</strong>{escape(extras.desk_prefix)} {_text(p, extras)}</p>")
        else:
            out.append(f"<p>{_text(p, extras)}</p>")
        if extras.read_more_after == i:
            out.append("<p>Read more</p>")
    return out


def _head(article: WebArticle, outlet: Outlet, rng: random.Random, css_rules: int, extra: str = "") -> str:
    iso = article.published_at.isoformat()
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(article.title)} | {escape(outlet.name)}</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="canonical" href="{escape(article.url)}">'
        f'<meta property="og:title" content="{escape(article.title)}">'
        f'<meta property="og:url" content="{escape(article.url)}">'
        f'<meta property="og:site_name" content="{escape(outlet.name)}">'
        f'<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="{iso}">'
        f'<link rel="alternate" type="application/rss+xml" href="{escape(outlet.head_feed_url)}">'
        f"{extra}<style>{_bulk_css(rng, css_rules)}</style></head>"
    )


def render_newscms(article: WebArticle, outlet: Outlet, extras: PageExtras, rng: random.Random) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": article.published_at.isoformat(),
        "author": [{"@type": "Person", "name": a} for a in article.authors],
        "publisher": {"@type": "Organization", "name": outlet.name},
    }
    paras = _body_paragraphs(article, extras)
    # "Read more" teaser boxes between paragraphs, as news sites place them
    for pos, (title, url) in zip((3, 7), extras.related, strict=False):
        if pos < len(paras):
            paras.insert(
                pos,
                f'<aside class="read-more"><span class="read-more__label">Read more</span>'
                f'<a href="{escape(url)}">{escape(title)}</a></aside>',
            )
    byline = (
        f'<div class="article__byline">By <a rel="author" href="/authors/{escape(article.authors[0].lower().replace(" ", "-"))}">'
        f"{escape(', '.join(article.authors))}</a></div>"
        if article.authors
        else ""
    )
    most_read = "".join(f'<li><a href="{escape(u)}">{escape(t)}</a></li>' for t, u in extras.related[:5])
    footer_links = "".join(f'<li><a href="/{i}/">{x}</a></li>' for i, x in enumerate(_NAV * 3))
    return (
        _head(article, outlet, rng, 220, f'<script type="application/ld+json">{json.dumps(ld)}</script>')
        + '<body class="page-article">'
        + '<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience and to show '
        "you personalised ads. By continuing to browse you agree to our use of cookies.</p>"
        '<button>Accept all</button><button>Manage settings</button></div>'
        + f'<header class="site-header"><a class="logo" href="/">{escape(outlet.name)}</a>'
        f'<nav class="main-nav"><ul>{_nav(outlet, rng, 40)}</ul></nav>'
        f'<form class="search" action="/search"><input name="q" placeholder="Search"></form></header>'
        + '<main><article class="article">'
        f'<h1 class="article__heading">{escape(article.title)}</h1>{byline}'
        f'<time class="article__date" datetime="{article.published_at.isoformat()}">'
        f"{article.published_at:%d %B %Y}</time>"
        f'<div class="article__text">{"".join(paras)}</div>'
        '<div class="share"><a href="#">Share on Facebook</a><a href="#">Share on X</a><a href="#">Email</a></div>'
        "</article>"
        f'<aside class="sidebar"><h3>Most read</h3><ol>{most_read}</ol></aside></main>'
        f'<footer class="site-footer"><ul>{footer_links}</ul>'
        f"<p>© {article.published_at.year} {escape(outlet.name)}. All rights reserved.</p></footer>"
        f"<script>window.__CONFIG__ = {_bulk_script(rng, 60)};</script>"
        "</body></html>"
    )


def render_wordpress(article: WebArticle, outlet: Outlet, extras: PageExtras, rng: random.Random) -> str:
    paras = _body_paragraphs(article, extras, heading_tag="h3")
    paras += [f"<p>{escape(line)}</p>" for line in extras.trailer_lines]
    if extras.source_link:
        paras.append(f'<p><a href="{escape(extras.source_link)}" class="source-link">Source link</a></p>')
    crumbs = "".join(f'<a href="/category/{escape(c.lower().replace(" ", "-"))}/" rel="category tag">{escape(c)}</a>' for c in extras.crumbs)
    related = "".join(
        f'<div class="related-item"><a href="{escape(u)}">{escape(t)}</a></div>' for t, u in extras.related[:4]
    )
    archives = (
        '<section class="widget widget_archive"><h2 class="widget-title">Archives</h2><ul>'
        + "".join(f'<li><a href="/{y}/{m:02d}/">{m:02d}/{y}</a></li>' for y in (2023, 2022) for m in range(12, 0, -1))
        + "</ul></section>"
        if extras.archives_widget
        else ""
    )
    author = article.authors[0] if article.authors else f"{outlet.name} Desk"
    return (
        _head(article, outlet, rng, 260)
        + f'<body class="post-template-default single single-post postid-{rng.randrange(10**5)}">'
        f'<div id="page" class="site"><header id="masthead" class="site-header">'
        f'<div class="site-branding"><p class="site-title"><a href="/">{escape(outlet.name)}</a></p></div>'
        f'<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">{_nav(outlet, rng, 30)}</ul></nav></header>'
        '<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">'
        f'<article class="post type-post status-publish format-standard hentry">'
        f'<header class="entry-header"><span class="cat-links">{crumbs}</span>'
        f'<h1 class="entry-title">{escape(article.title)}</h1>'
        f'<div class="entry-meta"><span class="posted-on"><time class="entry-date published" datetime="{article.published_at.isoformat()}">'
        f"{article.published_at:%B %d, %Y}</time></span>"
        f'<span class="byline"><span class="author vcard"><a class="url fn n" href="/author/desk/">{escape(author)}</a></span></span></div></header>'
        f'<div class="entry-content">{"".join(paras)}</div>'
        f'<footer class="entry-footer"><span class="tags-links">Tags: <a href="/tag/world/">World</a></span></footer></article>'
        f'<div class="related-posts"><h3 class="related-title">Related Articles</h3>{related}</div>'
        '<div id="comments" class="comments-area"><div id="respond" class="comment-respond">'
        '<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>'
        '<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">'
        '<p class="comment-notes"><span id="email-notes">Your email address will not be published.</span> '
        '<span class="required-field-message">Required fields are marked <span class="required">*</span></span></p>'
        '<p class="comment-form-comment"><label for="comment">Comment</label><textarea id="comment" name="comment"></textarea></p>'
        '<p class="comment-form-author"><label for="author">Name *</label><input id="author" name="author"></p>'
        '<p class="form-submit"><input name="submit" type="submit" value="Post Comment"></p></form></div></div>'
        "</main></div>"
        f'<aside id="secondary" class="widget-area"><section class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2><ul>{related}</ul></section>{archives}</aside></div>'
        f'<footer id="colophon" class="site-footer"><div class="site-info">{escape(outlet.name)} © {article.published_at.year}</div></footer>'
        '<a href="#" id="back-to-top" class="back-to-top">Back to top button</a></div>'
        f"<script>var wpData = {_bulk_script(rng, 70)};</script>"
        "</body></html>"
    )


def render_blogger(article: WebArticle, outlet: Outlet, extras: PageExtras, rng: random.Random) -> str:
    paras = _body_paragraphs(article, extras, heading_tag="h3")
    if extras.ifttt:
        label, _, link = extras.ifttt.rpartition(" ")
        paras.append(f'<br><br>from <a href="{escape(link)}">{escape(label.removeprefix("from "))}</a> {escape(link)}')
    popular = "".join(
        f'<div class="post-summary"><h3><a href="/p/{i}.html">{escape(t)}</a></h3><p class="snippet-item">{escape(s)}</p></div>'
        for i, (t, s) in enumerate(extras.popular_posts)
    )
    popular_widget = (
        f'<div class="widget PopularPosts" id="PopularPosts1"><h3 class="title">Popular posts from this blog</h3>{popular}</div>'
        if extras.popular_posts
        else ""
    )
    return (
        _head(article, outlet, rng, 300)
        + '<body class="version-1-3-3 variant-indie_light">'
        '<a class="skip-navigation" href="#main" tabindex="0">Skip to main content</a>'
        f'<header class="centered-top-container"><div class="blog-name"><h1><a href="/">{escape(outlet.name)}</a></h1></div>'
        f'<div class="widget PageList"><ul>{_nav(outlet, rng, 20)}</ul></div></header>'
        '<main id="main" class="centered"><div class="widget Blog"><div class="blog-posts hfeed container">'
        '<article class="post-outer-container"><div class="post">'
        f'<h3 class="post-title entry-title">{escape(article.title)}</h3>'
        f'<div class="post-header"><span class="byline post-timestamp"><abbr class="published" title="{article.published_at.isoformat()}">'
        f"{article.published_at:%B %d, %Y}</abbr></span></div>"
        f'<div class="post-body entry-content float-container" id="post-body-{rng.randrange(10**9)}">{"".join(paras)}</div>'
        '<div class="post-footer"><div class="byline post-share-buttons"><a href="#">Share</a></div></div></div>'
        '<section class="comments" id="comments"><h3 class="title">Comments</h3>'
        '<div class="comment-form"><p>Post a Comment</p></div></section></article></div></div></main>'
        f'<aside class="sidebar-container">{popular_widget}'
        f'<div class="widget BlogArchive"><h3 class="title">Archive</h3><ul>{_nav(outlet, rng, 25)}</ul></div></aside>'
        f'<footer class="footer"><p>Powered by Blogger</p></footer>'
        f"<script>var _WidgetManager = {_bulk_script(rng, 70)};</script>"
        "</body></html>"
    )


THEMES = {"newscms": render_newscms, "wordpress": render_wordpress, "blogger": render_blogger}
