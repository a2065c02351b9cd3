"""Text to features: words and two-word phrases, the same way for seeds, pages and links.

Words are lower-cased ``\\w`` runs (an inner ``.`` or apostrophe kept, so "U.S." is one
word and "China's" is "china"); numbers and stop words are not features. A phrase is two
features that stand next to each other in the text with no stop word, number or
punctuation between them
("foreign minister", "wang yi", "state department").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from urllib.parse import unquote, urlsplit

_WORD = re.compile(r"(?:[^\W_]\.){2,}|[^\W_]+(?:['.][^\W_]+)*|(?:[,;:!?()\[\]\"“”«»—–|]|\.(?!\w)|\n)")
_APOSTROPHES = (("’", "'"), ("‘", "'"), ("`", "'"))
_SLUG_SPLIT = re.compile(r"[^A-Za-z0-9]+")

# Function words and the commonest verbs of reporting: never a feature, and a phrase
# never spans them.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could did didn't do does doesn't doing don't down
    during each even ever every few for from further had has have having he her here hers herself
    him himself his how however i if in into is isn't it its itself just least less like made make
    many may me might more most much must my myself no nor not now of off often on once one only or
    other others our ours ourselves out over own per quite rather really said same say says she
    should since so some still such than that the their theirs them themselves then there these
    they this those though through thus to too under until up upon us very via was wasn't we were
    weren't what when where whether which while who whom whose why will with within without would
    yet you your yours yourself yourselves told according added
    """.split()
)
# "us" is both a pronoun and the country; the country keeps its dots ("u.s") or its
# capitals, and both become "u.s".
_US = re.compile(r"\bUS\b")


_HAS_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=1 << 16)  # a pure function of the token; bounded, so memory stays flat
def _normalise(token: str) -> str | None:
    """A lower-cased token as a feature word, or None (break, stop word, number)."""
    if not token[0].isalnum():
        return None
    if token.endswith("'s"):
        token = token[:-2]
    token = token.strip("'.")
    if len(token) < 2 or token in STOP_WORDS or _HAS_DIGIT.search(token):
        return None
    return token


def words(text: str) -> list[str | None]:
    """The text's words in order; ``None`` stands for a stop word or number (a phrase break)."""
    # str.replace is several times faster than str.translate on long texts
    for curly, straight in _APOSTROPHES:
        text = text.replace(curly, straight)
    if "US" in text:  # the regex scans every character; most texts never write "US"
        text = _US.sub("U.S", text)
    text = text.lower()
    # The same tokens as ``_WORD.findall(text)``, faster: no token holds whitespace and the
    # pattern looks ahead only for word characters, so it can run on each whitespace-separated
    # chunk alone, and a chunk of letters only is one token as it stands (most are).
    tokens: list[str] = []
    add, extend, findall = tokens.append, tokens.extend, _WORD.findall
    for line in text.split("\n"):
        for chunk in line.split():
            if chunk.isalpha():
                add(chunk)
            else:
                extend(findall(chunk))
        add("\n")  # a line break is a token (a phrase break)
    tokens.pop()  # no line break after the last line
    return list(map(_normalise, tokens))


def features(text: str) -> Counter[str]:
    """Counts of the text's features: words, and phrases written "word1 word2"."""
    word_counts, phrase_counts = counted(words(text))
    counts: Counter[str] = Counter(word_counts)
    counts.update({f"{a} {b}": n for (a, b), n in phrase_counts.items()})
    return counts


def counted(seq: list[str | None]) -> tuple[Counter[str], dict[tuple[str, str], int]]:
    """Counts of the words of ``seq`` and of its phrases (as word pairs), each in the order
    of first appearance."""
    pairs = Counter(zip(seq, seq[1:]))
    return Counter(filter(None, seq)), {pair: n for pair, n in pairs.items() if pair[0] and pair[1]}


def slug_text(url: str) -> str:
    """The words of a URL's path and query (its "slug"), as text: hex ids and numbers dropped."""
    parts = urlsplit(url)
    raw = unquote(f"{parts.path} {parts.query}")
    tokens = [t for t in _SLUG_SPLIT.split(raw) if t]
    # a token with digits, without vowels or very long is an id, not a word
    return " ".join(
        t for t in tokens if len(t) <= 20 and not any(c.isdigit() for c in t) and any(c in "aeiouyAEIOUY" for c in t)
    )


def sublinear_tf(count: int) -> float:
    return 1.0 + math.log(count)
