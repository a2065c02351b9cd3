"""Sources files shipped with newsarchive (data, validated by ``schemas.sources``).

``default.toml``: the seeds' outlets and their peers on the US–China story, with their
public feeds and sitemaps as best known. ``newsarchive crawl`` uses it when no
``--sources`` is given.
"""

from pathlib import Path

DEFAULT_SOURCES = Path(__file__).resolve().with_name("default.toml")

__all__ = ["DEFAULT_SOURCES"]
