"""Lines a site repeats on many of its pages, learned during the crawl.

Boilerplate that survives trafilatura is partly short lines a site prints under every
article ("Back to top button", "Follow us on …", a sign-off). No list of phrases can know
them all, but they give themselves away by repetition: the same line in the text of many
*different* stories of one site.

:class:`SiteBoilerplate` counts, per site (host without ``www.``/``m.``/``amp.``), the
normalised short lines (``cleaning.normalise_line``, at most ``max_words`` words) of each
extracted text, once per story. Pages whose longest line is the same count as one story, so
re-published or updated copies of an article do not teach the learner its own sentences. A
line seen in ``min_pages`` stories is boilerplate for that site from then on.

It is archive state, kept in ``<archive root>/state/boilerplate.json``
(:meth:`load` / :meth:`save`). How the extract stage uses it, all in the crawling process
(the extractor itself stays pure and picklable):

    state_dir = parse_archive_uri(settings["ARCHIVE_URI"]) / archive.writer.STATE
    learner = SiteBoilerplate.load(state_dir)               # open_spider
    ex = extractor.extract(html, url, site_lines=learner.lines_for(url))   # per page, any process
    learner.observe(url, ex.text)                            # per page, back in the crawler
    learner.save(state_dir)                                  # close_spider

``lines_for`` returns a frozenset (cheap to pickle to a worker); lines learned while a page
is in flight apply from the next page on.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from extraction.cleaning import normalise_line

FILE_NAME = "boilerplate.json"
_FORMAT = 1


def site_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    for prefix in ("www.", "m.", "amp.", "mobile."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


class SiteBoilerplate:
    def __init__(self, *, min_pages: int = 5, max_words: int = 20, max_lines_per_site: int = 5000) -> None:
        if min_pages < 2:
            raise ValueError("min_pages must be at least 2")
        self.min_pages = min_pages
        self.max_words = max_words
        self.max_lines_per_site = max_lines_per_site
        # site -> normalised line -> story keys it was seen in (at most min_pages kept)
        self._seen: dict[str, dict[str, list[str]]] = {}
        self._learned: dict[str, frozenset[str]] = {}

    def observe(self, url: str, text: str) -> None:
        """Count the short lines of one page's extracted text."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            return
        story = hashlib.sha1(max(lines, key=len).encode("utf-8")).hexdigest()[:12]
        site = site_of(url)
        seen = self._seen.setdefault(site, {})
        changed = False
        for key in {normalise_line(line) for line in lines if len(line.split()) <= self.max_words}:
            if not key:
                continue
            stories = seen.setdefault(key, [])
            if story not in stories and len(stories) < self.min_pages:
                stories.append(story)
                changed |= len(stories) == self.min_pages
        if len(seen) > self.max_lines_per_site:
            # forget lines seen only once, oldest first, to keep memory bounded
            for key in [k for k, v in seen.items() if len(v) == 1][: len(seen) - self.max_lines_per_site]:
                del seen[key]
        if changed:
            self._learned[site] = frozenset(k for k, v in seen.items() if len(v) >= self.min_pages)

    def lines_for(self, url: str) -> frozenset[str]:
        """The normalised lines known to be boilerplate on ``url``'s site."""
        return self._learned.get(site_of(url), frozenset())

    def learned(self) -> dict[str, list[str]]:
        return {site: sorted(lines) for site, lines in sorted(self._learned.items()) if lines}

    @classmethod
    def load(cls, state_dir: str | os.PathLike[str], **kwargs: int) -> SiteBoilerplate:
        learner = cls(**kwargs)
        path = Path(state_dir) / FILE_NAME
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") == _FORMAT:
                for site, lines in data["sites"].items():
                    learner._seen[site] = {k: list(v)[: learner.min_pages] for k, v in lines.items()}
                    learner._learned[site] = frozenset(k for k, v in lines.items() if len(v) >= learner.min_pages)
        return learner

    def save(self, state_dir: str | os.PathLike[str]) -> Path:
        """Write atomically (temporary file, fsync, rename)."""
        path = Path(state_dir) / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump({"format": _FORMAT, "sites": self._seen}, f, ensure_ascii=False, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path
