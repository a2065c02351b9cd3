import pytest

from extraction.cleaning import clean_text

BODY = "Chinese President Xi Jinping on Friday told top US diplomat Antony Blinken that the two should be partners."
BODY2 = "Blinken, in China for the second time in less than a year, met leading Chinese politicians in Beijing."


@pytest.mark.parametrize(
    ("text", "title", "expected_text", "publisher"),
    [
        # 1. the headline repeated as the first line
        (f"Xi tells Blinken\n{BODY}", "Xi tells Blinken", BODY, None),
        # 2. boilerplate phrases alone on a line
        (f"Skip to main content\n{BODY}\nRead more\n{BODY2}\nSource link\nBack to top button", None, f"{BODY}\n{BODY2}", None),
        (f"{BODY}\nArchives\n{BODY2}", None, f"{BODY}\n{BODY2}", None),
        # 3. a trailing block heading ends the article
        (f"{BODY}\n{BODY2}\n{BODY}\nPopular posts from this blog\nThe Republican primary race\nMore text", None, f"{BODY}\n{BODY2}\n{BODY}", None),
        (f"{BODY}\n{BODY2}\n{BODY}\nComments\nGreat article!", None, f"{BODY}\n{BODY2}\n{BODY}", None),
        # ... but not before the article has begun
        ("Comments\n" + "\n".join([BODY] * 3), None, "\n".join([BODY] * 3), None),
        (f"{BODY}\nComments\n{BODY2}", None, f"{BODY}\n{BODY2}", None),
        # 4. feed teasers
        (f"A teaser that repeats the lead Read Full Article at RT.com\n{BODY}", None, BODY, None),
        # 5. desk prefixes
        (f"Ns News Online Desk:Ns News Online Desk: TAIPEI, Taiwan (AP) — {BODY}", None, f"TAIPEI, Taiwan (AP) — {BODY}", "Associated Press"),
        # 6. attribution lines name the publisher
        (f"{BODY}\nBy Associated Press", None, BODY, "Associated Press"),
        (f"{BODY}\nSource: Kuwait News Agency", None, BODY, "Kuwait News Agency"),
        (f"{BODY}\nfrom The Dawn News - Home https://ift.tt/1gBO6wd", None, BODY, "The Dawn News"),
        # 9. a wire dateline names the publisher and stays in the text; an attribution line wins
        (f"(Reuters) - {BODY}\n{BODY2}", None, f"(Reuters) - {BODY}\n{BODY2}", "Reuters"),
        (f"PARIS (AFP) — {BODY}\nfrom AP News - Home https://ift.tt/3xYz", None, f"PARIS (AFP) — {BODY}", "AP News"),
        (f"{BODY}\nMr Wang (AP) said", None, f"{BODY}\nMr Wang (AP) said", None),
        # 7. trailer and teaser lines
        (f"{BODY}\nRead more: Xi meets Biden in San Francisco\nRelated: Wang Yi visits Washington\n{BODY2}", None, f"{BODY}\n{BODY2}", None),
        (f"{BODY}\nSign up for our daily newsletter to get updates in your inbox\nFollow us on Twitter", None, BODY, None),
        (f"{BODY}\nEmail Jane Doe at jdoe@example.com or follow her @janedoe.\n© 2024 Example News. All rights reserved.", None, BODY, None),
        (f"{BODY}\nTags: China, United States", None, BODY, None),
        (f"{BODY}\nPick Six Newsletter\nGet the magazine every month. Click here for more information.", None, BODY, None),
        (f'{BODY}\n[button link="http://a.test/submit/"] Send us YOUR review[/button]\nTell us what YOU think...', None, BODY, None),
        (f"{BODY}\nFollow The Times Opinion section on Facebook, Twitter (@NYTopinion) and Instagram.", None, BODY, None),
        (f"{BODY}\nLire aussi : La Chine et les États-Unis\nLesen Sie auch: China und die USA", None, BODY, None),
        # 8. the headlines listed under a teaser heading, up to the next sentence
        (f"{BODY}\nDon't miss\nXi meets Biden [VIDEO]\nWang Yi in Washington\n{BODY2}", None, f"{BODY}\n{BODY2}", None),
        (f"{BODY}\nRelated: Xi meets Biden\nA SUBHEADING\n{BODY2}", None, f"{BODY}\nA SUBHEADING\n{BODY2}", None),
        # a byline naming a person is not an attribution
        (f"By Jane Doe\n{BODY}", None, f"By Jane Doe\n{BODY}", None),
        # whitespace is folded, blank lines dropped
        (f"  {BODY}  \n\n\n{BODY2}", None, f"{BODY}\n{BODY2}", None),
    ],
)
def test_clean_text_rules(text, title, expected_text, publisher):
    cleaned = clean_text(text, title)
    assert cleaned.text == expected_text
    assert cleaned.original_publisher == publisher
