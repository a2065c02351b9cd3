from extraction import Extractor, SiteBoilerplate
from extraction.boilerplate import FILE_NAME, site_of

STORY = "Chinese President Xi Jinping on Friday told top US diplomat Antony Blinken that the two should be partners, story {n}."
TRAILER = "Thanks for reading the Valley Courier!"


def _page(n: int) -> str:
    return f"{STORY.format(n=n)}\nA second paragraph of story {n} that goes on for a while.\n{TRAILER}"


def test_a_line_on_min_pages_different_stories_is_learned_for_that_site_only():
    learner = SiteBoilerplate(min_pages=3)
    for n in range(2):
        learner.observe(f"http://www.valley.test/a/{n}", _page(n))
    assert learner.lines_for("http://valley.test/a/9") == frozenset()
    learner.observe("http://m.valley.test/a/2", _page(2))
    assert learner.lines_for("http://valley.test/a/9") == frozenset({"thanks for reading the valley courier!"})
    assert learner.lines_for("http://other.test/a/9") == frozenset()
    assert learner.learned() == {"valley.test": ["thanks for reading the valley courier!"]}


def test_copies_of_one_story_do_not_teach_its_own_lines():
    learner = SiteBoilerplate(min_pages=3)
    for n in range(5):  # the same story under five URLs (updates, syndication)
        learner.observe(f"http://valley.test/a/{n}", _page(0))
    assert learner.lines_for("http://valley.test/a/9") == frozenset()


def test_long_lines_are_never_learned():
    learner = SiteBoilerplate(min_pages=2, max_words=5)
    for n in range(3):
        learner.observe(f"http://valley.test/a/{n}", _page(n))
    assert learner.lines_for("http://valley.test/") == frozenset()


def test_saved_state_is_loaded_back(tmp_path):
    learner = SiteBoilerplate(min_pages=2)
    for n in range(2):
        learner.observe(f"http://valley.test/a/{n}", _page(n))
    path = learner.save(tmp_path / "state")
    assert path == tmp_path / "state" / FILE_NAME
    again = SiteBoilerplate.load(tmp_path / "state", min_pages=2)
    assert again.lines_for("http://valley.test/x") == learner.lines_for("http://valley.test/x") != frozenset()
    # and it keeps counting from where it was
    again.observe("http://valley.test/a/7", f"{STORY.format(n=7)}\nNew footer line")
    assert SiteBoilerplate.load(tmp_path / "missing").learned() == {}


def test_extractor_drops_the_site_lines_it_is_given():
    body = "".join(f"<p>{STORY.format(n=i)}</p>" for i in range(4))
    html = f"<html><body><article>{body}<p>{TRAILER}</p></article></body></html>"
    learner = SiteBoilerplate(min_pages=2)
    for n in range(2):
        learner.observe(f"http://valley.test/a/{n}", _page(n))
    ex = Extractor()
    assert ex.extract(html, "http://valley.test/a/3").text.endswith(TRAILER)
    cleaned = ex.extract(html, "http://valley.test/a/3", site_lines=learner.lines_for("http://valley.test/a/3"))
    assert cleaned.text == "\n".join(STORY.format(n=i) for i in range(4))


def test_site_of_ignores_www_and_mobile_prefixes():
    assert site_of("https://www.Example.test/x") == site_of("http://m.example.test/y") == "example.test"
