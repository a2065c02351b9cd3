"""Boilerplate that survives trafilatura, removed line by line with rules one can read.

trafilatura removes page *structure* (navigation, comment sections, sidebars). What is
left over is short *lines* inside the article container that re-publishing sites add:
feed teasers ("… Read Full Article at RT.com"), trailers ("Source link", "Back to top
button"), widget headings that start a block of unrelated teasers ("Popular posts from this
blog", "Related Articles"), desk prefixes ("Ns News Online Desk:") and attribution lines
("By Associated Press", "Source: Kuwait News Agency", "from The Dawn News - Home https://…").
Attribution lines are not thrown away: they name the original publisher and are returned
as metadata.

Rules, in order, each on whole lines of the extracted text:
1. A first line equal to the title is the headline repeated, not body.
2. A line that is only a known boilerplate phrase is dropped.
3. A *trailing-block heading* (comments, popular posts, "you may also like") that comes after
   the article has begun (50 words in) ends the article: it and everything after it is
   dropped.
4. A line that ends with a "read the full article at …" call is a feed teaser: dropped.
5. Leading "<Name> Desk:" prefixes are removed from a line.
6. Attribution lines (wire credits) are removed and their publisher is kept.
7. Short generic trailer and teaser lines are dropped: a label and a headline ("Read more:
   …", "Related: …", "Also on rt.com …"), calls to action (newsletter sign-up, "Follow us on
   Twitter", "Share it with a friend"), contact lines with an e-mail address or a handle,
   copyright lines, "Tags: …" lines and unrendered shortcodes. (Lines that are only a URL
   are kept: on AEB they are as often content, lists of links in the article, as not.)
8. After a teaser heading ("Related Articles", "Don't miss"), the short lines that do not
   end a sentence (the list of linked headlines) are dropped too; after a labelled teaser
   ("Related: …"), only such lines that are bulleted ("- …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Phrases that are boilerplate whenever they stand alone on a line (compared casefolded,
# surrounding punctuation and whitespace ignored).
_BOILERPLATE_LINES = frozenset(
    s.casefold()
    for s in (
        "Read more",
        "Read More »",
        "Read also",
        "Also read",
        "Source link",
        "Back to top button",
        "Back to top",
        "Skip to main content",
        "Skip to content",
        "Related Articles",
        "Related Posts",
        "Related",
        "Leave a Reply",
        "Leave a comment",
        "Comments",
        "Post a Comment",
        "Archives",
        "Advertisement",
        "Share this:",
        "Share this article",
        "Like this:",
        "Your email address will not be published. Required fields are marked *",
        "Your email address will not be published.",
        "Tags",
        "Share",
        "Share this",
        "Share this story",
        "Print",
        "Print Article",
        "Order Reprints",
        "Don't miss",
        "Must read",
        "Recommended",
        "Read next",
        "More stories",
        "Thanks for signing up!",
        "Tell us what you think",
        "Like this story? Share it with a friend!",
        "Keep an eye on your inbox for the latest sports news.",
        "An error has occurred, please try again later.",
        "There was an error processing your subscription.",
        "This article has been sent to",
        "Partager cet article",
        "Partager",
        "Artikel teilen",
        "Teilen",
        "Compartir",
        "Condividi",
    )
)

# Headings that open a block of unrelated material at the end of a post.
_TRAILING_BLOCK_HEADINGS = frozenset(
    s.casefold()
    for s in (
        "Popular posts from this blog",
        "Popular posts",
        "You may also like",
        "More from this blog",
        "Comments",
        "Leave a Reply",
        "Post a Comment",
    )
)

_MIN_WORDS_BEFORE_TRAILER = 50

_TEASER_TAIL = re.compile(
    r"\s*(?:…|\.\.\.)?\s*(?:read|continue reading)\s+(?:the\s+)?(?:full|complete|whole|more)?\s*"
    r"(?:article|story|post)\s+(?:at|on)\s+\S.{0,60}$",
    re.IGNORECASE,
)

# A short line that is a label and a headline: "Read more: <headline>", "RELATED: …",
# "See also - …", "Also on rt.com <headline>".
_LABELLED_TEASER = re.compile(
    r"^(?:read more|read also|also read|read next|see more|see also|related(?: articles?| stories| posts?| coverage| content)?"
    r"|more on this|recommended|must read|don't miss|watch|listen|also on \S+\.\w+"
    r"|lire aussi|à lire aussi|voir aussi|lesen sie auch|mehr zum thema|leia também|lee también|leer más|leggi anche)\s*(?:[:|»>–—-]|\.\.\.|…)?\s+\S",
    re.IGNORECASE,
)
_MAX_TEASER_WORDS = 30
# Calls to action: subscribe / newsletters / follow / share, and contact lines naming an
# e-mail address or a social-media handle.
_CALL_TO_ACTION = re.compile(
    r"\b(?:sign(?:ing)? up|subscribe)\b.{0,80}\b(?:newsletters?|inbox|updates)\b"
    r"|\bnewsletters?\b.{0,80}\b(?:sign(?:ing)? up|subscribe|inbox)\b"
    r"|^(?:follow|like)\s+(?:us|him|her|them|@?[\w.]+(?:\s+[\w.]+){0,3})\s+on\s+(?:twitter|facebook|instagram|x|linkedin|youtube|tiktok)\b"
    r"|\bshare (?:it|this(?: story| article)?) with\b"
    r"|\bclick here\b"
    r"|^if you (?:enjoyed|liked|value) (?:this|our) (?:article|story|post|journalism|reporting)\b"
    r"|^[\w' ]{0,40}\bnewsletters?$",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"^(?:email|e-mail|write to|contact|reach|follow|have a tip\?)\b.{0,120}(?:\b[\w.+-]+@[\w-]+\.[\w.]+|[\s(]@\w+)"
    r"|\bmay be reached at\s+[\w.+-]+@",
    re.IGNORECASE,
)
_MAX_TRAILER_WORDS = 40
_COPYRIGHT = re.compile(r"^(?:©|\(c\)\s*\d{4}|copyright\b)", re.IGNORECASE)
_MAX_COPYRIGHT_WORDS = 25
# Markup that was never rendered: a WordPress shortcode pair ("[button …]Send us…[/button]").
_SHORTCODE = re.compile(r"\[(\w+)[^\]]*\].*\[/\1\]")
_TAGS_LINE = re.compile(r"^(?:tags|tagged|topics|filed under)\s*:", re.IGNORECASE)

# Headings that open a list of links to other articles (rule 8).
_TEASER_HEADINGS = frozenset(
    s.casefold()
    for s in ("Related", "Related Articles", "Related Posts", "Related stories", "Don't miss", "Must read",
              "Recommended", "Read next", "More stories", "Read more", "Read also", "Also read", "See also")
)
_MAX_HEADLINE_WORDS = 20
_SENTENCE_END = re.compile(r"[.!?:;\"”’'…)]\s*$")

_DESK_PREFIX = re.compile(r"^(?:\s*[A-Z][\w&'.-]*(?:\s+[\w&'.-]+){0,5}\s+Desk\s*:\s*)+")

# Wire services and agencies: "By <one of these>" is an attribution, not a person.
_AGENCIES = (
    "Associated Press",
    "The Associated Press",
    "AP",
    "Reuters",
    "AFP",
    "Agence France-Presse",
    "Agence France Presse",
    "Bloomberg",
    "Xinhua",
    "Kuwait News Agency",
    "KUNA",
    "Press Trust of India",
    "PTI",
    "ANI",
    "IANS",
    "dpa",
    "EFE",
    "ANSA",
    "Kyodo News",
    "Yonhap",
    "TASS",
    "UPI",
    "CNA",
)
_AGENCY_NAMES = "|".join(re.escape(a) for a in sorted(_AGENCIES, key=len, reverse=True))
_BY_AGENCY = re.compile(rf"^(?:By|From|Via)\s+(?P<pub>{_AGENCY_NAMES})\.?$", re.IGNORECASE)
_SOURCE_LINE = re.compile(r"^(?:Source|Sources|Courtesy|Via|Quelle|Fuente|Fonte)\s*:\s*(?P<pub>[^\s].{0,60}?)\.?$", re.IGNORECASE)
_IFTTT_LINE = re.compile(r"^from\s+(?P<pub>.{2,80}?)(?:\s+-\s+Home)?\s+https?://\S+$", re.IGNORECASE)

# A wire dateline opening the article: "TAIPEI, Taiwan (AP) — …", "(Reuters) - …". The
# dateline is part of the lede as published (kept in the text); the agency is recorded.
_DATELINE = re.compile(
    rf"^(?:[A-Z][\w.,'’ -]{{0,60}}?\s)?\((?P<pub>{_AGENCY_NAMES})\)\s*(?:[—–-]|$)"
)
_DATELINE_NAMES = {"ap": "Associated Press", "afp": "AFP", "reuters": "Reuters"}

_WS = re.compile(r"\s+")


def _key(line: str) -> str:
    return _WS.sub(" ", line).strip(" \t-–—|:•»«·.…").casefold()


def normalise_line(line: str) -> str:
    """A line as compared across pages: whitespace folded, edge punctuation trimmed, casefolded."""
    return _key(line)


def drop_lines(text: str, lines: frozenset[str] | set[str]) -> str:
    """``text`` without the lines whose normalised form is in ``lines``."""
    return "\n".join(line for line in text.splitlines() if _key(line) not in lines)


_AGENCY_BY_KEY = {a.casefold(): a for a in _AGENCIES}
_AGENCY_SUFFIX = re.compile(rf"^(?P<name>.+?)[\s,]+(?P<agency>{_AGENCY_NAMES})$")


def split_agency_suffix(name: str) -> tuple[str, str] | None:
    """("Eric Tucker", "Associated Press") from "ERIC TUCKER Associated Press"."""
    if m := _AGENCY_SUFFIX.match(name.strip()):
        return m.group("name"), m.group("agency")
    return None


def agency_name(name: str) -> str | None:
    """The wire agency a byline names ("By The Associated Press" -> "The Associated Press"),
    or None when it names someone else."""
    key = _key(re.sub(r"^(?:by|from|via)\s+", "", name.strip(), flags=re.IGNORECASE))
    return _AGENCY_BY_KEY.get(key)


@dataclass(frozen=True)
class Cleaned:
    text: str
    original_publisher: str | None
    # True when the publisher was read from a dateline, not an attribution line
    by_dateline: bool = False


def _attribution(line: str) -> str | None:
    """The publisher named by an attribution line, or None if the line is not one."""
    if len(line) > 120:
        return None
    for pattern in (_BY_AGENCY, _SOURCE_LINE, _IFTTT_LINE):
        if m := pattern.match(line):
            return m.group("pub").strip()
    return None


def _is_headline_item(line: str, bulleted_only: bool) -> bool:
    """A short line that does not end a sentence: an item of a list of links."""
    if bulleted_only and not line.startswith(("- ", "• ", "* ")):
        return False
    return len(line.split()) <= _MAX_HEADLINE_WORDS and not _SENTENCE_END.search(line)


def _is_trailer_line(line: str) -> bool:
    n = len(line.split())
    return bool(
        (n <= _MAX_TEASER_WORDS and _LABELLED_TEASER.match(line))
        or (n <= _MAX_TRAILER_WORDS and (_CALL_TO_ACTION.search(line) or _CONTACT.search(line)))
        or (n <= _MAX_COPYRIGHT_WORDS and _COPYRIGHT.match(line))
        or _TAGS_LINE.match(line)
        or (n <= _MAX_TRAILER_WORDS and _SHORTCODE.search(line))
    )


def clean_text(text: str, title: str | None = None) -> Cleaned:
    """Apply the rules in the module docstring to extracted text (one paragraph a line)."""
    lines = [_WS.sub(" ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]

    # 1. the headline repeated as the first line
    if lines and title and _key(lines[0]) == _key(title):
        lines = lines[1:]

    # 3. a trailing block (comments, popular posts) ends the article
    words_before = 0
    for i, line in enumerate(lines):
        if words_before >= _MIN_WORDS_BEFORE_TRAILER and _key(line) in _TRAILING_BLOCK_HEADINGS:
            lines = lines[:i]
            break
        words_before += len(line.split())

    publisher: str | None = None
    kept: list[str] = []
    in_teaser_list = ""
    for line in lines:
        # 8. the list of headlines under a teaser heading
        if in_teaser_list and _is_headline_item(line, bulleted_only=in_teaser_list == "bulleted"):
            continue
        in_teaser_list = (
            "any" if _key(line) in _TEASER_HEADINGS else "bulleted" if _LABELLED_TEASER.match(line) else ""
        )
        # 2. boilerplate phrases alone on a line
        if _key(line) in _BOILERPLATE_LINES:
            continue
        # 4. feed teasers
        if _TEASER_TAIL.search(line):
            continue
        # 7. labelled teasers, calls to action, contact, copyright and tag lines
        if _is_trailer_line(line):
            continue
        # 5. desk prefixes
        line = _DESK_PREFIX.sub("", line).strip()
        if not line:
            continue
        # 6. attribution lines
        if (pub := _attribution(line)) is not None:
            publisher = publisher or pub
            continue
        kept.append(line)
    for line in kept[:2] if publisher is None else ():
        if m := _DATELINE.match(line):
            publisher = _DATELINE_NAMES.get(m.group("pub").casefold(), m.group("pub"))
            return Cleaned(text="\n".join(kept), original_publisher=publisher, by_dateline=True)
    return Cleaned(text="\n".join(kept), original_publisher=publisher)
