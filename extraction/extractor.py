"""trafilatura, configured once, plus the metadata and cleaning it leaves to us.

How the body text is chosen (each rule measured page-paired on the AEB benchmark,
``benchmarks/extraction.py``):

1. trafilatura runs twice on the parsed page: with its default balance and with
   ``favor_precision``. Both outputs go through the line rules of ``cleaning.py``.
2. The precision output is taken when it *only removed* material: it keeps at least a
   quarter of the default output's words and at least 95% of its 4-word shingles occur in
   the default output. Otherwise precision mode cut into the article (or found another
   block) and the default output is kept.
3. The page's own schema.org ``articleBody`` replaces that text only when the text is
   missing, or is under half as long as ``articleBody`` while at least 80% of its shingles
   occur in it (trafilatura kept only part of the body the page itself declares), or has
   the same words (``articleBody`` then keeps the paragraph breaks trafilatura lost).
   ``articleBody`` is never preferred to a full extraction: on AEB it is often a teaser
   or carries captions and "read more" lines.
4. Lines the site repeats on many pages (``SiteBoilerplate``), given by the caller, are
   dropped.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Extractor as _TrafilaturaOptions
from trafilatura.utils import load_html

from extraction.cleaning import agency_name, clean_text, drop_lines, normalise_line, split_agency_suffix
from extraction.language import FUNCTION_WORD_LANGUAGES, guess_language
from extraction.structured import PageData, names, read_page_data, urls, words
from extraction.urls import canonical_url

_LANG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")
_BY = re.compile(
    r"^\s*(?:(?:written|story|analysis|text|words|report|reporting|commentary|opinion)\s+)?(?:by|par|von|por|door|av|af)\s*:?\s+",
    re.IGNORECASE,
)
# "Jeff Foust Monday", "Carrie Arnold November": a date run into the byline
_TRAILING_DATE_WORD = re.compile(
    r"\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july"
    r"|august|september|october|november|december|published|updated)$",
    re.IGNORECASE,
)
# credentials after a comma ("Ilana Muhlstein, MS, RDN"), not names
_CREDENTIAL = re.compile(r"^(?:[A-Z]{1,4}|(?i:phd|ph\.d|md|mba))$")
# "A, B and C", "A; B", "A & B", "A und B", "A et B", "A y B", "A e B" (not "Sarah E. Needleman")
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|&|\||/)\s*|\s+(?:and|und|et|y|e)\s+(?!\.)", re.IGNORECASE)
# Not names: dates that themes put in "byline" elements (Blogger's post-timestamp), roles
# ("AP Auto Writer", "Staff Reporter"), publications ("NJ Advance Media for NJ.com"), URLs.
_NOT_A_NAME = re.compile(
    r"\d|^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?$|^(?:admin|staff|editor|guest|jr|sr|the)\.?$"
    r"|^the\s|\b(?:writer|correspondent|reporter|editors?|staff|contributors?|columnist|bureau|media|ministry|ministries)\b"
    r"|\b(?:rep[oó]rter[oa]?|redak\w*|r[ée]dac\w*|reda[cç]\w*|correspond\w*|korrespond\w*|journalist\w*)\b"
    r"|https?:|@|www\.|\.(?:com|net|org|co\.\w+)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_COPYRIGHT_NAME = re.compile(r"^(?:©|copyright\b)", re.IGNORECASE)
_MACHINE_TAG = re.compile(r"[_:=/&;{}<>]")

# Where pages declare their publication and modification times, most specific first.
_PUBLISHED_XPATHS = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@name="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//meta[@name="pubdate"]/@content',
    '//meta[@name="publish-date"]/@content',
    '//meta[@name="date"]/@content',
    '//meta[@name="dc.date"]/@content',
    '//meta[@name="DC.date.issued"]/@content',
    '//time[@itemprop="datePublished"]/@datetime',
    '//time[contains(concat(" ", normalize-space(@class), " "), " published ")]/@datetime',
    '//abbr[contains(concat(" ", normalize-space(@class), " "), " published ")]/@title',
    "//article//time/@datetime",
)
_MODIFIED_XPATHS = (
    '//meta[@property="article:modified_time"]/@content',
    '//meta[@name="article:modified_time"]/@content',
    '//meta[@property="og:updated_time"]/@content',
    '//meta[@itemprop="dateModified"]/@content',
    '//meta[@name="last-modified"]/@content',
    '//time[@itemprop="dateModified"]/@datetime',
    '//time[contains(concat(" ", normalize-space(@class), " "), " updated ")]/@datetime',
)

_MIN_YEAR, _MAX_YEAR = 1990, 2100

# Rule 2 and 3 of the module docstring.
_PRECISION_MIN_WORD_SHARE = 0.25
_PRECISION_MIN_CONTAINED = 0.95
_ARTICLE_BODY_MAX_SHARE = 0.5
_ARTICLE_BODY_MIN_CONTAINED = 0.8


class ExtractionError(ValueError):
    """The page has no extractable article; the message says why."""


@dataclass(frozen=True)
class Extracted:
    """What extraction found on one page (not yet validated)."""

    url: str
    canonical_url: str
    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    site_name: str | None = None
    original_publisher: str | None = None
    modified_at: datetime | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    # Which candidate the text came from: "default", "precision" or "articleBody".
    text_source: str = "default"


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 (or RFC 2822) date or datetime; a naive one is taken as UTC, a bare date
    as 00:00 UTC."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _first(tree: HtmlElement, *xpaths: str) -> str | None:
    for xp in xpaths:
        for value in tree.xpath(xp):
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _plausible(value: datetime | None) -> datetime | None:
    """Placeholders ("0001-01-01T00:00:00Z") and typos are not dates of a web article."""
    return value if value is not None and _MIN_YEAR <= value.year <= _MAX_YEAR else None


def _date(tree: HtmlElement, xpaths: tuple[str, ...], *fallbacks: str | None) -> datetime | None:
    for xp in xpaths:
        for raw in tree.xpath(xp):
            if isinstance(raw, str) and (parsed := _plausible(parse_datetime(raw))):
                return parsed
    for raw in fallbacks:
        if raw and (parsed := _plausible(parse_datetime(raw))):
            return parsed
    return None


def _language(tree: HtmlElement, content_language: str | None, page: PageData) -> str | None:
    for raw in (
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        page.first_meta("og:locale", "content-language", "language", "dc.language"),
        page.ld_str("inLanguage"),
        content_language,
    ):
        if raw and (m := _LANG.match(raw.strip().split(",")[0].strip())):
            return m.group(1).lower()
    return None


def split_authors(*raws: str | None) -> list[str]:
    """Person names from byline strings: "By" removed, several names split
    ("A and B", "A, B", "A; B", "A & B"), duplicates, dates and URLs dropped."""
    found: list[str] = []
    for raw in raws:
        if not raw:
            continue
        parts = []
        for part in _AUTHOR_SPLIT.split(_BY.sub("", raw.strip())):
            part = _TRAILING_DATE_WORD.sub("", _BY.sub("", part).strip(" .,:;|-–—\t\n"))
            if (split := split_agency_suffix(part)) and not agency_name(part):
                parts.extend(split)  # "ERIC TUCKER Associated Press"
            else:
                parts.append(part)
        for name in parts:
            name = name.strip(" .,:;|-–—\t\n")
            if _CREDENTIAL.match(name) and not agency_name(name):
                continue
            if name.isupper() and len(name) > 4:  # "TOM KRISHER"
                name = name.title()
            if name and name not in found and len(name) <= 80 and (agency_name(name) or not _NOT_A_NAME.search(name)):
                found.append(name)
    return found


def _drop_byline(text: str, authors: list[str]) -> str:
    """Drop a byline left at the start of the text: one of the first two lines, "By"/"Par"/
    "Von" … followed by exactly the names found as the authors."""
    if not authors:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines[:2]):
        if len(line.split()) <= 12 and _BY.match(line) and split_authors(line) == authors:
            return "\n".join(lines[:i] + lines[i + 1 :])
    return text


def _other_publisher(publisher: str | None, site_name: str | None, url: str) -> str | None:
    """The agency a dateline or a byline names, unless it is the site itself (an AP story on AP's own
    site has no other original publisher): the site's name or host starts with the publisher's
    name or its initials ("Associated Press" / "AP" on "AP News", apnews.com)."""
    if not publisher:
        return None
    words = publisher.replace("-", " ").split()
    if len(words) > 1 and words[0].casefold() == "the":
        words = words[1:]
    aliases = {"".join(words).casefold(), "".join(w[0] for w in words if w[:1].isupper()).casefold()} - {""}
    host = (urlsplit(url).hostname or "").casefold().removeprefix("www.")
    site = "".join((site_name or "").split()).casefold()
    if any(host.startswith(a) or site.startswith(a) for a in aliases if len(a) >= 2):
        return None
    return publisher


def _choose_language(declared: str | None, text: str) -> str | None:
    """The declared language, unless the text is clearly in another language whose function
    words we know (pages declare their template's language, not the article's); with no
    declaration, the language of the text (``language.guess_language``) when it is clear."""
    guessed = guess_language(text)
    if declared is None:
        return guessed
    if guessed and guessed != declared and declared in FUNCTION_WORD_LANGUAGES and guessed in FUNCTION_WORD_LANGUAGES:
        return guessed
    return declared


_TITLE_SEPARATOR = r"\s+[|\-–—:·•»]\s+"


def _without_site_name(title: str, site_name: str | None) -> str | None:
    """The headline without the site's name added before or after it ("… | MoreBikes")."""
    if title and site_name:
        name = re.escape(site_name)
        for pattern in (rf"^(?P<t>.+?){_TITLE_SEPARATOR}(?:the\s+)?{name}$", rf"^(?:the\s+)?{name}{_TITLE_SEPARATOR}(?P<t>.+)$"):
            if m := re.match(pattern, title, re.IGNORECASE):
                return m.group("t").strip()
    return title or None


def _alnum(value: str) -> str:
    return "".join(c for c in value.casefold() if c.isalnum())


def _site_name(raw: str | None, url: str) -> str | None:
    """The site's name without a tagline ("LinkNaija | Nigeria's popular news platform");
    a URL given as the name becomes its host; a copyright notice is no name."""
    if not raw or _COPYRIGHT_NAME.match(raw.strip()):
        return None
    name = raw.strip().lstrip("@")
    if "://" in name:
        name = (urlsplit(name).hostname or "").removeprefix("www.")
    name = name.split(" | ")[0].strip()
    return name or None


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for v in values:
        v = " ".join(v.split())
        if v and v.casefold() not in seen:
            seen.add(v.casefold())
            out.append(v)
    return out


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = _WORD.findall(text)
    if len(tokens) < 4:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)}


def _contained(part: str, whole: str) -> float:
    """Share of ``part``'s 4-word shingles that also occur in ``whole``."""
    p = _shingles(part)
    return len(p & _shingles(whole)) / len(p) if p else 0.0


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _http_url(base: str, value: str | None) -> str | None:
    """``value`` made absolute against ``base``, if that is a well-formed http(s) URL."""
    if not value or not isinstance(value, str):
        return None
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return absolute if ok else None


class Extractor:
    """Extracts one article from HTML. Build once; call :meth:`extract` per page.

    trafilatura runs with ``include_comments=False`` and never with its process-wide
    ``deduplicate`` cache. Instances hold only options, so they pickle (worker processes).
    """

    name = "trafilatura"

    def __init__(self) -> None:
        self._options = _TrafilaturaOptions(
            output_format="python", comments=False, dedup=False, with_metadata=True, tables=True
        )
        self._precision_options = _TrafilaturaOptions(
            output_format="python", comments=False, dedup=False, with_metadata=False, tables=True, precision=True
        )
        self.version = f"{version('trafilatura')}+newsarchive.2"

    def _run(self, tree: HtmlElement, options: _TrafilaturaOptions, url: str):
        options = copy.copy(options)
        options.url = url
        options.source = url
        try:
            return trafilatura.bare_extraction(tree, options=options)
        except Exception as exc:  # trafilatura raises assorted errors on hostile input
            raise ExtractionError(f"trafilatura failed: {type(exc).__name__}: {exc}") from exc

    def extract(
        self,
        html: str | bytes,
        url: str,
        *,
        content_language: str | None = None,
        site_lines: frozenset[str] | None = None,
    ) -> Extracted:
        """Text and metadata of the article on ``html``. ``site_lines`` are normalised lines
        (``cleaning.normalise_line``) known to repeat across the site's pages
        (``SiteBoilerplate.lines_for(url)``); they are dropped from the text."""
        if not html or not (html.strip() if isinstance(html, str) else html.strip()):
            raise ExtractionError("empty page")
        tree = load_html(html)
        if tree is None:
            raise ExtractionError("not parseable as HTML")
        page = read_page_data(tree)

        doc = self._run(tree, self._options, url)
        site_name = page.first_meta("og:site_name", "application-name") or (page.publisher[0] if page.publisher else None)
        if not _site_name(site_name, url) and doc is not None:
            site_name = doc.sitename or None
        site_name = _site_name(site_name, url)
        raw_title = ((doc.title if doc else None) or page.ld_str("headline") or page.first_meta("og:title") or "").strip()
        if site_name and _alnum(raw_title) == _alnum(site_name):  # trafilatura kept the wrong half
            raw_title = page.ld_str("headline") or page.first_meta("og:title") or _first(tree, "//title/text()") or raw_title
        title = _without_site_name(raw_title, site_name)
        default = clean_text(doc.text if doc else "", title)
        precise_doc = self._run(tree, self._precision_options, url) if default.text else None
        precise = clean_text(precise_doc.text or "", title) if precise_doc else None

        chosen, source = default, "default"
        if (
            precise is not None
            and precise.text
            and _word_count(precise.text) >= _PRECISION_MIN_WORD_SHARE * _word_count(default.text)
            and _contained(precise.text, default.text) >= _PRECISION_MIN_CONTAINED
        ):
            chosen, source = precise, "precision"
        body = page.ld_str("articleBody")
        if body:
            declared = clean_text(body, title)
            if declared.text and (
                not chosen.text
                # same words: keep the page's own paragraph breaks
                or _WORD.findall(chosen.text) == _WORD.findall(declared.text)
                or (
                    _word_count(chosen.text) < _ARTICLE_BODY_MAX_SHARE * _word_count(declared.text)
                    and _contained(chosen.text, declared.text) >= _ARTICLE_BODY_MIN_CONTAINED
                )
            ):
                chosen, source = declared, "articleBody"
        meta = doc
        # An attribution line counts wherever a candidate saw it (precision mode may cut it).
        credit = next((c for c in (chosen, default, precise) if c is not None and c.original_publisher), chosen)
        authors, publisher = self._authors(page, meta, site_name)
        text = drop_lines(chosen.text, site_lines) if site_lines else chosen.text
        text = _drop_byline(text, authors)
        if not text.strip():
            raise ExtractionError("no article text found")

        link_canonical = _first(tree, '//link[@rel="canonical"]/@href')
        return Extracted(
            url=url,
            canonical_url=canonical_url(url, _http_url(url, link_canonical), _http_url(url, page.first_meta("og:url"))),
            title=title,
            text=text,
            authors=authors,
            published_at=_date(tree, _PUBLISHED_XPATHS, page.ld_str("datePublished"), page.ld_str("dateCreated"), meta.date if meta else None),
            modified_at=_date(tree, _MODIFIED_XPATHS, page.ld_str("dateModified")),
            language=_choose_language(
                _language(tree, content_language, page) or ((meta.language if meta else None) or None), text
            ),
            site_name=site_name,
            original_publisher=(
                _other_publisher(credit.original_publisher, site_name, url)
                if credit.by_dateline
                else credit.original_publisher
            )
            or _other_publisher(publisher, site_name, url),
            description=page.first_meta("og:description", "description", "twitter:description")
            or page.ld_str("description")
            or ((meta.description if meta else None) or None),
            tags=self._tags(page, meta),
            image_url=self._image(url, page, meta),
            text_source=source,
        )

    @staticmethod
    def _authors(page: PageData, doc, site_name: str | None) -> tuple[list[str], str | None]:
        """Person names, and a wire agency when the byline names one instead of a person.
        The site itself as author ("BBC News" on BBC News, "CNN Business" on CNN) is not a
        person: dropped; a desk ("Ns News Online Desk") is kept, as the byline the page gives."""
        ld = page.article.get("author")
        candidates: list[str] = []
        if ld is not None:
            candidates = split_authors(*names(ld))
        if not candidates:
            meta = [v for v in page.all_meta("author", "article:author", "dc.creator", "sailthru.author") if "://" not in v]
            candidates = split_authors(*meta)
        if not candidates and doc is not None:
            candidates = split_authors(doc.author)
        publisher = None
        people = []
        site = _alnum(site_name or "").removeprefix("the")
        for name in candidates:
            if agency := agency_name(name):
                publisher = publisher or agency
            elif (
                len(site) >= 3
                and (site in _alnum(name) or _alnum(name).removeprefix("the") in site)
                and not name.casefold().endswith(" desk")
            ):
                continue
            else:
                people.append(name)
        return people, publisher

    @staticmethod
    def _tags(page: PageData, doc) -> list[str]:
        tags = page.all_meta("article:tag", "article:section", "news_keywords", "keywords")
        tags = [t for raw in tags for t in words(raw)]
        tags += words(page.article.get("keywords")) + words(page.article.get("articleSection"))
        if doc is not None:
            tags += [t for raw in [*(doc.categories or []), *(doc.tags or [])] for t in words(raw)]
        # machine tags ("@post-id:123", "_no-apple-news", "channel_other", "/article") are not topics
        return _unique([t for t in tags if len(t) <= 100 and t[:1].isalnum() and not _MACHINE_TAG.search(t)])

    @staticmethod
    def _image(url: str, page: PageData, doc) -> str | None:
        for candidate in (
            page.first_meta("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"),
            *urls(page.article.get("image")),
            doc.image if doc is not None else None,
        ):
            if found := _http_url(url, candidate):
                return found
        return None


__all__ = ["ExtractionError", "Extracted", "Extractor", "normalise_line", "parse_datetime", "split_authors"]
