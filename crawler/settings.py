"""Scrapy settings for newsarchive. Component settings are prefixed by component."""

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness
ROBOTSTXT_OBEY = True
USER_AGENT = "newsarchive/0.1 (news archiver; +https://pypi.org/project/newsarchive/)"
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_TIMES = 2

# Bad input: bounded sizes and times
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.logformatter.NewsLogFormatter"
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    # before Scrapy's HttpProxyMiddleware (750), which reads request.meta["proxy"]
    "crawler.middlewares.ProxyMiddleware": 740,
}

ITEM_PIPELINES = {
    "pipelines.warc.WarcPipeline": 50,
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.validate.ValidatePipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
    "pipelines.store.StorePipeline": 400,
}

# ProxyMiddleware: send every request through this HTTP proxy ("" = off). The local news
# web is reached this way, so its pages keep real-looking host names.
PROXY_URL = ""

# Archive (pipelines/store.py, pipelines/dedup.py)
ARCHIVE_URI = "newsarchive-data"
ARCHIVE_BATCH_MAX_RECORDS = 5000
ARCHIVE_BATCH_MAX_BYTES = 64 * 1024 * 1024
ARCHIVE_RUN_ID = ""  # "" = a new id per run, sortable by start time

# Discovery (crawler/spiders/news.py)
NEWS_SITEMAP_MAX_SIZE = 50 * 1024 * 1024  # decompressed size limit of one sitemap

# Dedup (pipelines/dedup.py, archive/index.py, crawler/fingerprint.py)
# Requests are fingerprinted on the canonical URL: one page, one fetch.
REQUEST_FINGERPRINTER_CLASS = "crawler.fingerprint.CanonicalRequestFingerprinter"
DEDUP_NEAR_THRESHOLD = 0.5  # estimated Jaccard similarity of word shingles from which a text is a near copy
DEDUP_NUM_PERM = 128  # MinHash permutations (fixed when an archive's index is created)
DEDUP_LSH_BANDS = 32  # LSH bands of DEDUP_NUM_PERM // DEDUP_LSH_BANDS rows (fixed at creation)
DEDUP_SHINGLE_SIZE = 5  # words per shingle (fixed at creation)
# Extraction (pipelines/extract.py, pipelines/extract_pool.py)
EXTRACT_EXTRACTOR_CLASS = "extraction.Extractor"  # built once per worker process
EXTRACT_WORKERS = None  # worker processes; None = one per core, 0 = inline on the reactor thread
EXTRACT_MAX_IN_FLIGHT = 0  # pages in the pool at once; 0 = 4 per worker
EXTRACT_TIMEOUT = 30.0  # seconds one page may take before its worker is killed and it is quarantined
EXTRACT_WORKER_MAX_TASKS = 0  # restart a worker after this many pages; 0 = never
EXTRACT_SITE_BOILERPLATE = True  # learn lines a site repeats under many stories; drop them (state/boilerplate.json)
EXTRACT_SITE_BOILERPLATE_MIN_PAGES = 5  # ...once seen in this many different stories of one site
# Scrapy's items processed in parallel *per response* (default 100). An article response
# yields exactly one item (crawler/spiders/news.py), other responses only requests, and
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response (~5 ms of reactor CPU per
# page at 100): one is all a response can use. Pages in flight across responses are bounded
# by SCRAPER_SLOT_MAX_ACTIVE_SIZE and EXTRACT_MAX_IN_FLIGHT instead.
CONCURRENT_ITEMS = 1
# Relevance (relevance/, pipelines/relevance.py, crawler/priority.py): the topic defined by
# the seed documents. Articles scoring below the threshold are not stored; article requests
# are fetched best-first.
RELEVANCE_ENABLED = True
RELEVANCE_SEEDS_DIR = ""  # "" = the seeds/ folder shipped with newsarchive
RELEVANCE_THRESHOLD = None  # None = derived from the seeds by leave-one-out
RELEVANCE_PRIORITY_ENABLED = True  # best-first article requests
RELEVANCE_REJECTED_LIST_MAX = 500  # rejected articles listed (URL, score) in the stats
ITEM_PIPELINES["pipelines.relevance.RelevancePipeline"] = 250
SPIDER_MIDDLEWARES = {**globals().get("SPIDER_MIDDLEWARES", {}), "crawler.priority.RelevancePriorityMiddleware": 550}
# WARC stage (pipelines/warc.py): raw request/response of every article page, in WARC files
WARC_ENABLED = True
WARC_MAX_BYTES = 256 * 1024 * 1024  # compressed size at which a WARC file is closed and published
WARC_GZIP_LEVEL = 3  # ISA-L level 0-3: 1 costs half the CPU of 3 for files 5% larger (archive/warc.py)
# Discovery, incremental crawls, politeness, run reports (issue 3: crawler/spiders/news.py,
# crawler/middlewares.py, crawler/report.py, crawler/state.py)
NEWS_INCREMENTAL = True  # skip archived article URLs; conditional GET for feeds, sitemaps, pages
NEWS_CONTACT = ""  # e-mail or URL added to the User-Agent, e.g. "mailto:ops@example.org"
NEWS_RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry (doubling), when no Retry-After
NEWS_RETRY_BACKOFF_MAX = 60.0
NEWS_RETRY_AFTER_MAX = 120.0  # a longer Retry-After is not waited for: the request fails
NEWS_REPORT_ENABLED = True  # write <archive root>/reports/<run_id>.json
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOADER_MIDDLEWARES = {
    **DOWNLOADER_MIDDLEWARES,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "crawler.middlewares.UserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.RedirectLoopMiddleware": 610,
}
EXTENSIONS = {
    "crawler.report.RunReportExtension": 500,
}
# Archive storage and upload (archive/, pipelines/store.py). ARCHIVE_URI also takes
# s3://bucket/prefix, reached with Scrapy's AWS_* settings (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ENDPOINT_URL, AWS_REGION_NAME, AWS_USE_SSL,
# AWS_VERIFY); its local state and spool live under $NEWSARCHIVE_CACHE_DIR (default
# ~/.cache/newsarchive).
ARCHIVE_BATCH_MAX_SECONDS = 300  # close a batch this old even if not full (0 = no age limit)
ARCHIVE_UPLOAD_RETRY_SECONDS = 30  # after a failed upload, wait this long before the next try
ARCHIVE_S3_MAX_ATTEMPTS = 5  # attempts per S3 request (botocore's standard retry mode)
ARCHIVE_S3_MULTIPART_SIZE = 16 * 1024 * 1024  # files above this go up in parts of this size
