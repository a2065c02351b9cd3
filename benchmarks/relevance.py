"""Benchmark of the relevance model and of best-first crawling.

    python -m benchmarks.relevance [--aeb DIR] [--size N] [--budget 0.25] [--skip-crawl]

Part 1, the model: leave-one-out over the seeds (a profile from four seeds scores the fifth)
with every page of the article-extraction benchmark (``../shared/benchmarks/aeb``, 181 real
news pages on other subjects) as negatives. The negatives' text is extracted from their HTML
with ``extraction.Extractor``, title and body, as a crawl would see them. Prints each held-out
seed's score and its rank among the negatives, ROC AUC, and what the default threshold
(profile of all five seeds) keeps and rejects.

Part 2, best-first crawling: the local news web (``--size`` off-topic articles) crawled with a
page budget (``CLOSESPIDER_PAGECOUNT``) of ``--budget`` x its article pages, once with
relevance priorities and once without; prints how many on-topic article pages (seed stories
and their copies) each fetched. Each crawl runs in its own process (``newsarchive crawl``),
``--repeat`` times (which pages a bounded concurrent crawl reaches varies a little).

Best-first can only reorder requests the scheduler still holds: a request handed to the
downloader is committed. With the project's ``CONCURRENT_REQUESTS = 32`` and a budget of
about 100 pages, a third of the budget is committed to the first outlets' feed links before
the slowest outlet's sitemap has been read, so the figure depends on timing (measured: 2.8x
to 3.6x on average over three runs, 2x in the worst run). The benchmark therefore runs with
``--concurrency 8`` by default: a budget that is large next to the requests in flight, as in
a real crawl.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:  # the repository root is on sys.path (python -m benchmarks.x, tests): see benchmarks/_setup.py
    from benchmarks._setup import DEFAULT_AEB, ROOT
except ModuleNotFoundError:  # python benchmarks/x.py: only this folder is
    from _setup import DEFAULT_AEB, ROOT

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from extraction import ExtractionError, Extractor  # noqa: E402
from relevance import TopicProfile, Vectorizer, load_seeds  # noqa: E402
from seeds import SEEDS_DIR  # noqa: E402



def aeb_texts(aeb: Path, ground_truth: bool = False) -> tuple[dict[str, str], int]:
    """Extracted title + text of every AEB page (pages with nothing extractable get ""), or
    with ``ground_truth`` the benchmark's hand-checked article bodies."""
    truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
    if ground_truth:
        return {key: entry["articleBody"] for key, entry in sorted(truth.items())}, 0
    extractor = Extractor()
    texts, failed = {}, 0
    for key, entry in sorted(truth.items()):
        html = gzip.decompress((aeb / "html" / f"{key}.html.gz").read_bytes())
        try:
            ex = extractor.extract(html, entry.get("url") or f"http://aeb.test/{key}")
            texts[key] = f"{ex.title or ''}\n{ex.text}"
        except ExtractionError:
            texts[key] = ""
            failed += 1
    return texts, failed


def auc(positives: list[float], negatives: list[float]) -> float:
    """ROC AUC: the chance that a positive scores above a negative (ties count half)."""
    pairs = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return pairs / (len(positives) * len(negatives))


def part_model(aeb: Path, seeds_dir: Path, ground_truth: bool) -> None:
    t0 = time.perf_counter()
    negatives, failed = aeb_texts(aeb, ground_truth)
    t_extract = time.perf_counter() - t0
    seeds = load_seeds(seeds_dir)
    print(f"== Part 1: leave-one-out over {len(seeds)} seeds ({seeds_dir}) vs {len(negatives)} AEB pages")
    if ground_truth:
        print("   (AEB text: the benchmark's ground-truth articleBody)")
    else:
        print(f"   (AEB text: title + body extracted with extraction.Extractor in {t_extract:.1f} s; "
              f"{failed} pages with no text score 0)")
    print(f"{'held-out seed':<28} {'score':>6} {'fold thr':>8} {'AEB above':>9} {'beats AEB':>9} {'AUC':>6}")
    pooled_pos, pooled_neg, fold_aucs = [], [], []
    vectorizer = Vectorizer()
    vectorizer.vector("warm up the word frequencies")
    t0 = time.perf_counter()
    scored = 0
    for i, seed in enumerate(seeds):
        profile = TopicProfile.from_texts([s for j, s in enumerate(seeds) if j != i], vectorizer=vectorizer)
        s = profile.score(seed.text)
        neg = [profile.score(t) if t else 0.0 for t in negatives.values()]
        scored += len(neg) + 1
        above = sum(n >= s for n in neg)
        fold_auc = auc([s], neg)
        fold_aucs.append(fold_auc)
        pooled_pos.append(s)
        pooled_neg.extend(neg)
        print(
            f"{seed.name:<28} {s:6.3f} {profile.threshold:8.3f} {above:>4}/{len(neg):<4} "
            f"{1 - above / len(neg):9.1%} {fold_auc:6.3f}"
        )
    t_score = time.perf_counter() - t0
    print(f"ROC AUC: mean over folds {sum(fold_aucs) / len(fold_aucs):.4f}, min {min(fold_aucs):.4f}; "
          f"pooled {auc(pooled_pos, pooled_neg):.4f}")
    print(f"scoring speed: {scored / t_score:,.0f} documents/s (plain Python)")

    full = TopicProfile.from_seeds(seeds_dir)
    kept = [s.name for s in full.seeds if full.score(s.text) >= full.threshold]
    ranked = sorted(((full.score(t) if t else 0.0, t) for t in negatives.values()), key=lambda p: -p[0])
    neg = [n for n, _ in ranked]
    rejected = sum(n < full.threshold for n in neg)
    print(f"default threshold {full.threshold:.3f} ({full.threshold_rule}):")
    print(f"  keeps {len(kept)}/{len(full.seeds)} seeds; rejects {rejected}/{len(neg)} AEB pages ({rejected / len(neg):.1%})")
    print("  highest-scoring AEB pages:")
    for n, text in ranked[:3]:
        print(f"    {n:.3f}  {text.strip().splitlines()[0][:90] if text.strip() else ''}")


def _crawl_once(web, server, budget: int, prioritise: bool, workdir: Path, concurrency: int) -> set[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    sources = workdir / "sources.toml"
    sources.write_text(web.sources_toml(), encoding="utf-8")
    out = workdir / ("best-first" if prioritise else "plain")
    before = len(server.requests)
    settings = {
        "PROXY_URL": server.url,
        # the project's politeness (4 requests at a time per site), without AutoThrottle's delays
        "AUTOTHROTTLE_ENABLED": "False",
        "DOWNLOAD_DELAY": "0",
        "CONCURRENT_REQUESTS": str(concurrency),
        "RETRY_TIMES": "0",
        "CLOSESPIDER_PAGECOUNT": str(budget),
        "RELEVANCE_PRIORITY_ENABLED": str(prioritise),
        "LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "crawler.cli", "crawl", "--sources", str(sources), "--out", str(out)]
    for k, v in settings.items():
        cmd += ["-s", f"{k}={v}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"crawl failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    fetched = set()
    for _method, host, path, _status in server.requests[before:]:
        article = web.article(f"http://{host}{path}")
        if article is not None:
            fetched.add(article.url)
    return fetched


def part_crawl(size: int, budget_share: float, repeat: int, concurrency: int) -> None:
    from newsweb import NewsWeb, NewsWebServer

    web = NewsWeb(size=size)
    pages = [a for a in web.articles if not a.disallowed]
    on_topic = {a.url for a in pages if a.story.startswith("seed-")}
    budget = round(budget_share * len(pages))
    print(f"\n== Part 2: best-first crawling of the local news web: {len(pages)} article pages, "
          f"{len(on_topic)} on topic; budget CLOSESPIDER_PAGECOUNT={budget} ({budget_share:.0%}; "
          f"robots.txt, feeds and sitemaps count too); CONCURRENT_REQUESTS={concurrency}; each crawl run {repeat}x")
    print(f"{'crawl':<16} {'run':>3} {'articles':>8} {'on topic':>8} {'of all on-topic':>15} {'of fetched':>10} {'time':>6}")
    found: dict[bool, list[int]] = {False: [], True: []}
    missed: set[str] = set()
    with NewsWebServer(web) as server, tempfile.TemporaryDirectory(prefix="bench-relevance-") as tmp:
        for run in range(1, repeat + 1):
            for prioritise, label in ((False, "unprioritised"), (True, "best-first")):
                t0 = time.perf_counter()
                fetched = _crawl_once(web, server, budget, prioritise, Path(tmp) / f"{run}", concurrency)
                hits = fetched & on_topic
                found[prioritise].append(len(hits))
                if prioritise:
                    missed |= on_topic - hits
                print(f"{label:<16} {run:>3} {len(fetched):>8} {len(hits):>8} {len(hits) / len(on_topic):>15.0%} "
                      f"{len(hits) / max(1, len(fetched)):>10.1%} {time.perf_counter() - t0:5.1f}s")
    base, best = (sum(found[p]) / repeat for p in (False, True))
    ratio = f"{best / base:.1f}x" if base else "inf (unprioritised found none)"
    print(f"mean on-topic articles: unprioritised {base:.1f}, best-first {best:.1f}: best-first / unprioritised = {ratio}")
    if missed:
        print("on-topic pages best-first did not fetch: " + ", ".join(sorted(missed)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB, help="AEB folder (default: %(default)s)")
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="seeds folder (default: the packaged seeds)")
    parser.add_argument("--size", type=int, default=400, help="off-topic articles in the news web (default: %(default)s)")
    parser.add_argument("--budget", type=float, default=0.25, help="page budget, share of article pages (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="CONCURRENT_REQUESTS of both crawls (default: %(default)s; see the module docstring)")
    parser.add_argument("--repeat", type=int, default=3, help="crawls of each kind (default: %(default)s)")
    parser.add_argument("--ground-truth", action="store_true", help="score AEB's ground-truth bodies, not extracted text")
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--skip-crawl", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_model:
        part_model(args.aeb, args.seeds, args.ground_truth)
    if not args.skip_crawl:
        part_crawl(args.size, args.budget, args.repeat, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
