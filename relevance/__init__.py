"""Relevance to the topic defined by the seed documents (``seeds/``).

``TopicProfile.from_seeds(folder)`` builds the profile; ``profile.score(text)`` gives a
relevance in [0, 1]; ``profile.threshold`` separates on-topic from off-topic. Used by the
relevance pipeline stage (``pipelines/relevance.py``), the best-first request priorities
(``crawler/priority.py``), ``newsarchive topic`` and ``benchmarks/relevance.py``.
"""

from relevance.profile import Seed, SeedsError, TopicProfile, Vectorizer, load_seeds
from relevance.settings import RelevanceConfig, RelevanceConfigError

__all__ = [
    "RelevanceConfig",
    "RelevanceConfigError",
    "Seed",
    "SeedsError",
    "TopicProfile",
    "Vectorizer",
    "load_seeds",
]
