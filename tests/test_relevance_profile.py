"""relevance/profile.py: the topic profile built from a seeds folder, its scores and threshold."""

import shutil
import statistics

import pytest

from newsweb import NewsWeb, seed_clean_body
from relevance import Seed, SeedsError, TopicProfile, load_seeds
from relevance.profile import SINGLE_SEED_THRESHOLD, THRESHOLD_FRACTION
from seeds import SEEDS_DIR

SEED_FILES = sorted(p.name for p in SEEDS_DIR.glob("*.txt"))

EXTRA_SEED = """Blinken and Wang Yi discuss fentanyl and semiconductor export controls

US Secretary of State Antony Blinken met Chinese Foreign Minister Wang Yi to discuss fentanyl precursor chemicals, semiconductor export controls and military communication channels.
Both sides said the talks on counter-narcotics cooperation were candid and constructive.
"""


@pytest.fixture(scope="module")
def profile():
    return TopicProfile.from_seeds(SEEDS_DIR)


def test_the_profile_is_built_from_every_seed_file(profile):
    assert [s.name for s in profile.seeds] == SEED_FILES
    assert len(SEED_FILES) == 5
    assert profile.seeds_dir == SEEDS_DIR
    assert profile.top(3) == sorted(profile.top(3), key=lambda p: -p[1])
    assert [f for f, _ in profile.top(1)] == ["blinken"]
    assert [f for f, _ in profile.top(1, phrases=True)] == ["antony blinken"]


def test_seeds_are_cleaned_like_crawled_pages(profile):
    # seed 003's "Popular posts from this blog" block, seed 000's feed teaser tail, seed
    # 003's IFTTT line: boilerplate, not topic
    for feature in ("lewiston", "republican", "gaza", "ift.tt", "rt.com", "popular posts", "source link"):
        assert feature not in profile.weights, feature
    texts = {s.name[:3]: s.text for s in profile.seeds}
    assert "Popular posts from this blog" not in texts["003"]
    assert "Read Full Article at RT.com" not in texts["000"]


def test_the_default_threshold_is_half_the_median_leave_one_out_score(profile):
    assert sorted(profile.leave_one_out) == SEED_FILES
    assert profile.threshold == THRESHOLD_FRACTION * statistics.median(profile.leave_one_out.values())
    assert profile.threshold_rule.startswith("0.5 x the median leave-one-out seed score")
    # every seed, even scored only by the other four, is far above it
    assert min(profile.leave_one_out.values()) > 1.5 * profile.threshold


def test_seed_stories_score_above_the_threshold_and_off_topic_articles_below(profile):
    for seed in profile.seeds:
        assert profile.threshold < profile.score(seed.text) <= 1
    for seed_id in ("000", "001", "002", "003", "004"):
        assert profile.is_relevant(profile.score(seed_clean_body(seed_id)))
    web = NewsWeb(size=40)
    off_topic = [a for a in web.articles if a.kind == "offtopic"]
    assert len(off_topic) == 41
    for article in off_topic:
        score = profile.score(article.title + "\n" + "\n".join(article.paragraphs))
        assert 0 <= score < profile.threshold, article.url
    assert profile.score("") == 0.0


def test_explain_names_the_features_behind_a_score(profile):
    parts = profile.explain("Antony Blinken met Wang Yi in Beijing to discuss Taiwan.", n=3)
    assert [f for f, _ in parts] == ["blinken", "antony blinken", "wang"]


def test_adding_a_document_to_the_seeds_changes_the_profile(tmp_path, profile):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    before = TopicProfile.from_seeds(seeds)
    assert before.weights == profile.weights
    assert "fentanyl precursor" not in before.weights

    (seeds / "005_fentanyl.txt").write_text(EXTRA_SEED, encoding="utf-8")
    after = TopicProfile.from_seeds(seeds)
    assert [s.name for s in after.seeds] == [*SEED_FILES, "005_fentanyl.txt"]
    assert after.weights["fentanyl precursor"] > 0
    assert after.weights["fentanyl"] > before.weights["fentanyl"]
    assert after.threshold != before.threshold
    text = "Counter-narcotics talks: fentanyl precursor chemicals and semiconductor export controls."
    assert after.score(text) > before.score(text)


def test_a_set_threshold_is_used_as_is():
    profile = TopicProfile.from_seeds(SEEDS_DIR, threshold=0.3)
    assert profile.threshold == 0.3
    assert profile.threshold_rule == "set explicitly (RELEVANCE_THRESHOLD, or topic --threshold)"


def test_one_seed_has_a_fixed_default_threshold():
    profile = TopicProfile.from_texts([Seed("only.txt", EXTRA_SEED)])
    assert profile.threshold == SINGLE_SEED_THRESHOLD
    assert profile.leave_one_out == {}
    assert profile.score(EXTRA_SEED) == pytest.approx(1.0)


def test_a_seeds_folder_that_cannot_define_a_topic_is_a_clear_error(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(SeedsError, match=f"^seeds folder {missing}: does not exist$"):
        load_seeds(missing)
    a_file = tmp_path / "file.txt"
    a_file.write_text("text")
    with pytest.raises(SeedsError, match=f"^seeds folder {a_file}: not a directory$"):
        load_seeds(a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("# not a seed")
    with pytest.raises(SeedsError, match=f"^seeds folder {empty}: has no .txt seed documents$"):
        TopicProfile.from_seeds(empty)


def test_an_unreadable_or_empty_seed_file_is_a_clear_error(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    bad = folder / "bad.txt"
    bad.write_bytes(b"Blinken \xff\xfe met Wang Yi")
    with pytest.raises(SeedsError, match=f"^seed {bad}: cannot be read: 'utf-8' codec can't decode"):
        load_seeds(folder)
    bad.unlink()
    boilerplate = folder / "boilerplate.txt"
    boilerplate.write_text("Read more\nSource link\n\n2024\n")
    with pytest.raises(SeedsError, match=f"^seed {boilerplate}: has no words to learn from$"):
        load_seeds(folder)


def test_the_idf_cache_stays_bounded_on_endless_new_words(monkeypatch):
    from relevance import idf as idf_module

    monkeypatch.setattr(idf_module, "CACHE_MAX", 50)
    idf = idf_module.GeneralEnglishIdf()
    first = idf.word("zqxwordnumber0")
    for i in range(1, 500):
        idf.word(f"zqxwordnumber{i}")
        assert len(idf._cache) <= 50
    assert idf.word("zqxwordnumber0") == first  # forgotten, then the same value again
