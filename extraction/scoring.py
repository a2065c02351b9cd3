"""Scoring extracted text against a reference body, exactly as the article-extraction
benchmark does it (``../shared/benchmarks/aeb/README.md``), so figures compare with
published ones."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class PageScore:
    tp: float
    fp: float
    fn: float
    exact: bool

    @property
    def precision(self) -> float:
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return 1.0 if self.fp == self.fn == 0 else self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_page(predicted: str, truth: str) -> PageScore:
    """Shingle counts of one page, normalised so that each page weighs the same."""
    pred, true = _shingles(predicted), _shingles(truth)
    tp = fp = fn = 0
    for shingle in pred.keys() | true.keys():
        p, t = pred.get(shingle, 0), true.get(shingle, 0)
        tp += min(p, t)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    exact = _TOKEN.findall(predicted) == _TOKEN.findall(truth)
    if total == 0:
        return PageScore(0.0, 0.0, 0.0, exact)
    return PageScore(tp / total, fp / total, fn / total, exact)


@dataclass(frozen=True)
class SetScore:
    precision: float
    recall: float
    f1: float
    accuracy: float
    pages: int


def score_set(pages: Iterable[PageScore]) -> SetScore:
    """Means over pages: precision over pages with output, recall over pages with truth."""
    pages = list(pages)
    with_output = [p for p in pages if p.tp + p.fp > 0]
    with_truth = [p for p in pages if p.tp + p.fn > 0]
    precision = sum(p.precision for p in with_output) / len(with_output) if with_output else 0.0
    recall = sum(p.recall for p in with_truth) / len(with_truth) if with_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(p.exact for p in pages) / len(pages) if pages else 0.0
    return SetScore(precision, recall, f1, accuracy, len(pages))
