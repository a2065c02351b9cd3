"""Near-duplicate benchmark: are syndicated copies of a story found, are distinct stories
kept apart, and how does the dedup index do with a million stories.

    python benchmarks/dedup.py [--aeb DIR] [--limit N] [--signatures N] [--batch 500]
                               [--skip-eval] [--skip-scale]

Part 1, decisions. The texts are real: the five seeds' clean bodies (``seeds/``, read by
``newsweb.content.seed_clean_body``) and the hand-checked article bodies of the
article-extraction benchmark (``--aeb``, default ``../shared/benchmarks/aeb``, read where it
is). Each text is stored as a story (a :class:`~archive.index.DedupIndex` in a temporary
folder), then 8 syndicated variants of it (made deterministically: other boilerplate, a
byline added or removed, a changed headline on top, the last paragraph cut, three sentences
edited, "Read more" teasers inserted, and two re-posts that combine them) are each decided
on the way :class:`pipelines.dedup.DedupPipeline` decides: the same words (text fingerprint),
else the best LSH candidate whose estimated Jaccard similarity reaches the threshold. A
variant matched to its own text is a true positive, to another text a false one. Then the
distinct pages are fed one by one into an empty index (each decided against the ones before
it, then stored): the five seeds (one story line, different events) and every AEB page with
its site's boilerplate around it (pages of one site share it: 55 same-site pairs); any match
there is a false merge. Printed for several thresholds: precision, recall, F1 and the false
merges; next to the exact text hash alone (what news-please and Fundus do: same text or
not), and to MinHash without LSH (every stored signature compared: what LSH misses).

Part 2, scale. A ``DedupIndex`` (a real SQLite file) is filled with ``--signatures``
made-up stories (random MinHash signatures, one in ten a near copy of an earlier one, URL
keys and fingerprints like real ones) in batches of ``--batch``, as the archive writer does,
each story queried with ``near()`` before it is added. Printed: query+insert per second on
one thread (time in the index only, wall and CPU), peak RSS, size on disk, and the time a
new process takes to open the index and answer its first URL lookup and its first ``near()``.
Baselines measured in the same run on ``min(N, 100000)`` stories: :class:`MemoryIndex`
(dicts in memory) and one SQLite row per LSH band (the index's layout before LSH runs).
Each fill runs in a process of its own, so that its peak RSS is its own.

Part 3, the crawl with that index open: ``benchmarks/crawl.py``'s whole-pipeline crawl of
``--crawl-pages`` local news web pages, into an archive whose ``state/index.sqlite`` is a
copy of the filled index (the spider, the dedup stage and the archive writer each open it);
printed: the peak RSS of the crawling process (its own ``ru_maxrss``).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:  # the repository root is on sys.path (python -m benchmarks.x, tests): see benchmarks/_setup.py
    from benchmarks._setup import DEFAULT_AEB
except ModuleNotFoundError:  # python benchmarks/x.py: only this folder is
    from _setup import DEFAULT_AEB

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import numpy as np  # noqa: E402

from archive.index import DedupIndex, DedupStore, IndexEntry, MemoryIndex, MinHasher, text_fingerprint  # noqa: E402
from newsweb.content import seed_clean_body, seed_story  # noqa: E402
from seeds import SEEDS_DIR  # noqa: E402

DEFAULT_THRESHOLD = 0.5  # DEDUP_NEAR_THRESHOLD's default (pipelines/dedup.py, crawler/settings.py)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TARGET_RECALL, TARGET_PRECISION = 0.95, 0.99
TARGET_RATE, TARGET_RSS_MB, TARGET_REOPEN_S = 5000, 1024, 2.0
BASELINE_SIGNATURES = 100_000

# -- the texts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    key: str
    site: str
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def _paragraphs(body: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in body.split("\n") if p.strip())


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph) if s]


def _headline_of(paragraphs: Sequence[str]) -> str:
    """A headline for a text that has none: the start of its first sentence."""
    first = _sentences(paragraphs[0])[0].split()
    return " ".join(first[:10]).rstrip(",;:")


def seed_docs() -> list[Doc]:
    ids = sorted(p.name[:3] for p in SEEDS_DIR.glob("*.txt"))
    return [Doc(f"seed-{i}", f"seed-{i}", seed_story(i).title, _paragraphs(seed_clean_body(i))) for i in ids]


def aeb_docs(aeb: Path, limit: int | None = None) -> list[Doc]:
    truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
    docs = []
    for key in sorted(truth)[:limit]:
        paragraphs = _paragraphs(truth[key]["articleBody"])
        if not paragraphs:
            continue
        site = (urlsplit(truth[key].get("url") or "").hostname or key).removeprefix("www.")
        docs.append(Doc(f"aeb-{key[:12]}", site, _headline_of(paragraphs), paragraphs))
    return docs


# -- syndicated variants ----------------------------------------------------------------------
# Boilerplate as the seeds show it (seeds/README.md) and as news sites commonly carry it.

_CRUMBS = ("Home » World » Asia", "Skip to main content", "ConflictNorth AmericaWorld", "Menu Search Subscribe Sign in",
           "News | World | Politics | Business", "Latest News Trending Videos")
_FOOTERS = ("Share this article: Facebook Twitter WhatsApp Email", "Related Articles", "Back to top button",
            "Source link", "Leave a Reply", "Your email address will not be published. Required fields are marked *",
            "Subscribe to our newsletter for the day's top stories.", "Follow us on Facebook and Twitter.",
            "Comments", "Advertisement", "All rights reserved.", "Popular posts from this blog",
            "Tags: politics, world, diplomacy", "Sign up for our morning briefing")
_BYLINES = ("By Associated Press", "By Reuters Staff", "By AFP", "By Our Correspondent",
            "By Staff Reporter | Updated 14:10 GMT", "By Jane Doe, Senior Correspondent")
_BYLINE = re.compile(r"^(by|source:|reporting by|written by)\b", re.IGNORECASE)
_TEASER = ("Read more: {}", "READ MORE: {}", "Also read: {}", "Read More | {}")
_HEADLINE_PREFIX = ("UPDATE: ", "WATCH: ", "Breaking: ", "EXCLUSIVE: ", "")
_HEADLINE_SUFFIX = (" – report", " | World News", " (VIDEO)", "")
_INSERTED = ("also", "reportedly", "however", "now", "officially")
_REPLACEMENTS = ("officials", "said", "country", "week", "statement", "government", "Monday", "recently")

KINDS = ("boilerplate", "byline", "headline", "last paragraph cut", "sentences edited", "read-more teasers",
         "re-post (4 changes)", "re-post (all 6)")


def _boilerplate(paras: list[str], rng: random.Random) -> list[str]:
    return [rng.choice(_CRUMBS), *paras, *rng.sample(_FOOTERS, 3)]


def _byline(paras: list[str], rng: random.Random) -> list[str]:
    """A byline removed where the text has one (first or last paragraph), else added."""
    if len(paras) > 1 and _BYLINE.match(paras[0]) and len(paras[0].split()) <= 12:
        return paras[1:]
    if len(paras) > 1 and _BYLINE.match(paras[-1]) and len(paras[-1].split()) <= 12:
        return paras[:-1]
    return [rng.choice(_BYLINES), *paras]


def _headline(paras: list[str], title: str, rng: random.Random) -> list[str]:
    """The copy's text starts with its own version of the headline (one word dropped)."""
    title_words = title.split()
    if len(title_words) > 3:
        del title_words[rng.randrange(len(title_words))]
    return [rng.choice(_HEADLINE_PREFIX) + " ".join(title_words) + rng.choice(_HEADLINE_SUFFIX), *paras]


def _cut(paras: list[str], rng: random.Random) -> list[str]:
    if len(paras) > 1:
        return paras[:-1]
    sentences = _sentences(paras[0])
    return [" ".join(sentences[:-1])] if len(sentences) > 1 else paras


def _edit(paras: list[str], rng: random.Random, count: int = 3) -> list[str]:
    """``count`` sentences edited, one change each: a word replaced, dropped or inserted,
    or a number changed."""
    split = [_sentences(p) for p in paras]
    places = [(i, j) for i, sentences in enumerate(split) for j, s in enumerate(sentences) if len(s.split()) >= 6]
    for i, j in rng.sample(places, min(count, len(places))):
        tokens = split[i][j].split()
        k = rng.randrange(1, len(tokens) - 1)
        numbers = [n for n, t in enumerate(tokens) if re.fullmatch(r"\d[\d,.]*", t)]
        change = rng.choice(("replace", "drop", "insert", "number" if numbers else "replace"))
        if change == "number":
            n = rng.choice(numbers)
            tokens[n] = str(int(re.sub(r"\D", "", tokens[n]) or 0) + rng.randint(1, 9))
        elif change == "replace":
            tokens[k] = rng.choice(_REPLACEMENTS)
        elif change == "drop":
            del tokens[k]
        else:
            tokens.insert(k, rng.choice(_INSERTED))
        split[i][j] = " ".join(tokens)
    return [" ".join(sentences) for sentences in split]


def _teasers(paras: list[str], rng: random.Random, titles: Sequence[str]) -> list[str]:
    """Two "Read more" lines (headlines of other stories) between paragraphs."""
    out = list(paras)
    if len(out) == 1:  # a one-paragraph text: teasers between its sentences
        out = _sentences(out[0])
    for _ in range(2):
        out.insert(rng.randint(1, max(1, len(out) - 1)), rng.choice(_TEASER).format(rng.choice(titles)))
    return out


def variants(doc: Doc, titles: Sequence[str]) -> list[tuple[str, str]]:
    """(kind, text) of each syndicated variant of ``doc``, the same in every run.
    ``titles``: headlines of other stories, for the teasers."""

    def rng(kind: str) -> random.Random:
        return random.Random(f"{doc.key}/{kind}")

    paras = list(doc.paragraphs)
    made = {
        "boilerplate": _boilerplate(paras, rng("boilerplate")),
        "byline": _byline(paras, rng("byline")),
        "headline": _headline(paras, doc.title, rng("headline")),
        "last paragraph cut": _cut(paras, rng("cut")),
        "sentences edited": _edit(paras, rng("edit")),
        "read-more teasers": _teasers(paras, rng("teasers"), titles),
    }
    r = rng("re-post 4")
    made["re-post (4 changes)"] = _boilerplate(_byline(_teasers(_cut(paras, r), r, titles), r), r)
    r = rng("re-post 6")
    repost = _edit(_cut(paras, r), r)
    made["re-post (all 6)"] = _boilerplate(_headline(_byline(_teasers(repost, r, titles), r), doc.title, r), r)
    return [(kind, "\n".join(made[kind])) for kind in KINDS]


def site_page(doc: Doc) -> str:
    """The text as its own site shows it, with the site's boilerplate around it (the same
    for every page of the site)."""
    rng = random.Random(f"site/{doc.site}")
    head = f"{doc.site} {rng.choice(_CRUMBS)}"
    return "\n".join([head, *doc.paragraphs, *rng.sample(_FOOTERS, 2), f"© 2024 {doc.site}. All rights reserved."])


# -- decisions -------------------------------------------------------------------------------


def decide(index: DedupStore, text: str, signature: np.ndarray, threshold: float) -> str | None:
    """The story ``text`` is a copy of, or None: as the dedup stage decides (same words
    first, then the best near copy among the LSH candidates)."""
    if found := index.article_for_text(text_fingerprint(text)):
        return found
    match = index.near(signature, threshold)
    return match.story.article_id if match else None


@dataclass
class Counts:
    true: int = 0  # variants matched to their own text
    wrong: int = 0  # variants matched to another text
    merged: int = 0  # distinct pages matched to an earlier one
    seed_merges: list[tuple[str, str]] = field(default_factory=list)

    def precision(self) -> float:
        decided = self.true + self.wrong + self.merged
        return self.true / decided if decided else 1.0


@dataclass
class Evaluation:
    docs: int
    seeds: int
    variants: int
    distinct: int
    same_site_pairs: int
    counts: dict[float, Counts]
    by_kind: dict[float, dict[str, int]]  # threshold -> kind -> variants found
    exact_hash: int  # variants the exact text hash finds
    exact_wrong: int  # variants it matches to another text
    exact_merged: int  # distinct pages it matches to an earlier one
    brute_force: dict[float, int]  # threshold -> variants found comparing every stored signature
    merges: dict[float, list[tuple[str, str, float]]]  # distinct pages merged: (page, with, similarity)
    closest: dict[str, tuple[float, str, str]]  # "seeds" / "same site" / "any": highest similarity of a distinct pair
    lowest_variant: tuple[float, str, str]  # the variant least similar to its own text

    def recall(self, threshold: float) -> float:
        return self.counts[threshold].true / self.variants

    def f1(self, threshold: float) -> float:
        p, r = self.counts[threshold].precision(), self.recall(threshold)
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(docs: list[Doc], thresholds: Sequence[float], workdir: Path) -> Evaluation:
    hasher = MinHasher()
    titles = [d.title for d in docs]
    signatures = {d.key: hasher.signature(d.text) for d in docs}
    thresholds = sorted(thresholds)

    stored = DedupIndex(workdir / "stored.sqlite", hasher).open()
    try:
        stored.add_batch("originals", [IndexEntry(d.key, (), text_fingerprint(d.text), None, d.site, None,
                                                  signatures[d.key]) for d in docs])
        counts = {t: Counts() for t in thresholds}
        by_kind = {t: dict.fromkeys(KINDS, 0) for t in thresholds}
        brute = dict.fromkeys(thresholds, 0)
        exact = exact_wrong = n_variants = 0
        lowest = (2.0, "", "")
        packed = {d.key: hasher.packed(signatures[d.key]) for d in docs}
        for doc in docs:
            for kind, text in variants(doc, [t for t in titles if t != doc.title]):
                n_variants += 1
                signature = hasher.signature(text)
                same_words = stored.article_for_text(text_fingerprint(text))
                exact += same_words == doc.key
                exact_wrong += same_words not in (None, doc.key)
                own = hasher.similarity(hasher.packed(signature), packed[doc.key])
                lowest = min(lowest, (own, doc.key, kind))
                best_key, best = max(((k, hasher.similarity(hasher.packed(signature), p)) for k, p in packed.items()),
                                     key=lambda kv: kv[1])
                for t in thresholds:
                    brute[t] += best >= t and best_key == doc.key
                    found = decide(stored, text, signature, t)
                    if found == doc.key:
                        counts[t].true += 1
                        by_kind[t][kind] += 1
                    elif found is not None:
                        counts[t].wrong += 1
                        if doc.key.startswith("seed-") and found.startswith("seed-"):
                            counts[t].seed_merges.append((f"{doc.key} ({kind})", found))
    finally:
        stored.close()

    # distinct pages, one by one: the seeds, then each AEB page with its site's boilerplate
    pages = [(d, d.text if d.key.startswith("seed-") else site_page(d)) for d in docs]
    site_of = {d.key: d.site for d in docs}
    sites: dict[str, int] = {}
    for d in docs:
        sites[d.site] = sites.get(d.site, 0) + 1
    same_site_pairs = sum(n * (n - 1) // 2 for n in sites.values())
    merges: dict[float, list[tuple[str, str, float]]] = {t: [] for t in thresholds}
    exact_merged = 0
    page_packed: dict[str, bytes] = {}
    closest = {"seeds": (0.0, "", ""), "same site": (0.0, "", ""), "any": (0.0, "", "")}
    fed = DedupIndex(workdir / "distinct.sqlite", hasher).open()
    try:
        for n, (doc, text) in enumerate(pages):
            signature = hasher.signature(text)
            mine = hasher.packed(signature)
            for other, theirs in page_packed.items():
                pair = (hasher.similarity(mine, theirs), doc.key, other)
                closest["any"] = max(closest["any"], pair)
                if site_of[other] == doc.site:
                    closest["same site"] = max(closest["same site"], pair)
                if doc.key.startswith("seed-") and other.startswith("seed-"):
                    closest["seeds"] = max(closest["seeds"], pair)
            page_packed[doc.key] = mine
            exact_merged += fed.article_for_text(text_fingerprint(text)) is not None
            for t in thresholds:
                if found := decide(fed, text, signature, t):
                    counts[t].merged += 1
                    merges[t].append((doc.key, found, hasher.similarity(mine, page_packed[found])))
                    if doc.key.startswith("seed-") and found.startswith("seed-"):
                        counts[t].seed_merges.append((doc.key, found))
            fed.add_batch(f"page-{n}", [IndexEntry(doc.key, (), text_fingerprint(text), None, doc.site, None, signature)])
    finally:
        fed.close()
    return Evaluation(
        docs=len(docs), seeds=sum(d.key.startswith("seed-") for d in docs), variants=n_variants,
        distinct=len(pages), same_site_pairs=same_site_pairs, counts=counts, by_kind=by_kind, exact_hash=exact,
        exact_wrong=exact_wrong, exact_merged=exact_merged,
        brute_force=brute, merges=merges, closest=closest, lowest_variant=lowest,
    )


def print_evaluation(ev: Evaluation, default: float) -> bool:
    """Print the tables; whether the targets hold at the default threshold."""
    print(f"== Part 1: 'same story' decisions, {ev.seeds} seeds + {ev.docs - ev.seeds} AEB texts")
    print(f"   {ev.variants} syndicated variants ({len(KINDS)} per text) against the {ev.docs} stored texts; "
          f"{ev.distinct} distinct pages fed one by one ({ev.seeds * (ev.seeds - 1) // 2} seed pairs, "
          f"{ev.same_site_pairs} same-site pairs)\n")
    print("| decision | precision | recall | F1 | variants to a wrong story | distinct pages merged | seed pairs merged |")
    print("|---|---|---|---|---|---|---|")
    best = max(ev.counts, key=lambda t: (ev.f1(t), -abs(t - default)))
    for t, c in ev.counts.items():
        mark = " (default)" if t == default else ""
        mark += " (best F1)" if t == best else ""
        print(f"| estimated Jaccard >= {t:.2f}{mark} | {c.precision():.4f} | {ev.recall(t):.4f} | {ev.f1(t):.4f} | "
              f"{c.wrong} | {c.merged} | {len(c.seed_merges)} |")
    exact_recall = ev.exact_hash / ev.variants
    exact_decided = ev.exact_hash + ev.exact_wrong + ev.exact_merged
    exact_precision = f"{ev.exact_hash / exact_decided:.4f}" if exact_decided else "-"
    exact_f1 = 2 * exact_recall / (1 + exact_recall) if ev.exact_hash else 0.0
    print(f"| baseline: exact text hash only | {exact_precision} | {exact_recall:.4f} | {exact_f1:.4f} | "
          f"{ev.exact_wrong} | {ev.exact_merged} | - |")
    print(f"\nMinHash without LSH (every stored signature compared), recall: "
          + ", ".join(f"{t:.2f}: {ev.brute_force[t] / ev.variants:.4f}" for t in ev.counts)
          + "  (the LSH bands lose the difference)")
    print(f"recall by kind of variant at {default:.2f}: "
          + "; ".join(f"{k} {n / (ev.variants / len(KINDS)):.3f}" for k, n in ev.by_kind[default].items()))
    sim, key, kind = ev.lowest_variant
    print(f"least similar variant: {key} ({kind}), {sim:.3f}")
    for name, (sim, a, b) in ev.closest.items():
        print(f"closest distinct pair ({name}): {sim:.3f} ({a} / {b})")
    for t in (default, best):
        for page, other, sim in ev.merges[t][:5]:
            print(f"  merged at {t:.2f}: {page} with {other} (similarity {sim:.3f})")
    c = ev.counts[default]
    checks = [
        (f"recall {ev.recall(default):.4f} >= {TARGET_RECALL}", ev.recall(default) >= TARGET_RECALL),
        (f"precision {c.precision():.4f} >= {TARGET_PRECISION}", c.precision() >= TARGET_PRECISION),
        (f"seeds merged with each other: {len(c.seed_merges)}", not c.seed_merges),
    ]
    ok = all(passed for _, passed in checks)
    print(f"targets at the default threshold {default:.2f}: "
          + "; ".join(f"{text} {'yes' if passed else 'NO'}" for text, passed in checks))
    if best != default:
        print(f"best F1 at {best:.2f}: {ev.f1(best):.4f} vs {ev.f1(default):.4f} at the default")
    return ok


# -- scale -----------------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _BandRowsIndex:
    """The baseline layout: the dedup index as it was before LSH runs, one B-tree row per
    URL key, fingerprint and LSH band (only what the fill uses)."""

    def __init__(self, path: Path) -> None:
        self.hasher = MinHasher()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.executescript("""
            CREATE TABLE url_keys (key TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE fingerprints (fp TEXT PRIMARY KEY, article_id TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE stories (n INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE, source TEXT,
                                  original_publisher TEXT, signature BLOB);
            CREATE TABLE bands (key INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n)) WITHOUT ROWID;
        """)

    def open(self) -> _BandRowsIndex:
        return self

    def close(self) -> None:
        self.db.close()

    def near(self, signature: np.ndarray, threshold: float) -> object:
        keys = self.hasher.band_keys(signature)
        rows = self.db.execute(
            f"SELECT article_id, signature FROM stories WHERE n IN (SELECT n FROM bands WHERE key IN "
            f"({','.join('?' * len(keys))}))", keys).fetchall()
        packed = self.hasher.packed(signature)
        return max((self.hasher.similarity(packed, s) for _, s in rows if s), default=0.0) >= threshold or None

    def add_batch(self, path: str, entries: list[IndexEntry]) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        bands = []
        for e in entries:
            db.executemany("INSERT OR IGNORE INTO url_keys VALUES (?, ?)", [(k, e.article_id) for k in e.url_keys])
            db.execute("INSERT OR IGNORE INTO fingerprints VALUES (?, ?)", (e.fingerprint, e.article_id))
            cur = db.execute("INSERT OR IGNORE INTO stories (article_id, source, signature) VALUES (?, ?, ?)",
                             (e.article_id, e.source, self.hasher.packed(e.signature)))  # type: ignore[arg-type]
            bands.extend((k, cur.lastrowid) for k in self.hasher.band_keys(e.signature))  # type: ignore[arg-type]
        bands.sort()
        db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", bands)
        db.execute("COMMIT")


def _make_batch(rng: np.random.Generator, recent: np.ndarray, filled: int, size: int,
                outlets: list[str]) -> tuple[list[IndexEntry], int]:
    """``size`` made-up stories: random signatures, one in ten a near copy (a quarter of its
    minima changed) of one of the recent stories; 32-hex-digit ids, keys and fingerprints,
    two URL keys for half of them (fetched and canonical URL differ)."""
    sigs = rng.integers(0, 2**32, size=(size, recent.shape[1]), dtype=np.uint64).astype(np.uint32)
    copies = 0
    if filled >= len(recent):
        for i in np.flatnonzero(rng.random(size) < 0.1):
            changed = rng.random(recent.shape[1]) < 0.25
            sigs[i] = np.where(changed, sigs[i], recent[rng.integers(len(recent))])
            copies += 1
    hexes = rng.integers(0, 2**63, size=(size, 4), dtype=np.uint64)
    entries = []
    for i in range(size):
        h = [f"{int(x):016x}" for x in hexes[i]]
        keys = (h[1] + h[2],) if i % 2 else (h[1] + h[2], h[2] + h[3])
        entries.append(IndexEntry(h[0] + h[1], keys, h[3] + h[0], None, outlets[i % len(outlets)], None, sigs[i]))
    recent[(filled + np.arange(size)) % len(recent)] = sigs
    return entries, copies


def fill(kind: str, path: str, signatures: int, batch: int, threshold: float, report_every: int) -> dict:
    """Fill an index of ``kind`` ("runs": DedupIndex, "memory": MemoryIndex, "band rows":
    the previous layout) with made-up stories, each queried first. Run in a process of its own."""
    rng = np.random.default_rng(20261201)
    outlets = [f"Outlet {i}" for i in range(200)]
    recent = np.zeros((10_000, MinHasher().num_perm), dtype=np.uint32)
    index: DedupStore | _BandRowsIndex
    index = {"runs": lambda: DedupIndex(path), "memory": MemoryIndex, "band rows": lambda: _BandRowsIndex(Path(path))}[kind]()
    index.open()
    start_rss = _rss_mb()
    wall = cpu = 0.0
    found = copies = done = 0
    last_wall, last_done = 0.0, 0
    try:
        while done < signatures:
            entries, n_copies = _make_batch(rng, recent, done, min(batch, signatures - done), outlets)
            copies += n_copies
            t0, c0 = time.perf_counter(), time.process_time()
            for entry in entries:
                found += index.near(entry.signature, threshold) is not None  # type: ignore[arg-type]
            index.add_batch(f"batch-{done}", entries)  # type: ignore[arg-type]
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
            done += len(entries)
            if report_every and done % report_every == 0:
                print(f"   {done:>9,} stories: {(done - last_done) / (wall - last_wall):,.0f}/s over the last "
                      f"{done - last_done:,}, RSS {_rss_mb():,.0f} MB (peak {_peak_rss_mb():,.0f} MB)", flush=True)
                last_wall, last_done = wall, done
    finally:
        index.close()
    return {"stories": done, "wall": wall, "cpu": cpu, "found": found, "copies": copies,
            "peak_rss_mb": _peak_rss_mb(), "start_rss_mb": start_rss}


def reopen(path: str) -> dict:
    """What the next run pays: open the index, list its batches (the writer's recovery),
    a URL lookup, then a first near() (which loads the LSH runs). In a new process."""
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    index = DedupIndex(path).open()
    batches = len(index.indexed_batches())
    index.article_for_url(f"{int(rng.integers(2**63)):032x}")
    t_url = time.perf_counter() - t0
    index.near(rng.integers(0, 2**32, size=index.hasher.num_perm, dtype=np.uint64).astype(np.uint32), 0.5)
    t_near = time.perf_counter() - t0
    rss = _rss_mb()
    index.close()
    return {"batches": batches, "url_s": t_url, "near_s": t_near, "rss_mb": rss}


def _in_process(fn: Callable[..., dict], *args: object) -> dict:
    """``fn(*args)`` in a new interpreter (its own RSS, nothing warm from this one)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def crawl_with_index(index: Path, pages: int, workdir: Path) -> dict:
    """A real crawl of the local news web (benchmarks/crawl.py's ``pool`` run: the whole
    pipeline, its own process) into an archive whose dedup index is a copy of ``index``: the
    spider, the dedup stage and the archive writer each open it, as in a crawl."""
    from benchmarks import crawl as bench_crawl  # the repository root is on sys.path (_setup)
    from newsweb import NewsWeb

    fixed = sum(1 for a in NewsWeb(size=0).articles if not a.disallowed and not a.fault)
    run = workdir / "crawl"
    run.mkdir()
    return bench_crawl.run_mode("pool", max(pages - fixed, 0), run, index)


def run_scale(signatures: int, batch: int, threshold: float, workdir: Path, crawl_pages: int = 300) -> bool:
    print(f"\n== Part 2: {signatures:,} stories into a DedupIndex, batches of {batch}, near() before each insert")
    path = workdir / "scale" / "index.sqlite"
    path.parent.mkdir()
    ours = _in_process(fill, "runs", str(path), signatures, batch, threshold, max(signatures // 10, batch))
    size = _size_mb(path)
    again = _in_process(reopen, str(path))
    small = min(signatures, BASELINE_SIGNATURES)
    baselines = {}
    for kind in ("memory", "band rows"):
        base_path = workdir / kind.replace(" ", "-") / "index.sqlite"
        base_path.parent.mkdir()
        baselines[kind] = _in_process(fill, kind, str(base_path), small, batch, threshold, 0)
        baselines[kind]["size"] = _size_mb(base_path) if kind != "memory" else 0.0

    rate, cpu_rate = ours["stories"] / ours["wall"], ours["stories"] / ours["cpu"]
    print(f"\n| index | stories | query+insert/s (wall) | per CPU second | peak RSS MB | on disk MB |")
    print("|---|---|---|---|---|---|")
    print(f"| DedupIndex (LSH runs) | {ours['stories']:,} | {rate:,.0f} | {cpu_rate:,.0f} | "
          f"{ours['peak_rss_mb']:,.0f} | {size:,.0f} |")
    labels = {"memory": "baseline: MemoryIndex (dicts)", "band rows": "baseline: a row per band (previous layout)"}
    for kind, label in labels.items():
        b = baselines[kind]
        disk = f"{b['size']:,.0f}" if b["size"] else "-"
        print(f"| {label} | {b['stories']:,} | {b['stories'] / b['wall']:,.0f} | {b['stories'] / b['cpu']:,.0f} | "
              f"{b['peak_rss_mb']:,.0f} | {disk} |")
    print(f"\nnear copies found by near(): {ours['found']:,} queries matched, {ours['copies']:,} near copies made")
    memory = baselines["memory"]
    print(f"MemoryIndex: {(memory['peak_rss_mb'] - memory['start_rss_mb']) / small * 1e6 / 1024:,.1f} GB "
          f"per million stories (RSS growth)")
    print(f"reopen in a new process ({again['batches']:,} batches listed): open + first URL lookup "
          f"{again['url_s']:.2f} s; + first near() {again['near_s']:.2f} s; RSS then {again['rss_mb']:,.0f} MB")
    checks = [
        (f"{rate:,.0f}/s >= {TARGET_RATE:,}", rate >= TARGET_RATE),
        (f"peak RSS {ours['peak_rss_mb']:,.0f} MB <= {TARGET_RSS_MB:,}", ours["peak_rss_mb"] <= TARGET_RSS_MB),
        (f"reopen {again['near_s']:.2f} s < {TARGET_REOPEN_S}", again["near_s"] < TARGET_REOPEN_S),
    ]
    if crawl_pages:
        print(f"\n== Part 3: a crawl of {crawl_pages:,} local news web pages (whole pipeline) with this index open")
        c = crawl_with_index(path, crawl_pages, workdir)
        print(f"crawl: {c['pages']:,} pages, {c['stored']:,} stored, {c['finish_reason']}, {c['seconds']:.1f} s; "
              f"peak RSS of the crawling process {c['rss_crawl_mb']:,.0f} MB (its extraction workers "
              f"{c['rss_workers_mb']:,.0f} MB more, sampled)")
        checks.append((f"crawl RSS {c['rss_crawl_mb']:,.0f} MB <= {TARGET_RSS_MB:,}", c["rss_crawl_mb"] <= TARGET_RSS_MB))
    print(f"targets ({signatures:,} stories): " + "; ".join(f"{t} {'yes' if ok else 'NO'}" for t, ok in checks))
    return all(ok for _, ok in checks)


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB, help="the article-extraction benchmark folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N AEB pages (by key)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=THRESHOLDS)
    parser.add_argument("--signatures", type=int, default=1_000_000, help="stories in the scale part")
    parser.add_argument("--batch", type=int, default=500, help="stories per add_batch transaction")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--crawl-pages", type=int, default=300,
                        help="pages of the crawl run with the filled index open (0: no crawl)")
    args = parser.parse_args(argv)
    if not args.skip_eval and not (args.aeb / "ground-truth.json").is_file():
        print(f"error: no ground-truth.json in {args.aeb}", file=sys.stderr)
        return 2
    thresholds = sorted(set(args.thresholds) | {DEFAULT_THRESHOLD})
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_eval:
            docs = seed_docs() + aeb_docs(args.aeb, args.limit)
            print_evaluation(evaluate(docs, thresholds, workdir), DEFAULT_THRESHOLD)
        if not args.skip_scale:
            run_scale(args.signatures, args.batch, DEFAULT_THRESHOLD, workdir, args.crawl_pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
