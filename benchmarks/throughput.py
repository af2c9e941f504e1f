"""Check throughput, claim latency and daemon memory.

Prints checks/second for a one-shot pass (the same engine the daemon uses) over N stories
served by a local server in another process:

- 304: the server answers If-None-Match with 304 Not Modified;
- 200 unchanged: full body, full extraction, same fingerprint;
- 200 changed: full body, full extraction, a new version stored (first versions);

then, with 100,000 stories in the database, the time to claim a batch of due stories and
the resident memory of a `tracker worker` process.

    python benchmarks/throughput.py --corpus ../shared/corpus [--stories 1000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.config import Settings  # noqa: E402
from tracker.pipeline import claims  # noqa: E402
from tracker.pipeline.engine import CheckEngine  # noqa: E402
from tracker.store.db import Database  # noqa: E402
from tracker.store.models import Story, StoryStatus  # noqa: E402


def load_pages(corpus: Path | None) -> list[bytes]:
    if corpus is None:
        from tracker.demo.site import STAGES, render_page

        return [render_page(stage, 0).encode() for stage in STAGES]
    return [gzip.decompress(p.read_bytes()) for p in sorted((corpus / "html").glob("*.html.gz"))]


def serve(pages: list[bytes], port_queue: multiprocessing.Queue) -> None:
    """The story server (its own process, so it does not compete for our GIL)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if not self.path.startswith("/s/"):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            number = int(self.path.rsplit("/", 1)[1])
            etag = f'"{number}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            body = pages[number % len(pages)]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 256
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def bench_settings(home: Path, database_url: str | None, **extra: object) -> Settings:
    return Settings(
        home=home,
        database_url=database_url,
        allow_private_networks=True,
        per_host_min_delay=0.0,
        per_host_concurrency=16,
        global_concurrency=16,
        respect_robots_txt=False,
        **extra,
    )


def reset_schema(database_url: str | None) -> None:
    if database_url and database_url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def timed_pass(engine: CheckEngine, ids: list[int]) -> tuple[float, dict[str, int]]:
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    for report in engine.check_now(ids):
        outcomes[str(report.outcome)] = outcomes.get(str(report.outcome), 0) + 1
    return time.perf_counter() - started, outcomes


def throughput(args: argparse.Namespace, pages: list[bytes], base_url: str, home: Path) -> None:
    reset_schema(args.database_url)
    settings = bench_settings(home, args.database_url)
    db = Database(settings)
    now = datetime.now(UTC)
    with db.session() as session:
        session.execute(
            insert(Story),
            [_story_row(f"{base_url}/s/{n}", now) for n in range(args.stories)],
        )
        ids = [row[0] for row in session.execute(text("SELECT id FROM stories ORDER BY id"))]

    with CheckEngine(db, settings) as engine:
        seconds, outcomes = timed_pass(engine, ids)
        print(
            f"200 changed (first versions, full extraction): {len(ids) / seconds:7.1f} checks/s"
            f"  ({len(ids)} in {seconds:.2f} s; {outcomes})  [target >= 50]"
        )
        with db.session() as session:  # forget validators: full bodies again, same article
            session.execute(text("UPDATE stories SET etag = NULL, last_modified = NULL"))
        seconds, outcomes = timed_pass(engine, ids)
        print(
            f"200 unchanged article (full extraction):       {len(ids) / seconds:7.1f} checks/s"
            f"  ({len(ids)} in {seconds:.2f} s; {outcomes})  [target >= 50]"
        )
        seconds, outcomes = timed_pass(engine, ids)  # etags are stored now
        print(
            f"304 not modified:                              {len(ids) / seconds:7.1f} checks/s"
            f"  ({len(ids)} in {seconds:.2f} s; {outcomes})  [target >= 400]"
        )
    db.dispose()


def _story_row(url: str, now: datetime, next_check_at: datetime | None = None) -> dict:
    return {
        "url": url,
        "status": StoryStatus.ACTIVE,
        "added_at": now,
        "first_seen_at": now,
        "next_check_at": next_check_at or now,
        "developing": False,
        "promise_state": "none",
        "consecutive_failures": 0,
        "consecutive_gone": 0,
        "version_count": 0,
        "ignore_patterns": [],
    }


def scale(args: argparse.Namespace, base_url: str, home: Path) -> None:
    reset_schema(args.database_url)
    settings = bench_settings(home, args.database_url)
    db = Database(settings)
    now = datetime.now(UTC)
    total = args.scale_stories
    started = time.perf_counter()
    chunk = 5000
    for first in range(0, total, chunk):
        rows = [
            # Spread over the next month; a few hundred are due now.
            _story_row(f"{base_url}/s/{n}", now, now + timedelta(seconds=(n * 26) - 500 * 26))
            for n in range(first, min(total, first + chunk))
        ]
        with db.session() as session:
            session.execute(insert(Story), rows)
    print(f"inserted {total:,} stories in {time.perf_counter() - started:.1f} s")

    latencies = []
    for _ in range(args.repeats):
        with db.session() as session:
            t0 = time.perf_counter()
            ids = claims.claim_due(
                session, worker="bench", now=now, lease=timedelta(minutes=5), limit=64
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            session.rollback()  # leave the stories due for the next repeat
    print(
        f"claim a batch of {len(ids)} due stories among {total:,}: "
        f"median {statistics.median(latencies):.2f} ms, max {max(latencies):.2f} ms "
        f"over {len(latencies)} claims  [target < 20 ms]"
    )
    db.dispose()

    # The daemon's memory with that database: run a real worker for a while.
    env = {
        **os.environ,
        "TRACKER_HOME": str(home),
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_PER_HOST_CONCURRENCY": "16",
        "TRACKER_RESPECT_ROBOTS_TXT": "0",
    }
    if args.database_url:
        env["TRACKER_DATABASE_URL"] = args.database_url
    worker = subprocess.Popen(
        [sys.executable, "-m", "tracker", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = children = peak_pss = children_pss = 0
    try:
        end = time.monotonic() + args.rss_seconds
        while time.monotonic() < end:
            time.sleep(1)
            peak = max(peak, _memory_kb(worker.pid, "VmRSS"))
            peak_pss = max(peak_pss, _pss_kb(worker.pid))
            pids = _children(worker.pid)
            children = max(children, sum(_memory_kb(c, "VmRSS") for c in pids))
            children_pss = max(children_pss, sum(_pss_kb(c) for c in pids))
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    print(
        f"daemon RSS with {total:,} stories: peak {peak / 1024:.0f} MB "
        f"(+ {children / 1024:.0f} MB in extraction processes) over {args.rss_seconds} s"
        "  [target < 300 MB]"
    )
    # RSS counts the pages the extraction processes share with each other (they are forked
    # from one preloaded server) once per process; PSS splits shared pages between their
    # users, so the sum is what the daemon really costs the machine.
    print(
        f"daemon PSS with {total:,} stories: peak {peak_pss / 1024:.0f} MB "
        f"+ {children_pss / 1024:.0f} MB in extraction processes "
        f"= {(peak_pss + children_pss) / 1024:.0f} MB in all"
    )


def _memory_kb(pid: int, field: str, source: str = "status") -> int:
    """A memory figure (kB) from /proc/PID/status or smaps_rollup; 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    return _memory_kb(pid, "Pss", "smaps_rollup")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    nested = [grandchild for child in found for grandchild in _children(child)]
    return found + nested


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="the corpus (default: the demo story pages)")
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--scale-stories", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--rss-seconds", type=int, default=20)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()

    pages = load_pages(args.corpus)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(pages, ports), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=10)}"
    print(
        f"{len(pages)} distinct pages, {args.stories} stories, {os.cpu_count()} cores, "
        f"database: {args.database_url or 'SQLite'}"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            throughput(args, pages, base_url, Path(tmp) / "a")
            if not args.skip_scale:
                scale(args, base_url, Path(tmp) / "b")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
