"""The seed documents: the topic's example articles (see README.md here).

This file only makes the folder ship inside the installed package, so that the demo and
the relevance model find the seeds wherever newsarchive is installed.
"""

from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent
"""The folder holding the seed ``.txt`` files."""
