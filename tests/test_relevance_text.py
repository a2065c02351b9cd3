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
