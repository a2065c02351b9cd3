"""Typed records shared by every part of newsarchive.

Every stage imports its record types from here: the spider emits :class:`FetchedPage`,
extraction and validation produce :class:`Article` (or :class:`QuarantineRecord` when a
page cannot become one), the archive writes :class:`Manifest` files, and the sources file
is parsed into :class:`SourcesFile`. Later copies of a stored story are
:class:`Sighting` records.
"""

from schemas.article import SCHEMA_VERSION, Article, ExtractorInfo, article_id
from schemas.manifest import Manifest, ManifestFile
from schemas.page import ArticleCandidate, FetchedPage
from schemas.quarantine import QuarantineRecord
from schemas.raw import HttpExchange, RawRef
from schemas.sighting import Sighting
from schemas.sources import Source, SourcesFile, SourcesFileError, load_sources

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "ArticleCandidate",
    "ExtractorInfo",
    "FetchedPage",
    "HttpExchange",
    "Manifest",
    "ManifestFile",
    "QuarantineRecord",
    "RawRef",
    "Source",
    "SourcesFile",
    "Sighting",
    "SourcesFileError",
    "article_id",
    "load_sources",
]
