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
_SOURCE_LINE = re.compile(r"^(?:Source|Courtesy|Via)\s*:\s*(?P<pub>[^\s].{0,60}?)\.?$", re.IGNORECASE)
_IFTTT_LINE = re.compile(r"^from\s+(?P<pub>.{2,80}?)(?:\s+-\s+Home)?\s+https?://\S+$", re.IGNORECASE)

_WS = re.compile(r"\s+")


def _key(line: str) -> str:
    return _WS.sub(" ", line).strip(" \t-–—|:•»«·").casefold()


def normalise_line(line: str) -> str:
    """A line as compared across pages: whitespace folded, edge punctuation trimmed, casefolded."""
    return _key(line)


def drop_lines(text: str, lines: frozenset[str] | set[str]) -> str:
    """``text`` without the lines whose normalised form is in ``lines``."""
    return "\n".join(line for line in text.splitlines() if _key(line) not in lines)


_AGENCY_BY_KEY = {a.casefold(): a for a in _AGENCIES}


def agency_name(name: str) -> str | None:
    """The wire agency a byline names ("By The Associated Press" -> "The Associated Press"),
    or None when it names someone else."""
    key = _key(re.sub(r"^(?:by|from|via)\s+", "", name.strip(), flags=re.IGNORECASE))
    return _AGENCY_BY_KEY.get(key)


@dataclass(frozen=True)
class Cleaned:
    text: str
    original_publisher: str | None


def _attribution(line: str) -> str | None:
    """The publisher named by an attribution line, or None if the line is not one."""
    if len(line) > 120:
        return None
    for pattern in (_BY_AGENCY, _SOURCE_LINE, _IFTTT_LINE):
        if m := pattern.match(line):
            return m.group("pub").strip()
    return None


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
    for line in lines:
        # 2. boilerplate phrases alone on a line
        if _key(line) in _BOILERPLATE_LINES:
            continue
        # 4. feed teasers
        if _TEASER_TAIL.search(line):
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
    return Cleaned(text="\n".join(kept), original_publisher=publisher)
