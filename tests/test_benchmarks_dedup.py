"""benchmarks/dedup.py, part 1 (decisions), on the seeds and a tiny dataset in the AEB
layout made here: every syndicated variant is found, distinct pages are never merged."""

import json
from pathlib import Path

from benchmarks import dedup
from newsweb.content import offtopic_article

# four generated articles: two of one site (they share its boilerplate), two of others
URLS = ("http://www.valley.test/a", "http://www.valley.test/b", "http://harbour.test/c", "http://hills.test/d")


def tiny_aeb(folder: Path) -> Path:
    truth = {f"k{i}": {"articleBody": "\n\n".join(offtopic_article(i).paragraphs), "url": url}
             for i, url in enumerate(URLS)}
    (folder / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return folder


def test_variants_differ_from_their_text_and_from_each_other():
    (seed, *_) = dedup.seed_docs()
    made = dedup.variants(seed, ["Another story entirely"])
    assert [kind for kind, _ in made] == list(dedup.KINDS)
    texts = [text for _, text in made]
    assert len(set(texts)) == len(texts) and seed.text not in texts
    assert made == dedup.variants(seed, ["Another story entirely"])  # the same in every run
    assert "Read more: Another story entirely" in dict(made)["read-more teasers"]
    assert dict(made)["last paragraph cut"] == "\n".join(seed.paragraphs[:-1])


def test_every_variant_is_found_and_no_distinct_pages_are_merged(tmp_path):
    docs = dedup.seed_docs() + dedup.aeb_docs(tiny_aeb(tmp_path))
    assert [d.key for d in docs] == [f"seed-00{i}" for i in range(5)] + ["aeb-k0", "aeb-k1", "aeb-k2", "aeb-k3"]
    (work := tmp_path / "work").mkdir()

    ev = dedup.evaluate(docs, [0.5, 0.9], work)

    assert (ev.variants, ev.distinct, ev.same_site_pairs) == (9 * len(dedup.KINDS), 9, 1)
    at_default = ev.counts[0.5]
    assert (at_default.true, at_default.wrong, at_default.merged, at_default.seed_merges) == (72, 0, 0, [])
    assert ev.by_kind[0.5] == dict.fromkeys(dedup.KINDS, 9)
    # a strict threshold loses the heavily edited re-posts; the exact text hash finds none
    assert ev.counts[0.9].true < 72 and ev.counts[0.9].merged == 0
    assert (ev.exact_hash, ev.exact_wrong, ev.exact_merged) == (0, 0, 0)
    assert ev.closest["seeds"][0] < 0.1


def test_the_benchmark_prints_the_decisions_and_the_targets(tmp_path, capsys):
    assert dedup.main(["--aeb", str(tiny_aeb(tmp_path)), "--skip-scale", "--thresholds", "0.5"]) == 0
    printed = capsys.readouterr().out
    assert "| estimated Jaccard >= 0.50 (default) (best F1) | 1.0000 | 1.0000 | 1.0000 | 0 | 0 | 0 |" in printed
    assert "| baseline: exact text hash only | - | 0.0000 | 0.0000 | 0 | 0 | - |" in printed
    assert ("targets at the default threshold 0.50: recall 1.0000 >= 0.95 yes; precision 1.0000 >= 0.99 yes; "
            "seeds merged with each other: 0 yes") in printed


def test_the_benchmark_without_a_dataset_is_a_usage_error(tmp_path):
    assert dedup.main(["--aeb", str(tmp_path), "--skip-scale"]) == 2
