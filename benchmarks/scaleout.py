"""Scale-out on one PostgreSQL: `tracker worker` ×1, ×2, ×4, and claim latency at 1,000,000.

1. Workers. N stories (default 2,000) on a local server in its own process
   (ThreadingHTTPServer, one page per story, so per-host politeness is off:
   TRACKER_PER_HOST_MIN_DELAY=0, TRACKER_PER_HOST_CONCURRENCY=16; loopback is allowed with
   TRACKER_ALLOW_PRIVATE_NETWORKS=1, the documented setting, since the tracker refuses
   private addresses by default). The mix of answers, by story number:

   - 80%: 304 Not Modified to the conditional GET (the page has an ETag);
   - 15%: 200, article unchanged (no validators; the page's chrome changes every request);
   - 5%:  200, article changed (each request serves the next stage of a developing story).

   A warm-up round stores every story's first version and ETag, so the measured rounds see
   the mix above. Each round starts K real `tracker worker` processes (the command users
   run, default settings otherwise), waits until each has started and gone idle, makes every
   story due at once (leases cleared), and waits until the checks table holds a check of
   every story; then SIGTERM, and each worker must exit 0 having logged its clean stop, with
   no lease left behind. Every story
   has a fixed one-day interval (`tracker set --interval 1d`), so a story checked twice in a
   round can only be two workers holding it at once: "duplicates" must be 0, counted both
   in the checks table and as repeated GETs at the server.

   checks/s is the stories of the round over the time from its first check's start to its
   last check's end (from the checks table). CPU/check is the CPU time of the workers and
   their extraction processes over the round, per check (start-up left out; the total with
   it is printed below the table, with the server's and PostgreSQL's CPU per check).

2. Claims. The stories table filled with 100,000 and then 1,000,000 stories in one
   INSERT … SELECT FROM generate_series (75% active with next checks spread over a month,
   1,000 of them due now and 128 of those leased by live workers; 20% retired, 5% paused;
   pages 90% full, as a live table's are rather than a fresh one's), ANALYZEd. Then timed
   many times: `claims.claim_due` (the function a worker's dispatch tick calls, batch of
   `dispatch_batch` = 64; each claim rolled back so the same stories stay due),
   `claims.reclaim_from_dead_workers` (each worker, once a minute) and
   `claims.queue_lag_seconds` (the daemon's summary, /healthz, /metrics). Timed as
   benchmarks/throughput.py times a claim: the call in an open session, so a connection's
   check-out and ping count, the commit not. --verbose prints EXPLAIN (ANALYZE, BUFFERS) of
   each statement; --schema-revision 0010 times them on the schema before the leased-stories
   index (migration 0011), for comparison.

    python benchmarks/scaleout.py [--stories 2000] [--workers 1,2,4]
        [--claim-sizes 100000,1000000] [--corpus ../shared/corpus] [--verbose]
        [--schema-revision 0010] [--skip-workers] [--skip-claims]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_scaleout]

Everything happens in a schema of its own (``scaleout_bench``), dropped at the end; the
database is created if it does not exist. Run it on a quiet machine: on 2 cores, workers
×4 share the same CPUs as ×2 (and the server), so it cannot scale linearly.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import json
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.config import Settings  # noqa: E402
from tracker.pipeline import claims  # noqa: E402
from tracker.services.stories import add_stories  # noqa: E402
from tracker.store.db import Database, alembic_config, upgrade  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_scaleout"
SCHEMA = "scaleout_bench"
CHANGED, UNCHANGED, NOT_MODIFIED = "200 changed", "200 unchanged", "304"
DAY = 86_400
nan = float("nan")
BATCH = 64  # the default dispatch_batch
ERROR_OUTCOMES = ("error", "empty", "blocked")
DUE_NOW, LEASED_NOW = 1000, 128  # in the claims part: stories due, and leased among them
FILLFACTOR = 90  # percent of each page the claims part's fill uses (see fill_stories)


def kind_of(story: int) -> str:
    """What the server answers for story number `story` (1 in 20 changed, 3 unchanged)."""
    slot = story % 20
    return CHANGED if slot == 0 else UNCHANGED if slot <= 3 else NOT_MODIFIED


# -- the story server ------------------------------------------------------------------------


def load_pages(corpus: Path | None) -> list[bytes] | None:
    if corpus is None:
        return None  # the demo story's pages, rendered per request
    return [gzip.decompress(p.read_bytes()) for p in sorted((corpus / "html").glob("*.html.gz"))]


def demo_page(story: int, stage: int, chrome_round: int) -> bytes:
    from tracker.demo.site import STAGES, render_page

    page = render_page(STAGES[stage % len(STAGES)], chrome_round)
    # Each story is its own page (the demo's canonical link would name one page for all).
    return page.replace(
        "https://example.org/iraqslogger/us-iran-heated-exchange", f"/s/{story}"
    ).encode()


def serve(pages: list[bytes] | None, port_queue: multiprocessing.Queue) -> None:
    """The story server (its own process, so it does not compete for the workers' GIL)."""
    lock = threading.Lock()
    served: Counter[int] = Counter()  # every request ever: changed pages move on with it
    hits: Counter[int] = Counter()  # GETs since the last /_reset

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/_hits":
                with lock:
                    self._send(200, json.dumps(hits).encode(), "application/json")
                return
            if self.path == "/_reset":
                with lock:
                    hits.clear()
                self._send(200, b"", "text/plain")
                return
            if not self.path.startswith("/s/"):
                self._send(404, b"", "text/plain")  # robots.txt too: everything allowed
                return
            story = int(self.path.rsplit("/", 1)[1])
            with lock:
                served[story] += 1
                hits[story] += 1
                round_ = served[story]
            kind = kind_of(story)
            etag = f'"{story}"'
            if kind == NOT_MODIFIED and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            if pages is not None and kind != CHANGED:
                body = pages[story % len(pages)]
            else:
                stage = story + round_ if kind == CHANGED else story
                body = demo_page(story, stage, round_)
            validator = etag if kind == NOT_MODIFIED else None
            self._send(200, body, "text/html; charset=utf-8", validator)

        def _send(self, status: int, body: bytes, kind: str, etag: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 512
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def server_get(base_url: str, path: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(base_url + path, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


# -- the database ----------------------------------------------------------------------------


def schema_url(database_url: str) -> str:
    """The database URL with the benchmark's own schema first on the search path."""
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    return url.render_as_string(hide_password=False)


def fresh_schema(database_url: str) -> None:
    url = make_url(database_url)
    if not url.get_backend_name().startswith("postgresql"):
        raise SystemExit("this benchmark needs PostgreSQL (--database-url postgresql+psycopg://…)")
    maintenance = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    maintenance.dispose()
    with admin(database_url) as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))


def drop_schema(database_url: str) -> None:
    with admin(database_url) as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))


@contextlib.contextmanager
def admin(database_url: str) -> Iterator[Any]:
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def open_db(database_url: str, home: Path) -> Database:
    return Database(Settings(home=home, database_url=schema_url(database_url)))


# -- part 1: workers -------------------------------------------------------------------------


def tracker_command() -> list[str]:
    """`tracker worker` as installed next to this Python (python -m tracker otherwise)."""
    script = Path(sys.executable).parent / "tracker"
    if script.exists():
        return [str(script), "worker"]
    return [sys.executable, "-m", "tracker", "worker"]


def worker_env(database_url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        {
            "TRACKER_HOME": str(home),
            "TRACKER_DATABASE_URL": schema_url(database_url),
            "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
            "TRACKER_PER_HOST_MIN_DELAY": "0",
            "TRACKER_PER_HOST_CONCURRENCY": "16",
        }
    )
    return env


def add_the_stories(db: Database, base_url: str, count: int) -> None:
    with db.session() as session:
        add_stories(
            session,
            [f"{base_url}/s/{n}" for n in range(count)],
            now=datetime.now(UTC),
            allow_private_networks=True,
        )
        # One check a day: a second check of a story within a round is a double claim.
        session.execute(text("UPDATE stories SET fixed_interval_seconds = :day"), {"day": DAY})


def schedule_all(db: Database, when: datetime) -> None:
    """Every story's next check at `when`, its lease (if any) cleared."""
    with db.session() as session:
        session.execute(
            text(
                "UPDATE stories SET next_check_at = :when, lease_owner = NULL, "
                "lease_expires_at = NULL"
            ),
            {"when": when},
        )


def wait_until_started(
    pids: list[int], log_paths: list[Path], timeout: float = 120.0
) -> float | None:
    """Seconds until every worker has logged its start and its processes (the extraction
    processes' server included) have gone idle: nothing due, start-up CPU spent. None if a
    worker exited or the time ran out."""
    started = time.monotonic()
    previous = tree_cpu(pids)
    while time.monotonic() - started < timeout:
        time.sleep(1.0)
        current = tree_cpu(pids)
        logged = all(" started" in path.read_text(errors="replace") for path in log_paths)
        if logged and current - previous < 0.05 * len(pids):
            return time.monotonic() - started
        if any(not Path(f"/proc/{pid}").exists() for pid in pids):
            return None
        previous = current
    return None


def tree_cpu(pids: list[int], *, children: bool = True) -> float:
    """CPU seconds used so far by these processes and their descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            if children:
                descendants = [
                    int(c)
                    for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()
                ]
                total += round(tree_cpu(descendants) * ticks)
    return total / ticks


def postgres_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL processes on this machine (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
    return sum(tree_cpu([pid], children=False) for pid in pids)


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, summed over its CPUs."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # user … steal (guest time is already in user)
    ticks = os.sysconf("SC_CLK_TCK")
    return (total - idle) / ticks, total / ticks


def cpu_sample(checked: int, workers: list[int], server: int) -> dict[str, float]:
    busy, total = machine_cpu()
    return {
        "checked": checked,
        "at": time.monotonic(),
        "workers": tree_cpu(workers),
        "mains": tree_cpu(workers, children=False),
        "server": tree_cpu([server]),
        "postgres": postgres_cpu(),
        "busy": busy,
        "total": total,
    }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_round(
    label: str,
    workers: int,
    *,
    db: Database,
    base_url: str,
    server_pid: int,
    env: dict[str, str],
    logs: Path,
    stories: int,
    timeout: float,
) -> dict[str, Any]:
    schedule_all(db, datetime.now(UTC) + timedelta(days=1))  # nothing due while they start
    cpu_before = children_cpu()
    log_paths = [logs / f"{label.replace(' ', '-')}-{i}.log" for i in range(workers)]
    processes = []
    for path in log_paths:
        with path.open("w") as log_file:
            processes.append(
                subprocess.Popen(
                    tracker_command(), env=env, stdout=log_file, stderr=subprocess.STDOUT
                )
            )
    pids = [p.pid for p in processes]
    startup = wait_until_started(pids, log_paths)
    server_get(base_url, "/_reset")
    round_started = datetime.now(UTC)
    schedule_all(db, round_started)  # every story due at once
    launched = time.monotonic()

    def checked() -> int:
        with db.read_session() as session:
            return session.scalar(
                text("SELECT count(DISTINCT story_id) FROM checks WHERE started_at >= :t"),
                {"t": round_started},
            )

    done = False
    first_seen: dict[str, float] | None = None  # CPU used when the first checks were seen
    last_seen: dict[str, float] | None = None  # … and when all were
    try:
        deadline = launched + timeout
        while startup is not None and time.monotonic() < deadline:
            count = checked()
            if first_seen is None:
                first_seen = cpu_sample(count, pids, server_pid)
            if count >= stories:
                done = True
                last_seen = cpu_sample(count, pids, server_pid)
                break
            if any(p.poll() is not None for p in processes):
                break
            time.sleep(0.2)
        wall = time.monotonic() - launched
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        exit_codes = []
        for process in processes:
            try:
                exit_codes.append(process.wait(timeout=60))
            except subprocess.TimeoutExpired:
                process.kill()
                exit_codes.append(process.wait())
    cpu = children_cpu() - cpu_before
    steady = dict.fromkeys(("workers", "mains", "server", "postgres", "busy", "main_cores"), nan)
    if first_seen and last_seen and last_seen["checked"] > first_seen["checked"]:
        checks = last_seen["checked"] - first_seen["checked"]
        steady = {k: (last_seen[k] - first_seen[k]) / checks for k in steady if k in last_seen}
        steady["busy"] = (last_seen["busy"] - first_seen["busy"]) / (
            last_seen["total"] - first_seen["total"]
        )
        # A worker's own process (fetching, scheduling, writing) is one Python process: it
        # cannot use much more than one core whatever the machine has.
        steady["main_cores"] = (last_seen["mains"] - first_seen["mains"]) / (
            (last_seen["at"] - first_seen["at"]) * workers
        )
    texts = [path.read_text(errors="replace") for path in log_paths]
    clean = all(
        code == 0 and "stopped" in log and "Traceback" not in log
        for code, log in zip(exit_codes, texts, strict=True)
    )
    with db.read_session() as session:
        row = session.execute(
            text(
                "SELECT count(*), count(DISTINCT story_id), min(started_at), "
                "max(started_at + duration_ms * interval '1 millisecond') "
                "FROM checks WHERE started_at >= :t"
            ),
            {"t": round_started},
        ).one()
        outcomes = Counter(
            dict(
                session.execute(
                    text(
                        "SELECT outcome, count(*) FROM checks WHERE started_at >= :t "
                        "GROUP BY outcome"
                    ),
                    {"t": round_started},
                ).all()
            )
        )
        per_worker = sorted(
            n
            for (n,) in session.execute(
                text("SELECT count(*) FROM checks WHERE started_at >= :t GROUP BY worker"),
                {"t": round_started},
            )
        )
        leases_left = session.scalar(
            text("SELECT count(*) FROM stories WHERE lease_owner IS NOT NULL")
        )
    total, distinct, first, last = row
    hits = server_get(base_url, "/_hits")
    span = (last - first).total_seconds() if first and last else float("nan")
    return {
        "label": label,
        "workers": workers,
        "done": done,
        "checks": total,
        "stories": distinct,
        "rate": distinct / span if span else float("nan"),
        "span": span,
        "wall": wall,
        "startup": startup if startup is not None else nan,
        "duplicates": total - distinct,
        "server_duplicates": sum(1 for n in hits.values() if n > 1),
        "errors": sum(outcomes[o] for o in ERROR_OUTCOMES),
        "outcomes": dict(outcomes),
        "per_worker": per_worker,
        "cpu_per_check": steady["workers"],
        "steady_cpu": steady,
        "cpu_seconds": cpu,
        "clean": clean and leases_left == 0,
        "exit_codes": exit_codes,
        "leases_left": leases_left,
        "logs": [str(p) for p in log_paths],
    }


def print_rounds(results: list[dict[str, Any]]) -> None:
    print(
        f"{'workers':<12} {'checks/s':>8}  {'round':>7}  {'start-up':>8}  {'duplicates':>10}  "
        f"{'errors':>6}  {'CPU/check':>9}  {'clean exit':>10}  checks per worker"
    )
    for r in results:
        print(
            f"{r['label']:<12} {r['rate']:8.1f}  {r['wall']:5.1f} s  {r['startup']:6.1f} s  "
            f"{r['duplicates']:>5} / {r['server_duplicates']:<2}  {r['errors']:>6}  "
            f"{r['cpu_per_check'] * 1000:6.1f} ms  {'yes' if r['clean'] else 'NO':>10}  "
            f"{r['per_worker']}"
        )
    for r in results:
        cpu = r["steady_cpu"]
        print(
            f"  {r['label']}: {r['outcomes']}; CPU per check: workers "
            f"{cpu['workers'] * 1000:.1f} ms (their own processes "
            f"{cpu['mains'] * 1000:.1f} ms, each {cpu['main_cores']:.2f} cores busy; the rest "
            f"in extraction), server {cpu['server'] * 1000:.1f} ms, PostgreSQL "
            f"{cpu['postgres'] * 1000:.1f} ms; the machine's CPUs {cpu['busy']:.0%} busy "
            f"(anything else running included); the workers' CPU in all, start-up and "
            f"shutdown included: {r['cpu_seconds']:.1f} s"
        )
        if not r["done"]:
            print(f"  {r['label']}: NOT every story was checked ({r['stories']} of them)")
        if not r["clean"]:
            print(
                f"  {r['label']}: exit codes {r['exit_codes']}, {r['leases_left']} leases "
                f"left; logs: {r['logs']}"
            )


def workers_part(args: argparse.Namespace, home: Path) -> None:
    pages = load_pages(args.corpus)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(pages, ports), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=10)}"
    try:
        fresh_schema(args.database_url)
        db = open_db(args.database_url, home)
        add_the_stories(db, base_url, args.stories)
        env = worker_env(args.database_url, home)
        logs = home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        mix = Counter(kind_of(n) for n in range(args.stories))
        print(
            f"\n== workers: {args.stories:,} stories due; answers {dict(mix)}; "
            f"pages: {'corpus' if pages else 'the demo story'}; command: "
            f"{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(tracker_command()))}"
        )
        common = {
            "db": db,
            "base_url": base_url,
            "server_pid": server.pid,
            "env": env,
            "logs": logs,
            "stories": args.stories,
            "timeout": args.round_timeout,
        }
        warm_up = max(args.workers)
        results = [run_round(f"warm-up ×{warm_up}", warm_up, **common)]
        for count in args.workers:
            results.append(run_round(f"×{count}", count, **common))
        print_rounds(results)
        print(
            "warm-up: every story's first version and ETag, not a measure. The workers are "
            "started (start-up: until each has logged its start and gone idle) before the "
            "stories are made due. checks/s: stories / (last check's end - first check's "
            "start); round: from making them due to seeing the last check; duplicates: "
            "stories checked twice in the round (checks table / GETs at the server); "
            "CPU/check: the workers' and their extraction processes' CPU over the round, "
            "per check"
        )
        db.dispose()
    finally:
        server.terminate()
        server.join(5)


# -- part 2: claim latency -------------------------------------------------------------------

FILL = """
INSERT INTO stories (url, status, added_by, added_at, first_seen_at, last_checked_at,
    next_check_at, schedule_reason, developing, promise_state, lease_owner, lease_expires_at,
    etag, consecutive_failures, consecutive_gone, version_count, ignore_patterns)
SELECT
    'https://site' || (n % 5000) || '.example/news/' || n,
    CASE WHEN n % 20 < 15 THEN 'active' WHEN n % 20 < 19 THEN 'retired' ELSE 'paused' END,
    'user',
    :now - interval '60 days',
    :now - interval '30 days',
    :now - interval '1 hour',
    CASE
        WHEN n % 20 >= 15 AND n % 20 < 19 THEN NULL  -- retired: no next check
        WHEN rank < :due THEN :now - rank * interval '1 second'  -- due now
        ELSE :now + (rank * (2592000.0 / :total)) * interval '1 second'  -- the next 30 days
    END,
    'age 2 d: every 1 h',
    false, 'none',
    CASE WHEN n % 20 < 15 AND rank < :leased THEN :live_owner END,
    CASE WHEN n % 20 < 15 AND rank < :leased THEN :now + interval '5 minutes' END,
    '"' || n || '"', 0, 0, 3, '[]'
FROM (
    -- rank: a story's place in the queue, scattered over the table (rows get rescheduled
    -- in any order, so the due ones are never in one block of the heap)
    SELECT n, ((n::bigint * 7919) % :total)::int AS rank
    FROM generate_series(:first, :last) AS n
) AS numbered
"""


def fill_stories(database_url: str, total: int, now: datetime) -> None:
    with admin(schema_url(database_url)) as connection:
        connection.execute(text("TRUNCATE stories CASCADE"))
        # A live table, updated at every check and vacuumed, has room on its pages, where an
        # update that changes no indexed column stays on its page (HOT: no index entries).
        # A freshly filled table has none; leave some as in a live one, so that what the
        # claim's UPDATE costs is measured as it is in production.
        connection.execute(text(f"ALTER TABLE stories SET (fillfactor = {FILLFACTOR})"))
        # 15 stories in 20 are active: ranks below DUE_NOW × 20/15 hold about DUE_NOW of them.
        connection.execute(
            text(FILL),
            {
                "now": now,
                "due": min(total, DUE_NOW * 20 // 15),
                "leased": LEASED_NOW * 20 // 15,
                "total": total,
                "first": 0,
                "last": total - 1,
                "live_owner": f"{socket.gethostname()}:{os.getpid()}:bench0",
            },
        )
        connection.execute(text("ANALYZE stories"))


@contextlib.contextmanager
def capture_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) run on `engine` meanwhile."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def timed(
    db: Database, call: Callable[[Any], Any], repeats: int
) -> tuple[list[float], Any, list[tuple[str, Any]]]:
    """Milliseconds per `call(session)` (each rolled back), its last result, and its SQL."""
    latencies, result = [], None
    with capture_statements(db.engine) as statements:
        with db.sessions() as session:
            call(session)  # the plan cached, the connection warm
            session.rollback()
        sql = list(statements)
    for _ in range(repeats):
        with db.sessions() as session:
            started = time.perf_counter()
            result = call(session)
            latencies.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return latencies, result, sql


def queries(statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The statements that read or write stories (not BEGIN, not the pool's ping)."""
    return [
        (statement, parameters)
        for statement, parameters in statements
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH"))
        and "stories" in statement
    ]


def server_ms(db: Database, statements: list[tuple[str, Any]], repeats: int) -> list[float]:
    """Milliseconds PostgreSQL itself spends planning and running the statements of one call
    (EXPLAIN ANALYZE without per-node timing, rolled back): the client's and the machine's
    scheduling left out, which on a busy machine is most of the noise."""
    times = []
    with db.engine.connect() as connection:
        for _ in range(repeats):
            total = 0.0
            for statement, parameters in queries(statements):
                (plan,) = connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + statement, parameters
                ).one()
                total += plan[0]["Planning Time"] + plan[0]["Execution Time"]
            connection.rollback()
            times.append(total)
    return times


def explain(db: Database, statements: list[tuple[str, Any]]) -> None:
    for statement, parameters in queries(statements):
        with db.engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).all()
            connection.rollback()
        print("    " + " ".join(statement.split())[:400])
        for (line,) in plan:
            print("      " + line)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def claims_part(args: argparse.Namespace, home: Path) -> None:
    fresh_schema(args.database_url)
    db = open_db(args.database_url, home)
    if args.schema_revision != "head":  # the schema as an older release left it
        config = alembic_config(db.engine)
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, args.schema_revision)
    with admin(schema_url(args.database_url)) as connection:
        revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
        indexes = connection.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = 'stories' ORDER BY 1")
        ).all()
    print(
        f"\n== claims: schema at revision {revision} (call: the function as a worker calls it; "
        "in PG: PostgreSQL's planning and execution of its statements); indexes on stories:"
    )
    for (definition,) in indexes:
        print(f"    {definition.replace(f'{SCHEMA}.', '')}")
    host = socket.gethostname()
    for total in args.claim_sizes:
        now = datetime.now(UTC)
        started = time.perf_counter()
        fill_stories(args.database_url, total, now)
        with admin(schema_url(args.database_url)) as connection:
            counts = dict(
                connection.execute(text("SELECT status, count(*) FROM stories GROUP BY 1")).all()
            )
            due, leased = connection.execute(
                text(
                    "SELECT count(*), count(lease_owner) FROM stories "
                    "WHERE status = 'active' AND next_check_at <= :n"
                ),
                {"n": now},
            ).one()
        print(
            f"  {total:,} stories ({counts}; {due} due now, {leased} of them leased) "
            f"filled in {time.perf_counter() - started:.1f} s, ANALYZEd"
        )
        print(
            f"  {'':<25} {'stories':>9}  {'call median':>11} {'p95':>10}  "
            f"{'in PG median':>12} {'p95':>10}  result"
        )
        duties: list[tuple[str, Callable[[Any], Any]]] = [
            (
                f"claim_due ({BATCH})",
                functools.partial(
                    claims.claim_due,
                    worker="bench:1:x",
                    now=now,
                    lease=timedelta(minutes=5),
                    limit=BATCH,
                ),
            ),
            (
                "reclaim_from_dead_workers",
                functools.partial(
                    claims.reclaim_from_dead_workers, host=host, now=now, alive=lambda pid: True
                ),
            ),
            ("queue_lag_seconds", functools.partial(claims.queue_lag_seconds, now=now)),
        ]
        for name, call in duties:
            latencies, result, sql = timed(db, call, args.repeats)
            inside = server_ms(db, sql, args.repeats)
            got = len(result) if isinstance(result, list) else round(result)
            line = (
                f"{name:<25} {total:>9,}  {statistics.median(latencies):8.2f} ms "
                f"{percentile(latencies, 0.95):7.2f} ms  {statistics.median(inside):9.2f} ms "
                f"{percentile(inside, 0.95):7.2f} ms  {got}"
            )
            print("  " + line)
            if args.verbose:
                explain(db, sql)
    if args.schema_revision != "head":
        started = time.perf_counter()
        upgrade(db.engine)
        print(
            f"  upgrading the schema from {revision} to the head revision with "
            f"{args.claim_sizes[-1]:,} stories took {time.perf_counter() - started:.1f} s"
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument(
        "--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4]
    )
    parser.add_argument("--corpus", type=Path, help="pages for the 304/unchanged stories")
    parser.add_argument("--round-timeout", type=float, default=900.0)
    parser.add_argument(
        "--claim-sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100_000, 1_000_000],
    )
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument(
        "--schema-revision",
        default="head",
        help="time the claims on the schema of an older migration (e.g. 0010), for comparison",
    )
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--skip-claims", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--verbose", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS)")
    args = parser.parse_args()

    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; database "
        f"{make_url(args.database_url).render_as_string(hide_password=True)}, "
        f"schema {SCHEMA}"
    )
    if (os.cpu_count() or 1) < max(args.workers):
        print(
            f"(fewer CPUs than workers: each worker extracts on every core, so ×"
            f"{max(args.workers)} shares the same {os.cpu_count()} CPUs and cannot scale "
            "linearly)"
        )
    home = Path(tempfile.mkdtemp(prefix="scaleout-"))
    try:
        if not args.skip_workers:
            workers_part(args, home / "workers")
        if not args.skip_claims:
            claims_part(args, home / "claims")
    finally:
        if not args.keep:
            drop_schema(args.database_url)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
