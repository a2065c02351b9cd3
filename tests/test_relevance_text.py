"""relevance/text.py: words, phrases and URL slugs as features."""

from collections import Counter

from relevance.text import features, slug_text, words


def test_words_are_lowercased_with_stop_words_numbers_and_punctuation_as_breaks():
    assert words("China’s foreign minister said, in 2023: talks.") == [
        "china", "foreign", "minister", None, None, None, None, None, "talks", None
    ]


def test_us_as_the_country_is_one_word_however_written():
    assert words("US and U.S. officials") == ["u.s", None, "u.s", "officials"]
    assert words("told us") == [None, None]


def test_features_are_words_and_adjacent_word_pairs_within_a_clause():
    assert features("Wang Yi met U.S. officials; Wang Yi left.") == Counter(
        {"wang": 2, "yi": 2, "wang yi": 2, "met": 1, "u.s": 1, "officials": 1, "left": 1,
         "yi met": 1, "met u.s": 1, "u.s officials": 1, "yi left": 1}
    )


def test_slug_text_keeps_the_words_of_a_url_and_drops_ids():
    assert slug_text("http://apnews.test/article/china-blinken-qin-gang-phone-call-3f5e0c1a") == (
        "article china blinken qin gang phone call"
    )
    assert slug_text("http://www.kuna.test/ArticleDetails.aspx?id=3092349&language=en") == (
        "ArticleDetails aspx id language en"
    )


def _words_by_one_regex(text):
    """words() as first written: one findall over the whole text (the reference)."""
    from relevance.text import _APOSTROPHES, _US, _WORD, _normalise

    for curly, straight in _APOSTROPHES:
        text = text.replace(curly, straight)
    return [_normalise(token) for token in _WORD.findall(_US.sub("U.S", text).lower())]


def test_words_chunk_by_chunk_are_the_words_of_one_regex_over_the_text():
    from pathlib import Path

    texts = [
        "", "\n", "a\n", "\n\nb", "US\tU.S.\u00a0officials\r\nsaid", "end. Next", "e.g. i.e. U.K.'s",
        "China’s `talks` (with “US”) — today; 3.5% of it|then", "snake_case c_d e.f. a.b.c",
        "naïve café Ωmega 北京 قال зима", "x\u2028y\u2029z\x85w", "don't  'quoted'  rock'n'roll ... ?!",
        "tail.\n", "foo.bar. baz.", "___", "a_b", "\u0928\u092e\u0938\u094d\u0924\u0947 world",
    ]
    texts += [p.read_text(encoding="utf-8") for p in sorted(Path(__file__).parents[1].joinpath("seeds").glob("*.txt"))]
    for text in texts:
        assert words(text) == _words_by_one_regex(text), text[:60]
