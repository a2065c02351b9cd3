"""The raw HTTP response of a fetched page, and where it is kept in the archive's WARC files."""

from pydantic import BaseModel, ConfigDict, Field


class HttpExchange(BaseModel):
    """What went over the wire for one page: the request sent and the response received.

    ``body`` is the response body as Scrapy hands it over: transfer and content encodings
    (chunked, gzip, …) already undone. The WARC stage writes it to a WARC file and then drops
    it from the item.
    """

    model_config = ConfigDict(extra="forbid")

    method: str = "GET"
    request_headers: list[tuple[str, str]] = Field(default_factory=list)
    protocol: str = "HTTP/1.1"
    status: int
    headers: list[tuple[str, str]] = Field(default_factory=list)
    body: bytes


class RawRef(BaseModel):
    """Where the raw response of a page is archived: one record of a published WARC file.

    ``offset`` and ``length`` delimit the response record's own gzip member in the file, so
    a reader can fetch it with one ranged read and decompress it on its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    warc: str = Field(description="Archive key of the WARC file (warc/date=YYYY-MM-DD/<name>.warc.gz)")
    offset: int = Field(ge=0, description="Byte offset of the response record in the WARC file")
    length: int = Field(gt=0, description="Bytes of the response record (one gzip member)")
    record_id: str = Field(description="WARC-Record-ID of the response record, e.g. <urn:uuid:…>")
