"""How rare a feature is in English in general: the IDF part of TF-IDF.

TF-IDF needs a background corpus saying which words are common anyway. We use the word
frequencies of the ``wordfreq`` package (general English: Wikipedia, subtitles, news, books,
web text, frozen in 2021): ``idf(word) = log10(1 / frequency) - offset``, at least 0.
A word wordfreq does not know is taken as rare as its rarest words (1 in 10**8).
(A phrase counts as rare as its two words on average: ``relevance/profile.py``'s Vectorizer.)

Why not the seeds themselves (five documents: every topic word would look common), the
benchmark's pages (they are its negatives) or the local news web's off-topic generator (the
model would learn the demo, not English)? A general frequency list is none of those and
covers every word a crawl meets.
"""

from __future__ import annotations

import math

_FLOOR = 1e-8
CACHE_MAX = 100_000  # words whose idf is remembered (a few MB)


class GeneralEnglishIdf:
    """``word(w)``: a word's idf from general English word frequencies (lazy: wordfreq
    loads on first use)."""

    def __init__(self, offset: float = 1.0) -> None:
        self.offset = offset
        self._freq: dict[str, float] | None = None
        self._cache: dict[str, float] = {}

    def _frequencies(self) -> dict[str, float]:
        if self._freq is None:
            from wordfreq import get_frequency_dict

            self._freq = get_frequency_dict("en", wordlist="best")
        return self._freq

    def word(self, word: str) -> float:
        if (cached := self._cache.get(word)) is not None:
            return cached
        freq = self._frequencies().get(word, 0.0)
        value = max(0.0, -math.log10(max(freq, _FLOOR)) - self.offset)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()  # names and misspellings are endless: keep memory flat on a long crawl
        self._cache[word] = value
        return value
