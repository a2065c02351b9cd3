"""Crawl throughput and memory: the whole pipeline against its baselines, on this machine.

    python benchmarks/crawl.py [--pages 3000] [--modes pool,inline,scrapy,extract] [--repeat 3]

Serves the local news web (``newsweb``) with about N article pages from a separate process
(a fresh one per crawl, so its CPU is measured per crawl), and runs, each crawl in its own
subprocess (Twisted's reactor cannot restart):

- ``pool``: the whole pipeline with the project's settings (extraction in worker processes),
  into a temporary archive, with a job directory as ``newsarchive crawl`` has by default
  (the frontier on disk);
- ``inline``: the same with ``EXTRACT_WORKERS=0`` (extraction on the reactor thread);
- ``scrapy``: the same spider with no item pipelines and no job directory (plain Scrapy:
  fetching and building pages only);
- ``extract``: extraction alone, one process on one core, over the same pages (rendered
  in-process; only the extractor's CPU time is counted);
- ``extract-all``: the same on every core at once, one process per core: the CPU a page
  costs when every core is busy, as in the pipeline (on a shared host, more than alone).

It prints pages/s, CPU seconds per page and peak RSS for each, then the machine limit
``cores / (CPU per page of scrapy, its server included, + CPU per page of extract)`` and the
pipeline's share of it, and the same limit with ``extract-all`` in place of ``extract``.
With ``--repeat`` above 1 it also prints the pool's share of the limit measured in each
round (the modes of one round run minutes apart at most) and their median.
RSS: "crawl" is the crawling process alone (its own exact peak,
``ru_maxrss``); "workers" the peak of the sum of its child processes (the extraction workers
and multiprocessing's resource tracker), and "total" the peak of the crawling process and
its children together, both sampled every 0.2 s.
Everything runs under ``nice``; on a shared machine single runs are noisy (seen here: the
same mode 30% slower from one run to the next), so the modes run round-robin ``--repeat``
times and each mode's best round is reported, every round listed under the table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

try:  # the repository root is on sys.path (python -m benchmarks.x, tests): see benchmarks/_setup.py
    from benchmarks._setup import ROOT
except ModuleNotFoundError:  # python benchmarks/x.py: only this folder is
    from _setup import ROOT
MODES = ("pool", "inline", "scrapy", "extract", "extract-all")
EXTRACT_MODES = ("extract", "extract-all")
DESCRIPTION = {
    "pool": "whole pipeline, extraction pool",
    "inline": "whole pipeline, extraction inline",
    "scrapy": "(b) Scrapy alone, no pipelines",
    "extract": "(c) extraction alone, 1 core",
    "extract-all": "(c) on every core at once",
}


def _cpu(r: resource.struct_rusage) -> float:
    return r.ru_utime + r.ru_stime


# -- children --------------------------------------------------------------------------


def child_crawl(mode: str, sources: str, proxy: str, archive: str, index: str | None = None) -> dict[str, Any]:
    from archive.writer import STATE
    from crawler.runner import crawl_settings, run_crawl

    if index:
        # start from a filled dedup index (benchmarks/dedup.py): the crawl then runs with it open
        state = Path(archive) / STATE
        state.mkdir(parents=True, exist_ok=True)
        for part in Path(index).parent.glob(Path(index).name + "*"):
            shutil.copyfile(part, state / part.name.replace(Path(index).name, "index.sqlite"))

    overrides: dict[str, Any] = {
        "PROXY_URL": proxy,
        # as in `newsarchive demo`: the local web is ours
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "LOG_LEVEL": "WARNING",
    }
    if mode in ("pool", "inline"):
        # as `newsarchive crawl` runs by default: a job directory, so the frontier (requests
        # waiting to be fetched) is on disk, not in memory; Scrapy alone runs as plain Scrapy
        overrides["JOBDIR"] = str(Path(archive) / STATE / "job")
    if mode == "inline":
        overrides["EXTRACT_WORKERS"] = 0
    elif mode == "scrapy":
        overrides["ITEM_PIPELINES"] = {}
    stats = run_crawl(crawl_settings(archive, overrides), sources=sources)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "pages": stats.get("news/pages", 0),
        "stored": stats.get("archive/stored", 0),
        "quarantined": stats.get("archive/quarantined", 0),
        "workers": stats.get("extract/workers", 0),
        "finish_reason": stats.get("finish_reason"),
        "seconds": stats["elapsed_time_seconds"],
        "cpu_crawl": _cpu(me),
        "cpu_workers": _cpu(kids),
        "rss_crawl_mb": me.ru_maxrss / 1024,
    }


def child_extract(size: int) -> dict[str, Any]:
    from urllib.parse import urlsplit

    from extraction import ExtractionError, Extractor
    from newsweb import NewsWeb

    web = NewsWeb(size=size)
    extractor = Extractor()
    cpu = wall = 0.0
    pages = 0
    for article in web.articles:
        if article.disallowed or article.fault:
            continue
        parts = urlsplit(article.url)
        _, headers, body = web.render(parts.netloc, parts.path + (f"?{parts.query}" if parts.query else ""))
        html = body.decode("utf-8")
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            extractor.extract(html, article.url)
        except ExtractionError:
            pass
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        pages += 1
    me = resource.getrusage(resource.RUSAGE_SELF)
    return {"pages": pages, "seconds": wall, "cpu_extract": cpu, "rss_crawl_mb": me.ru_maxrss / 1024}


# -- the parent ------------------------------------------------------------------------


class _Server:
    """``python -m newsweb`` in its own process; CPU counted from when it is ready."""

    def __init__(self, size: int, sources: Path) -> None:
        import psutil

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsweb", "--port", "0", "--size", str(size), "--write-sources", str(sources)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            self.proc.kill()
            raise RuntimeError(f"newsweb did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].split()[0]
        self._ps = psutil.Process(self.proc.pid)
        self._cpu0 = self.cpu()

    def cpu(self) -> float:
        t = self._ps.cpu_times()
        return t.user + t.system

    def used(self) -> float:
        return self.cpu() - self._cpu0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _RssSampler(threading.Thread):
    """Peak RSS of the descendants of a process (its extraction workers), and of the process
    with them, sampled."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        import psutil

        self._proc = psutil.Process(pid)
        self._interval = interval
        self._done = threading.Event()
        self.peak_children = 0
        self.peak_total = 0

    def _rss(self, proc: Any) -> int:
        import psutil

        try:
            return int(proc.memory_info().rss)
        except psutil.Error:
            return 0

    def run(self) -> None:
        import psutil

        while not self._done.is_set():
            try:
                children = sum(self._rss(p) for p in self._proc.children(recursive=True))
            except psutil.Error:
                return
            self.peak_children = max(self.peak_children, children)
            self.peak_total = max(self.peak_total, children + self._rss(self._proc))
            self._done.wait(self._interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _run_child(args: list[str], log: Path) -> dict[str, Any]:
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, __file__, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True
        )
        sampler = _RssSampler(proc.pid)
        sampler.start()
        out, _ = proc.communicate()
        sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:2]} failed ({proc.returncode}); see {log}:\n{log.read_text()[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_workers_mb"] = sampler.peak_children / 2**20
    result["rss_total_mb"] = sampler.peak_total / 2**20
    return result


def run_mode(mode: str, size: int, tmp: Path, index: Path | None = None) -> dict[str, Any]:
    log = tmp / f"{mode}.log"
    if mode == "extract":
        result = _run_child(["--child", "extract", "--size", str(size)], log)
        result["cpu"] = result["cpu_extract"]
        return result
    if mode == "extract-all":
        # (c) once per core, all at the same time: what one core gives when every core works
        # (on a shared host, less than alone; the machine limit assumes it is the same)
        cores = os.cpu_count() or 1
        with ThreadPoolExecutor(cores) as pool:
            parts = list(pool.map(lambda i: _run_child(["--child", "extract", "--size", str(size)], tmp / f"{mode}-{i}.log"),
                                  range(cores)))
        pages = sum(r["pages"] for r in parts)
        cpu = sum(r["cpu_extract"] for r in parts)
        return {"pages": pages // cores, "seconds": max(r["seconds"] for r in parts), "cpu": cpu / cores,
                "cpu_extract": cpu / cores, "rss_crawl_mb": max(r["rss_crawl_mb"] for r in parts)}
    sources = tmp / f"{mode}-sources.toml"
    server = _Server(size, sources)
    try:
        args = ["--child", mode, "--sources", str(sources), "--proxy", server.url, "--archive", str(tmp / f"{mode}-archive")]
        result = _run_child([*args, "--index", str(index)] if index else args, log)
        result["cpu_server"] = server.used()
    finally:
        server.stop()
    result["cpu"] = result["cpu_crawl"] + result["cpu_workers"] + result["cpu_server"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=3000, help="article pages to crawl (default: %(default)s)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of every mode, run round-robin; each mode's best round is reported "
                        "(default: %(default)s; the machine is shared and single runs are noisy)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--proxy", help=argparse.SUPPRESS)
    parser.add_argument("--archive", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help="start each crawl's archive from a copy of this dedup index "
                        "(e.g. one filled by benchmarks/dedup.py), to measure the crawl with a big index open")
    args = parser.parse_args(argv)

    if args.child == "extract":
        print(json.dumps(child_extract(args.size)))
        return 0
    if args.child:
        print(json.dumps(child_crawl(args.child, args.sources, args.proxy, args.archive, args.index)))
        return 0

    from newsweb import NewsWeb

    os.nice(10)  # inherited by every child
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    fixed = sum(1 for a in NewsWeb(size=0).articles if not a.disallowed and not a.fault)
    size = max(args.pages - fixed, 0)
    cores = os.cpu_count() or 1
    print(
        f"crawl benchmark: {size + fixed} article pages of the local news web (newsweb --size {size}), "
        f"{cores} cores, load average {os.getloadavg()[0]:.1f} at start, run under nice"
    )
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for round_ in range(args.repeat):
        for mode in modes:  # round-robin: a disturbance on the shared machine hits every mode alike
            with tempfile.TemporaryDirectory(prefix="newsarchive-bench-crawl-") as tmp:
                r = run_mode(mode, size, Path(tmp), args.index if mode not in EXTRACT_MODES else None)
            r["load"] = os.getloadavg()[0]
            runs[mode].append(r)
    # each mode's least disturbed run: the fastest (for extract alone, the least CPU per page)
    results = {
        mode: max(rs, key=lambda r: r["pages"] / r["seconds"]) if mode not in EXTRACT_MODES
        else min(rs, key=lambda r: r["cpu"] / (r["pages"] or 1))
        for mode, rs in runs.items()
    }

    print()
    print(f"{'run':36} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU ms/page':>12} "
          f"{'cores used':>10} {'RSS crawl MB':>13} {'workers MB':>10} {'total MB':>9} {'load':>5}")
    for mode, r in results.items():
        pages = r["pages"] or 1
        print(
            f"{DESCRIPTION[mode]:36} {r['pages']:>6} {r['seconds']:>7.1f} {r['pages'] / r['seconds']:>8.1f} "
            f"{1000 * r['cpu'] / pages:>12.1f} {r['cpu'] / r['seconds']:>10.2f} {r['rss_crawl_mb']:>13.0f} "
            f"{r.get('rss_workers_mb', 0):>10.0f} {r.get('rss_total_mb', 0):>9.0f} {r['load']:>5.1f}"
        )
    print("(CPU = crawl process + its children (extraction workers) + the newsweb server; extract: the extractor's CPU only;\n"
          " load = 1-minute load average after the run: the machine is shared, everything here runs under nice)")
    if args.repeat > 1:
        print(f"each row: the best of {args.repeat} rounds (modes run round-robin); every round, pages/s "
              f"(extract: CPU ms/page):")
        for mode, rs in runs.items():
            figures = [f"{1000 * r['cpu'] / (r['pages'] or 1):.1f}" if mode in EXTRACT_MODES else f"{r['pages'] / r['seconds']:.1f}"
                       for r in rs]
            print(f"  {mode:8} {'  '.join(figures)}")
    for mode in ("pool", "inline", "scrapy"):
        if r := results.get(mode):
            print(
                f"{mode}: crawl {1000 * r['cpu_crawl'] / (r['pages'] or 1):.1f} ms/page, "
                f"children {1000 * r['cpu_workers'] / (r['pages'] or 1):.1f}, server {1000 * r['cpu_server'] / (r['pages'] or 1):.1f}; "
                f"stored {r['stored']}, quarantined {r['quarantined']}, workers {r['workers']}, {r['finish_reason']}"
            )
    print()
    if "pool" in results and "inline" in results:
        pool, inline = results["pool"], results["inline"]
        ratio = (pool["pages"] / pool["seconds"]) / (inline["pages"] / inline["seconds"])
        print(f"pool vs inline: {ratio:.2f}x (target >= 1.5x)")
    if "scrapy" in results and "extract" in results:
        b = results["scrapy"]["cpu"] / (results["scrapy"]["pages"] or 1)
        c = results["extract"]["cpu"] / (results["extract"]["pages"] or 1)
        limit = cores / (b + c)
        print(f"machine limit: {cores} cores / ({1000 * b:.1f} + {1000 * c:.1f} ms CPU per page) = {limit:.1f} pages/s")
        if "pool" in results:
            ours = results["pool"]["pages"] / results["pool"]["seconds"]
            print(f"pool: {ours:.1f} pages/s = {100 * ours / limit:.0f}% of the machine limit (target >= 80%)")
            pool = results["pool"]
            bound = cores / (pool["cpu"] / (pool["pages"] or 1))
            print(
                f"pool, CPU-bound: {cores} cores / {1000 * pool['cpu'] / (pool['pages'] or 1):.1f} ms CPU per page = "
                f"{bound:.1f} pages/s = {100 * bound / limit:.0f}% of the machine limit (what the pipeline reaches "
                f"with every core to itself; it used {pool['cpu'] / pool['seconds']:.2f} of {cores} cores here)"
            )
    if args.repeat > 1 and all(m in runs for m in ("pool", "scrapy", "extract")):
        # the host's speed drifts between minutes: each round's pool against the limit
        # measured in that same round is a fairer pairing than best against best
        shares = []
        for pool_r, scrapy_r, extract_r in zip(runs["pool"], runs["scrapy"], runs["extract"]):
            limit_r = cores / (scrapy_r["cpu"] / (scrapy_r["pages"] or 1) + extract_r["cpu"] / (extract_r["pages"] or 1))
            shares.append(100 * (pool_r["pages"] / pool_r["seconds"]) / limit_r)
        print(f"pool's share of the limit measured in the same round: {'  '.join(f'{x:.0f}%' for x in shares)}; "
              f"median {statistics.median(shares):.0f}%")
    if "scrapy" in results and "extract-all" in results:
        b = results["scrapy"]["cpu"] / (results["scrapy"]["pages"] or 1)
        c_all = results["extract-all"]["cpu"] / (results["extract-all"]["pages"] or 1)
        loaded = cores / (b + c_all)
        print(f"machine limit with every core busy: {cores} cores / ({1000 * b:.1f} + {1000 * c_all:.1f} ms CPU per page, "
              f"extraction on all cores at once) = {loaded:.1f} pages/s")
        if "pool" in results:
            ours = results["pool"]["pages"] / results["pool"]["seconds"]
            print(f"pool: {ours:.1f} pages/s = {100 * ours / loaded:.0f}% of it")
    if "pool" in results:
        print(f"pool: peak RSS of the crawling process {results['pool']['rss_crawl_mb']:.0f} MB (target <= 400 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
