"""Reading the archive back: only files that a manifest names, in manifest order."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from archive.writer import ARTICLES, MANIFESTS, QUARANTINE, SIGHTINGS, read_manifest
from schemas import Article, Manifest, QuarantineRecord, Sighting


def manifests(root: Path) -> list[Manifest]:
    """Every run's manifest, oldest run first (run ids sort by start time)."""
    return [read_manifest(p) for p in sorted((Path(root) / MANIFESTS).glob("*.json"))]


def _records(root: Path, kind: str) -> Iterator[bytes]:
    for manifest in manifests(root):
        for entry in manifest.files:
            if entry.kind == kind:
                with gzip.open(Path(root) / entry.path, "rb") as f:
                    yield from (line for line in f if line.strip())


def read_articles(root: Path) -> Iterator[Article]:
    for line in _records(root, ARTICLES):
        yield Article.model_validate_json(line)


def read_quarantine(root: Path) -> Iterator[QuarantineRecord]:
    for line in _records(root, QUARANTINE):
        yield QuarantineRecord.model_validate_json(line)


def read_sightings(root: Path) -> Iterator[Sighting]:
    for line in _records(root, SIGHTINGS):
        yield Sighting.model_validate_json(line)
