"""The language of a text when the page does not declare one.

A small, explainable guesser (no model to load): the writing system decides for scripts that
belong to one language (Hangul, kana, Greek, Hebrew, Thai, Arabic, Han, Cyrillic), and for
Latin script the most frequent function words decide: the language whose 25 commonest words
make up the largest share of the text, if that share is at least 15% and clearly ahead of
the runner-up. Otherwise None: an unknown language is better than a wrong one.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_]+")

_FUNCTION_WORDS = {
    "en": "the of and to a in is that for it on was with as by he at from his be are this have an but not they were has had said which who their",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach",
    "fr": "de la le et les des en un une du est que pour dans qui au sur pas par plus ce il sont avec se ne sa son",
    "es": "de la que el en y a los del se las por un para con no una su al lo como más pero sus le ha este",
    "pt": "de a o que e do da em um para com não uma os no se na por mais as dos como mas foi ao ele das",
    "it": "di e il la che in a per un è del non le una della si con da sono i alla al gli ha come anche",
    "nl": "de het een en van in is dat op te zijn met voor niet aan er ook als bij door maar om dan nog",
    "id": "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke ada karena oleh atau mereka kami sudah saat bisa",
}
_SETS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
FUNCTION_WORD_LANGUAGES = frozenset(_SETS)
_MIN_SHARE = 0.15
_MIN_LEAD = 1.5

# (pattern, language) for scripts used by one language (checked in this order).
_SCRIPTS = (
    (re.compile(r"[\uac00-\ud7af]"), "ko"),
    (re.compile(r"[\u3040-\u30ff]"), "ja"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u0590-\u05ff]"), "he"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th"),
    (re.compile(r"[\u0600-\u06ff]"), "ar"),
    (re.compile(r"[\u4e00-\u9fff]"), "zh"),
    (re.compile(r"[\u0400-\u04ff]"), "ru"),
)
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")


def guess_language(text: str) -> str | None:
    sample = text[:5000]
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return None
    for pattern, lang in _SCRIPTS:
        if len(pattern.findall(sample)) > 0.3 * len(letters):
            if lang == "ru" and len(_UKRAINIAN.findall(sample)) > 0.01 * len(letters):
                return "uk"
            return lang
    words = [w.casefold() for w in _WORD.findall(sample)]
    if len(words) < 20:
        return None
    counts = Counter(words)
    shares = sorted(
        ((sum(counts[w] for w in fw) / len(words), lang) for lang, fw in _SETS.items()),
        reverse=True,
    )
    (best, lang), (second, _) = shares[0], shares[1]
    if best >= _MIN_SHARE and best >= _MIN_LEAD * second:
        return lang
    return None
