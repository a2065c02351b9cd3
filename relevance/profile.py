"""The topic profile: what the seed documents have in common, as TF-IDF vectors.

Each seed file (``*.txt`` in the seeds folder) is cleaned with the same line rules as a
crawled page (``extraction/cleaning.py``: feed teasers, "Source link", "Popular posts" blocks
and so on go) and turned into a TF-IDF vector over words and phrases (``relevance/text.py``,
``relevance/idf.py``; term frequency ``1 + ln(count)``; vectors of unit length). The profile
is the mean of the seed vectors (the *centroid*).

A text's relevance is its cosine with the centroid, or with the closest single seed if that
is higher: 0 (no feature in common) to 1. The centroid carries what the seeds share (and
averages away what only one says); the closest seed lets a seed on a subject of its own
(a document added to widen the topic) count by itself instead of being diluted by the rest.

The default threshold comes from the seeds by leave-one-out: each seed is scored against the
profile of the others, and the threshold is ``THRESHOLD_FRACTION`` (one half) of the median
of those scores. So a new article as close to the topic as a typical seed is to the other
seeds is kept with a wide margin; text that shares only a few words with the topic is not;
and one seed unlike the others (its leave-one-out score is low) does not drag the threshold
down for everything. With a single seed there is nothing to leave out and the threshold is
``SINGLE_SEED_THRESHOLD``.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from extraction.cleaning import clean_text
from relevance.idf import GeneralEnglishIdf
from relevance.text import counted, features, sublinear_tf, words

THRESHOLD_FRACTION = 0.5
SINGLE_SEED_THRESHOLD = 0.05

Vector = dict[str, float]


class SeedsError(ValueError):
    """The seeds folder cannot define a topic; the message names the path and the reason."""


@dataclass(frozen=True)
class Seed:
    name: str
    text: str


def load_seeds(seeds_dir: str | Path) -> list[Seed]:
    """The cleaned text of every ``*.txt`` file in ``seeds_dir``, by file name."""
    path = Path(seeds_dir)
    if not path.exists():
        raise SeedsError(f"seeds folder {path}: does not exist")
    if not path.is_dir():
        raise SeedsError(f"seeds folder {path}: not a directory")
    try:
        files = sorted(p for p in path.iterdir() if p.suffix == ".txt" and p.is_file())
    except OSError as exc:
        raise SeedsError(f"seeds folder {path}: cannot be listed: {exc.strerror or exc}") from exc
    if not files:
        raise SeedsError(f"seeds folder {path}: has no .txt seed documents")
    seeds = []
    for file in files:
        try:
            raw = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SeedsError(f"seed {file}: cannot be read: {reason}") from exc
        text = clean_text(raw).text
        if not any(features(text).values()):
            raise SeedsError(f"seed {file}: has no words to learn from")
        seeds.append(Seed(file.name, text))
    return seeds


class Vectorizer:
    """TF-IDF vectors of unit length: the features of ``relevance/text.py`` weighted
    ``sublinear_tf(count) * idf``, where a phrase's idf is the mean of its two words' idf."""

    def __init__(self, idf: GeneralEnglishIdf | None = None) -> None:
        self.idf = idf or GeneralEnglishIdf()

    def vector(self, text: str) -> Vector:
        word_counts, phrase_counts = counted(words(text))
        idf = {w: self.idf.word(w) for w in word_counts}  # each word looked up once
        vec: Vector = {}
        for w, n in word_counts.items():
            if (x := idf[w]) > 0:
                vec[w] = sublinear_tf(n) * x
        for (a, b), n in phrase_counts.items():
            if (x := (idf[a] + idf[b]) / 2) > 0:  # as GeneralEnglishIdf weighs a phrase
                vec[f"{a} {b}"] = sublinear_tf(n) * x
        return _unit(vec)


def _unit(vec: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {f: w / norm for f, w in vec.items()} if norm else {}


def _mean(vectors: Iterable[Vector]) -> Vector:
    vectors = list(vectors)
    total: Vector = {}
    for vec in vectors:
        for f, w in vec.items():
            total[f] = total.get(f, 0.0) + w / len(vectors)
    return total


def _cosine(unit: Vector, profile: Vector, profile_norm: float) -> float:
    if not profile_norm:
        return 0.0
    small, large = (unit, profile) if len(unit) < len(profile) else (profile, unit)
    dot = sum(w * large.get(f, 0.0) for f, w in small.items())
    return max(0.0, min(1.0, dot / profile_norm))


@dataclass(frozen=True)
class TopicProfile:
    """The topic: the centroid and the seed vectors, the threshold, and how it was chosen."""

    seeds_dir: Path
    seeds: tuple[Seed, ...]
    weights: Vector
    seed_vectors: tuple[Vector, ...]
    threshold: float
    threshold_rule: str
    leave_one_out: dict[str, float] = field(default_factory=dict)
    vectorizer: Vectorizer = field(default_factory=Vectorizer, repr=False, compare=False)

    @classmethod
    def from_seeds(
        cls, seeds_dir: str | Path, *, threshold: float | None = None, vectorizer: Vectorizer | None = None
    ) -> TopicProfile:
        """Build the profile of the seeds in ``seeds_dir``; raises :class:`SeedsError`."""
        return cls.from_texts(load_seeds(seeds_dir), seeds_dir=Path(seeds_dir), threshold=threshold, vectorizer=vectorizer)

    @classmethod
    def from_texts(
        cls,
        seeds: Iterable[Seed],
        *,
        seeds_dir: Path = Path("."),
        threshold: float | None = None,
        vectorizer: Vectorizer | None = None,
    ) -> TopicProfile:
        seeds = tuple(seeds)
        if not seeds:
            raise SeedsError(f"seeds folder {seeds_dir}: has no seed documents")
        vectorizer = vectorizer or Vectorizer()
        vectors = tuple(vectorizer.vector(s.text) for s in seeds)
        loo: dict[str, float] = {}
        if len(seeds) > 1:
            for i, seed in enumerate(seeds):
                others = tuple(v for j, v in enumerate(vectors) if j != i)
                loo[seed.name] = _score(vectors[i], _mean(others), others)
        if threshold is not None:
            rule = "set explicitly (RELEVANCE_THRESHOLD, or topic --threshold)"
        elif loo:
            median = statistics.median(loo.values())
            threshold = THRESHOLD_FRACTION * median
            rule = f"{THRESHOLD_FRACTION:g} x the median leave-one-out seed score ({median:.3f})"
        else:
            threshold = SINGLE_SEED_THRESHOLD
            rule = "one seed only: no leave-one-out; fixed default"
        return cls(
            seeds_dir=seeds_dir,
            seeds=seeds,
            weights=_mean(vectors),
            seed_vectors=vectors,
            threshold=threshold,
            threshold_rule=rule,
            leave_one_out=loo,
            vectorizer=vectorizer,
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_norm", _norm(self.weights))
        digest = hashlib.sha256(f"{self.threshold:.6f}".encode())
        for seed in sorted(self.seeds, key=lambda s: s.name):
            digest.update(b"\0" + seed.name.encode() + b"\0" + seed.text.encode())
        object.__setattr__(self, "_fingerprint", digest.hexdigest()[:16])

    @property
    def fingerprint(self) -> str:
        """Changes when a seed is added, removed or edited, or the threshold changes: what
        was judged off topic under another profile is judged again."""
        return self._fingerprint

    @property
    def norm(self) -> float:
        return self._norm

    def score(self, text: str) -> float:
        """Relevance of ``text`` to the topic, in [0, 1]."""
        return _score(self.vectorizer.vector(text), self.weights, self.seed_vectors, self._norm)

    def is_relevant(self, score: float) -> bool:
        return score >= self.threshold

    def explain(self, text: str, n: int = 8) -> list[tuple[str, float]]:
        """The features of ``text`` that add most to its score (against the centroid, or the
        closest seed if that scored higher), with their part of it."""
        vec = self.vectorizer.vector(text)
        target = self.weights
        if max((_cosine(vec, s, 1.0) for s in self.seed_vectors), default=0.0) > _cosine(vec, self.weights, self.norm):
            target = max(self.seed_vectors, key=lambda s: _cosine(vec, s, 1.0))
        norm = _norm(target) or 1.0
        parts = sorted(((f, w * target[f] / norm) for f, w in vec.items() if f in target), key=lambda p: -p[1])
        return parts[:n]

    def top(self, n: int = 20, *, phrases: bool = False) -> list[tuple[str, float]]:
        """The profile's heaviest words (or phrases)."""
        items = [(f, w) for f, w in self.weights.items() if (" " in f) == phrases]
        return sorted(items, key=lambda p: (-p[1], p[0]))[:n]


def _norm(vec: Mapping[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vec.values()))


def _score(unit: Vector, centroid: Vector, seeds: Iterable[Vector], centroid_norm: float | None = None) -> float:
    """Cosine with the centroid, or with the closest seed if higher (seed vectors are unit)."""
    norm = _norm(centroid) if centroid_norm is None else centroid_norm
    # the centroid has every seed's features: the text's other features add nothing to any cosine
    common = {f: w for f, w in unit.items() if f in centroid}
    return max([_cosine(common, centroid, norm), *(_cosine(common, s, 1.0) for s in seeds)])
