"""Article extraction: HTML in, clean text and metadata out.

Pure functions with no Scrapy or I/O, so the same code runs inline, in a worker process
or from ``newsarchive reextract``. The pipeline stage that calls it is
``pipelines/extract.py``.
"""

from extraction.boilerplate import SiteBoilerplate
from extraction.extractor import ExtractionError, Extracted, Extractor

__all__ = ["ExtractionError", "Extracted", "Extractor", "SiteBoilerplate"]
