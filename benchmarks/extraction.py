"""Article-extraction benchmark: our extractor next to plain trafilatura, in the same run.

    python benchmarks/extraction.py [--dataset PATH] [--limit N] [--json OUT]

The dataset is the 181-page article-extraction benchmark (default ``../shared/benchmarks/aeb``
relative to the repository root): ``html/<key>.html.gz`` and ``ground-truth.json`` with
``{key: {"articleBody": str, "url": str}}``. Scoring is exactly the one in its README
(``extraction/scoring.py``). Printed for each extractor: F1, precision, recall, accuracy and
pages/s on one core; then a page-paired comparison (pages better / worse / equal, and every
page worse than the baseline by more than 0.10 F1), because headline figures alone differ
by about ±0.005 F1 from page sampling.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

try:  # the repository root is on sys.path (python -m benchmarks.x, tests): see benchmarks/_setup.py
    from benchmarks._setup import DEFAULT_AEB
except ModuleNotFoundError:  # python benchmarks/x.py: only this folder is
    from _setup import DEFAULT_AEB

import trafilatura  # noqa: E402

from extraction import ExtractionError, Extractor  # noqa: E402
from extraction.scoring import PageScore, score_page, score_set  # noqa: E402

BIG_LOSS = 0.10
BOOTSTRAP = 1000


def load_dataset(path: Path, limit: int | None = None) -> list[tuple[str, str, str, str]]:
    """(key, url, html, true body) for each page, in key order."""
    truth = json.loads((path / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        html = gzip.decompress((path / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8")
        pages.append((key, truth[key]["url"], html, truth[key]["articleBody"]))
    return pages


def ours() -> Callable[[str, str], str]:
    extractor = Extractor()

    def run(html: str, url: str) -> str:
        try:
            return extractor.extract(html, url).text
        except ExtractionError:
            return ""

    return run


def plain_trafilatura() -> Callable[[str, str], str]:
    def run(html: str, url: str) -> str:
        return trafilatura.extract(html, include_comments=False) or ""

    return run


def run_extractor(fn: Callable[[str, str], str], pages) -> tuple[dict[str, str], float]:
    """Outputs by key and pages/s (CPU time of this process, one core)."""
    outputs = {}
    start = time.process_time()
    for key, url, html, _ in pages:
        outputs[key] = fn(html, url)
    elapsed = time.process_time() - start
    return outputs, len(pages) / elapsed if elapsed else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_AEB)
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages (by key)")
    parser.add_argument("--json", type=Path, default=None, help="write per-page outputs and scores here")
    args = parser.parse_args(argv)
    if not (args.dataset / "ground-truth.json").is_file():
        print(f"error: no ground-truth.json in {args.dataset}", file=sys.stderr)
        return 2

    pages = load_dataset(args.dataset, args.limit)
    truths = {key: body for key, _, _, body in pages}
    runs = {}
    for name, factory in (("plain trafilatura", plain_trafilatura), ("newsarchive", ours)):
        outputs, rate = run_extractor(factory(), pages)
        scores = {key: score_page(outputs[key], truths[key]) for key in outputs}
        runs[name] = (outputs, scores, score_set(scores.values()), rate)

    print(f"dataset: {args.dataset} ({len(pages)} pages)\n")
    print("| extractor | F1 | precision | recall | accuracy | pages/s (one core) |")
    print("|---|---|---|---|---|---|")
    for name, (_, _, s, rate) in runs.items():
        print(f"| {name} | {s.f1:.3f} | {s.precision:.3f} | {s.recall:.3f} | {s.accuracy:.3f} | {rate:.0f} |")

    base, new = runs["plain trafilatura"][1], runs["newsarchive"][1]
    _paired(base, new, pages)

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    name: {
                        "summary": vars(s),
                        "pages": {
                            k: {"url": url, "f1": scores[k].f1, "text": outputs[k]} for k, url, _, _ in pages
                        },
                    }
                    for name, (outputs, scores, s, _) in runs.items()
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    return 0


def _paired(base: dict[str, PageScore], new: dict[str, PageScore], pages) -> None:
    urls = {key: url for key, url, _, _ in pages}
    diffs = {k: new[k].f1 - base[k].f1 for k in base}
    better = sum(d > 1e-9 for d in diffs.values())
    worse = sum(d < -1e-9 for d in diffs.values())
    big = sorted((k for k, d in diffs.items() if d < -BIG_LOSS), key=diffs.get)
    big_gains = sum(d > BIG_LOSS for d in diffs.values())
    print(
        f"\npage-paired, newsarchive vs plain trafilatura: {better} better, {worse} worse, "
        f"{len(diffs) - better - worse} equal; {big_gains} better and {len(big)} worse by > {BIG_LOSS:.2f} F1"
    )
    for k in big:
        print(f"  worse by {-diffs[k]:.3f} F1 ({base[k].f1:.3f} -> {new[k].f1:.3f}): {k[:12]} {urls[k]}")
    low, high = _bootstrap(base, new)
    delta = score_set(new.values()).f1 - score_set(base.values()).f1
    print(f"F1 difference {delta:+.4f}, 95% paired bootstrap interval {low:+.4f} .. {high:+.4f} ({BOOTSTRAP} resamples of pages)")


def _bootstrap(base: dict[str, PageScore], new: dict[str, PageScore]) -> tuple[float, float]:
    """Resample pages with replacement (the same pages for both extractors) and take the
    2.5th and 97.5th percentiles of the set-F1 difference."""
    rng = random.Random(0)
    keys = sorted(base)
    deltas = []
    for _ in range(BOOTSTRAP):
        sample = [rng.choice(keys) for _ in keys]
        deltas.append(score_set(new[k] for k in sample).f1 - score_set(base[k] for k in sample).f1)
    deltas.sort()
    return deltas[int(0.025 * len(deltas))], deltas[int(0.975 * len(deltas)) - 1]


if __name__ == "__main__":
    sys.exit(main())
