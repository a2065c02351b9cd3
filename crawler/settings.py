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
