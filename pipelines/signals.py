"""Signals between pipeline stages (sent with ``crawler.signals``)."""

archive_files_requested = object()
"""Sent by the store stage before it publishes a batch, and when it closes. A handler
returns a list of :class:`archive.warc.ClosedFile` (closed files it wrote, such as WARC
files of raw responses); the store stage publishes them first, so that no published
record ever refers to a file a reader cannot see yet."""
