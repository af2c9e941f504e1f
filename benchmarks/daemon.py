"""Daemon steady state: `tracker run` over N due stories, mixed 304 / unchanged / changed.

A local server (its own process) serves N stories at /s/N, pages from the corpus. Round 0
(warm-up, `tracker check --all`, not measured) stores every story's first version and ETag.
Then every story is made due and a real `tracker run` process checks them all once while
the server answers, decided per story and round:

- 304: Not Modified to the stored ETag (the page did not change);
- chrome: 200, the same article under changed chrome (a comment counter in an element
  after the article), a new ETag: the check must find the article unchanged;
- edit: 200, a real edit (a sentence added to the page's longest <p>), a new ETag: the
  check must store a new version.

When every story has one new check the daemon is stopped with SIGTERM and its final summary
read from its JSON log. Printed: checks/s (from the checks table and the daemon's own), the
outcomes by what was served, the CPU per check by stage from the daemon's summary, the whole
process tree's CPU per check from /proc (the part in no stage: scheduling, claims, logging,
the extraction processes' overhead), peak memory, how the daemon shut down, what it logged.

    python benchmarks/daemon.py [--stories 10000] [--corpus ../shared/corpus]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/bench_daemon] [--verbose]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import gzip
import html as html_module
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.config import Settings  # noqa: E402
from tracker.pipeline.stages import STAGES  # noqa: E402
from tracker.services.stories import add_stories  # noqa: E402
from tracker.store.db import Database  # noqa: E402
from tracker.store.models import Check, Story  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
KINDS = ("304", "chrome", "edit")
KIND_TEXT = {
    "304": "304 Not Modified to the stored ETag",
    "chrome": "200, same article under changed chrome (a comment counter), new ETag",
    "edit": "200, article edited (a sentence added to a paragraph), new ETag",
}
# No new check for this long while stories are still unchecked: the daemon is stuck.
STALL_SECONDS = 120.0
POLL_SECONDS = 0.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# -- the pages --------------------------------------------------------------------------

_P = re.compile(rb"<p(?:\s[^>]*)?>(.*?)</p\s*>", re.S | re.I)
_TAG = re.compile(rb"<[^>]+>")
_TEXT_RUN = re.compile(rb">([^<>]{20,})<")
_NOT_SHOWN = re.compile(rb"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_BODY_END = re.compile(rb"</body\s*>", re.I)


@dataclass(frozen=True)
class Page:
    """A corpus page cut where the benchmark changes it: ``head | edit | middle | chrome |
    tail``, the edit at the end of the longest paragraph's text, the chrome before </body>."""

    head: bytes
    middle: bytes
    tail: bytes
    charset: str

    def render(self, counter: int, edit: bytes = b"") -> bytes:
        chrome = b'<div class="bench-comments"><span>%d comments</span></div>' % counter
        return self.head + edit + self.middle + chrome + self.tail


def cut_page(html: bytes, article: str | None = None) -> Page:
    body_end = _BODY_END.search(html)
    chrome_at = body_end.start() if body_end else len(html)
    edit_at = _edit_point(html[:chrome_at], article)
    try:
        html.decode("utf-8")
        charset = "text/html; charset=utf-8"
    except UnicodeDecodeError:
        charset = "text/html"  # the page's own <meta> says
    return Page(html[:edit_at], html[edit_at:chrome_at], html[chrome_at:], charset)


def _edit_point(html: bytes, article: str | None) -> int:
    """Where a sentence goes: the end of a paragraph of the article, as generic as can be.

    Candidates are the <p> elements and the runs of text between tags, outside scripts and
    styles (a page may carry a copy of its article in a script's JSON). When the corpus's
    ground truth says what the article is, the candidates it holds come first (the longest
    <p> of a page is often a cookie notice or a comment); then a <p> before a bare run of
    text; then the longest."""
    truth = " ".join(article.split()) if article else ""
    hidden = [(m.start(), m.end()) for m in _NOT_SHOWN.finditer(html)]

    def shown(at: int) -> bool:
        index = bisect.bisect_right(hidden, (at, len(html))) - 1
        return index < 0 or at >= hidden[index][1]

    candidates = []
    for is_paragraph, pattern in ((True, _P), (False, _TEXT_RUN)):
        for match in pattern.finditer(html):
            if not shown(match.start()):
                continue
            words = " ".join(_unescape(_TAG.sub(b" ", match.group(1))).split())
            needle = words[len(words) // 2 - 20 : len(words) // 2 + 20]
            in_article = len(needle) == 40 and needle in truth
            candidates.append((in_article, is_paragraph, len(words), match.end(1)))
    return max(candidates)[3] if candidates else len(html)


def _unescape(data: bytes) -> str:
    return html_module.unescape(data.decode("utf-8", "replace"))


def load_pages(corpus: Path | None) -> tuple[list[Page], str]:
    if corpus is not None and (corpus / "html").is_dir():
        files = sorted((corpus / "html").glob("*.html.gz"))
        truth_file = corpus / "ground-truth.json"
        truth = json.loads(truth_file.read_text()) if truth_file.is_file() else {}
        if files:
            pages = [
                cut_page(
                    gzip.decompress(f.read_bytes()),
                    truth.get(f.name.split(".")[0], {}).get("articleBody"),
                )
                for f in files
            ]
            return pages, str(corpus)
    from tracker.demo.site import STAGES as DEMO_STAGES
    from tracker.demo.site import render_page

    pages = [cut_page(render_page(stage, 0).encode()) for stage in DEMO_STAGES]
    return pages, "the demo story pages (no corpus found)"


def kind_of(number: int, round_: int, mix: tuple[int, int, int]) -> str:
    """What story `number` does in round `round_` (>= 1): the same answer in every process."""
    share = zlib.crc32(f"{number}:{round_}".encode()) % 100
    if share < mix[0]:
        return "304"
    return "chrome" if share < mix[0] + mix[1] else "edit"


def serve(
    pages: list[Page],
    mix: tuple[int, int, int],
    round_: Synchronized,  # type: ignore[type-arg]
    port_queue: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """The story server (its own process, so it does not compete for our GIL). Round 0
    serves every page as first seen; round r >= 1 answers as ``kind_of`` says."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            number = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/s/") else -1
            if number < 0:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            page = pages[number % len(pages)]
            counter = number % 97
            current = round_.value
            kind = kind_of(number, current, mix) if current > 0 else "304"
            if kind == "304":  # the page as first served
                etag, body = f'"{number}-0"', page.render(counter)
            elif kind == "chrome":
                etag, body = f'"{number}-{current}c"', page.render(counter + 10 + current)
            else:
                sentence = (
                    b" Officials said on Tuesday that the review of case %d would be "
                    b"extended by a further month (update %d)." % (number, current)
                )
                etag, body = f'"{number}-{current}e"', page.render(counter, sentence)
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", page.charset)
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


# -- processes: CPU and memory from /proc -------------------------------------------------


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (the extraction processes are the daemon's children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found + [grandchild for child in found for grandchild in _children(child)]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and of its children it has waited for; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS


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


@dataclass
class TreeSample:
    """The daemon's process tree at one moment: CPU so far and memory now."""

    cpu: float
    main_cpu: float  # the daemon process alone (with children it has waited for)
    rss_kb: int
    pss_kb: int
    children: list[int]
    children_rss_kb: int
    children_pss_kb: int

    @classmethod
    def take(cls, pid: int, *, memory: bool = True) -> TreeSample:
        children = _children(pid)
        main_cpu = _cpu_seconds(pid)
        cpu = main_cpu + sum(_cpu_seconds(c) for c in children)
        if not memory:
            return cls(cpu, main_cpu, 0, 0, children, 0, 0)
        return cls(
            cpu,
            main_cpu,
            _memory_kb(pid, "VmRSS"),
            _pss_kb(pid),
            children,
            sum(_memory_kb(c, "VmRSS") for c in children),
            sum(_pss_kb(c) for c in children),
        )


# -- the database -------------------------------------------------------------------------


def reset_schema(database_url: str | None) -> None:
    if database_url and database_url.startswith("postgresql"):
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def add_all(settings: Settings, base_url: str, count: int) -> dict[int, int]:
    """The stories, through the tracker's own code; returns story id → story number."""
    db = Database(settings)
    now = datetime.now(UTC)
    try:
        for first in range(0, count, 1000):
            urls = [f"{base_url}/s/{n}" for n in range(first, min(count, first + 1000))]
            with db.session() as session:
                add_stories(session, urls, now=now, allow_private_networks=True)
        with db.read_session() as session:
            rows = session.execute(select(Story.id, Story.url)).all()
    finally:
        db.dispose()
    return {story_id: int(url.rsplit("/", 1)[1]) for story_id, url in rows}


def make_all_due(engine: Engine) -> int:
    """Every story due now; returns the last check id of the warm-up."""
    with engine.begin() as connection:
        connection.execute(update(Story).values(next_check_at=datetime.now(UTC)))
        return connection.scalar(select(func.coalesce(func.max(Check.id), 0))) or 0


def tracker_env(home: Path, database_url: str | None, web_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_HOME=str(home),
        TRACKER_ALLOW_PRIVATE_NETWORKS="1",
        TRACKER_PER_HOST_MIN_DELAY="0",
        TRACKER_PER_HOST_CONCURRENCY="16",
        TRACKER_RESPECT_ROBOTS_TXT="0",
        TRACKER_WEB_PORT=str(web_port),
        TRACKER_SUMMARY_INTERVAL="10",
    )
    if database_url:
        env["TRACKER_DATABASE_URL"] = database_url
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the measured round ---------------------------------------------------------------------


@dataclass
class Run:
    """What one measured round of the daemon showed."""

    started: float  # monotonic, when `tracker run` was started
    first_seen: float | None = None  # when the first new check was seen in the table
    all_seen: float | None = None  # when every story had one
    startup: TreeSample | None = None  # the last sample before the first check was seen
    startup_at: float = 0.0
    final: TreeSample | None = None  # just before SIGTERM
    final_at: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at start and end
    peak_rss_kb: int = 0
    peak_pss_kb: int = 0
    peak_children_rss_kb: int = 0
    peak_children_pss_kb: int = 0
    daemon_hwm_kb: int = 0
    seen_pids: frozenset[int] = frozenset()
    roles: Counter[str] = field(default_factory=Counter)  # the children, by role
    stuck: str | None = None  # why the round did not finish
    exit_code: int | None = None
    exit_seconds: float | None = None
    left_behind: tuple[int, ...] = ()


def run_daemon(
    env: dict[str, str],
    engine: Engine,
    after_check: int,
    stories: int,
    log_path: Path,
    verbose: bool,
) -> Run:
    with log_path.open("wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "tracker", "run", "--log-format", "json"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    run = Run(started=time.monotonic(), load=(os.getloadavg()[0], 0.0))
    seen: set[int] = set()
    last_count, last_progress, last_report = 0, time.monotonic(), time.monotonic()
    query = text("SELECT count(DISTINCT story_id) FROM checks WHERE id > :after")
    tail = _LogTail(log_path) if verbose else None
    try:
        while True:
            time.sleep(POLL_SECONDS)
            sample = TreeSample.take(daemon.pid)
            for pid in set(sample.children) - seen:
                run.roles[_role(pid, daemon.pid)] += 1
            seen.update(sample.children)
            run.peak_rss_kb = max(run.peak_rss_kb, sample.rss_kb)
            run.peak_pss_kb = max(run.peak_pss_kb, sample.pss_kb)
            run.peak_children_rss_kb = max(run.peak_children_rss_kb, sample.children_rss_kb)
            run.peak_children_pss_kb = max(run.peak_children_pss_kb, sample.children_pss_kb)
            run.daemon_hwm_kb = max(run.daemon_hwm_kb, _memory_kb(daemon.pid, "VmHWM"))
            with engine.connect() as connection:
                count = connection.scalar(query, {"after": after_check}) or 0
            now = time.monotonic()
            if count and run.first_seen is None:
                run.first_seen = now
            if not count:
                run.startup, run.startup_at = sample, now
            if tail is not None:
                tail.echo_summaries()
                if now - last_report >= 10:
                    print(f"  … {count:,}/{stories:,} stories checked", flush=True)
                    last_report = now
            if count >= stories:
                run.all_seen = now
                run.final, run.final_at = TreeSample.take(daemon.pid, memory=False), now
                break
            if count > last_count:
                last_count, last_progress = count, now
            elif daemon.poll() is not None:
                run.stuck = f"the daemon exited ({daemon.returncode}) after {count:,} stories"
                break
            elif now - last_progress > STALL_SECONDS:
                run.stuck = (
                    f"no new check for {STALL_SECONDS:.0f} s with {count:,}/{stories:,} "
                    "stories checked"
                )
                run.final, run.final_at = TreeSample.take(daemon.pid, memory=False), now
                break
    finally:
        run.load = (run.load[0], os.getloadavg()[0])
        run.seen_pids = frozenset(seen)
        if daemon.poll() is None:
            stopping = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=120)
                run.exit_seconds = time.monotonic() - stopping
            except subprocess.TimeoutExpired:
                daemon.kill()  # a finding: reported as no clean exit
                daemon.wait()
        run.exit_code = daemon.returncode
        time.sleep(1)  # the extraction processes see their parent go
        run.left_behind = tuple(sorted(pid for pid in seen if _alive_descendant_of_us(pid)))
        for pid in run.left_behind:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if tail is not None:
            tail.echo_summaries()
    return run


def _role(pid: int, daemon: int) -> str:
    """What a descendant of the daemon is: the extraction processes are forked from a fork
    server, the daemon's child, and so are its grandchildren."""
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, ValueError, IndexError):
        return "gone"
    if parent != daemon:
        return "extraction process"
    for marker, role in ((b"forkserver", "fork server"), (b"resource_tracker", "resource tracker")):
        if marker in command:
            return role
    return command.decode(errors="replace")[:40]


def _alive_descendant_of_us(pid: int) -> bool:
    """A process the daemon started that still runs (not a reused pid: it must still be
    running our Python)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    return state != "Z" and Path(command).name.startswith("python")


class _LogTail:
    """Echoes the daemon's summary lines as they are written (--verbose)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def echo_summaries(self) -> None:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            if b'"summary"' in line:
                with contextlib.suppress(ValueError):
                    print(f"  daemon: {json.loads(line)['message']}", flush=True)


@dataclass
class DaemonLog:
    summaries: list[dict[str, Any]]
    levels: Counter[str]
    loggers: Counter[str]
    notable: Counter[str]  # warnings and errors, by message
    other_lines: list[str]  # not JSON (printed by something else than the log handler)


def read_log(path: Path) -> DaemonLog:
    parsed = DaemonLog([], Counter(), Counter(), Counter(), [])
    for raw in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(raw)
        except ValueError:
            if raw.strip():
                parsed.other_lines.append(raw.strip())
            continue
        parsed.levels[record.get("level", "?")] += 1
        parsed.loggers[record.get("logger", "?")] += 1
        if "summary" in record:
            parsed.summaries.append(record["summary"])
        if record.get("level") in ("warning", "error", "critical"):
            message = str(record.get("message", ""))
            parsed.notable[f"{record['level']}: {_shorten(message)}"] += 1
    return parsed


def _shorten(message: str, width: int = 160) -> str:
    message = re.sub(r"\d+", "N", message.splitlines()[0] if message else "")
    return message if len(message) <= width else message[: width - 1] + "…"


# -- the report ------------------------------------------------------------------------------


def round_checks(engine: Engine, after_check: int) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(Check.story_id, Check.started_at, Check.duration_ms, Check.outcome)
                .where(Check.id > after_check)
                .order_by(Check.id)
            )
        )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def report(
    args: argparse.Namespace,
    run: Run,
    checks: list[Any],
    numbers: dict[int, int],
    log: DaemonLog,
) -> None:
    count = len(checks)
    stories = len(numbers)
    print(f"round 1 (`tracker run`, all {stories:,} stories due):")
    if run.stuck:
        print(f"  NOT FINISHED: {run.stuck}")
    if run.all_seen is not None and run.first_seen is not None:
        print(
            f"  wall time: {run.all_seen - run.started:.1f} s from starting `tracker run` until "
            f"every story had a new check (the first seen after {run.first_seen - run.started:.1f}"
            f" s; polled every {POLL_SECONDS} s)"
        )
    if checks:
        first = min(_utc(row.started_at) for row in checks)
        last = max(_utc(row.started_at) + timedelta(milliseconds=row.duration_ms) for row in checks)
        span = max((last - first).total_seconds(), 1e-9)
        print(
            f"  checks/s: {count / span:.1f} from the checks table ({count:,} checks, "
            f"{len({row.story_id for row in checks}):,} stories, first start to last end "
            f"{span:.1f} s)"
        )
    summary = log.summaries[-1] if log.summaries else None
    if summary is not None:
        print(
            f"  checks/s: {summary['checks_per_second']:.1f} as the daemon's final summary "
            "says (its checks over its whole life: start-up and shutdown included)"
        )
    outcomes = Counter(str(row.outcome) for row in checks)
    print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common()))
    by_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    durations: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for row in checks:
        kind = kind_of(numbers[row.story_id], 1, args.mix)
        by_kind[kind][str(row.outcome)] += 1
        durations[kind].append(row.duration_ms)
    for kind in KINDS:
        if not durations[kind]:
            continue
        ordered = sorted(durations[kind])
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        print(
            f"    served {kind:<6} {len(ordered):>6,}: "
            + ", ".join(f"{k} {v:,}" for k, v in by_kind[kind].most_common())
            + f"; wall per check median {statistics.median(ordered):.0f} ms, p95 {p95} ms"
        )

    if summary is None:
        print("  the daemon logged no summary: no CPU by stage")
    else:
        per_check = summary["cpu_seconds_per_check"]
        staged = sum(per_check.get(stage, 0.0) for stage in STAGES)
        print(
            "  CPU per check by stage (the daemon's final summary, "
            f"{summary.get('checked', 0):,} checks):"
        )
        for stage in STAGES:
            print(f"    {stage:<12} {_ms(per_check.get(stage, 0.0)):>10}")
        extra = {k: v for k, v in per_check.items() if k not in STAGES}
        for stage, seconds in extra.items():
            print(f"    {stage:<12} {_ms(seconds):>10}")
            staged += seconds
        print(f"    {'all stages':<12} {_ms(staged):>10}")
        pages = sum(1 for row in checks if str(row.outcome) in ("changed", "unchanged"))
        if pages:  # a 304 spends nothing in these stages: per page read, they are larger
            share = summary.get("checked", count) / pages
            print(
                f"    per check that read a page ({pages:,} answered 200): "
                + ", ".join(
                    f"{stage} {_ms(per_check.get(stage, 0.0) * share)}"
                    for stage in ("parse", "extract", "fingerprint", "diff")
                )
            )
        if run.final is not None and run.startup is not None and count:
            round_cpu = run.final.cpu - run.startup.cpu
            main_cpu = run.final.main_cpu - run.startup.main_cpu
            whole = round_cpu / count
            print(
                f"  CPU per check, whole daemon (its process tree from /proc, extraction "
                f"processes included): {_ms(whole)}"
                f" = stages {_ms(staged)} + other {_ms(whole - staged)}"
            )
            print(
                f"    the daemon process {_ms(main_cpu / count)}, its children "
                f"{_ms((round_cpu - main_cpu) / count)}; {round_cpu:.1f} s over "
                f"{run.final_at - run.startup_at:.1f} s = "
                f"{round_cpu / max(run.final_at - run.startup_at, 1e-9):.2f} cores busy; "
                f"start-up before the first check, left out: {run.startup.cpu:.1f} s"
            )
    print(
        f"  memory: daemon peak RSS {_mb(run.daemon_hwm_kb)} (VmHWM), peak PSS "
        f"{_mb(run.peak_pss_kb)}; its {len(run.seen_pids)} child processes ("
        + ", ".join(f"{n} {role}" for role, n in sorted(run.roles.items()))
        + ") together: "
        f"peak RSS {_mb(run.peak_children_rss_kb)}, PSS {_mb(run.peak_children_pss_kb)}; "
        f"all PSS {_mb(run.peak_pss_kb + run.peak_children_pss_kb)} (sampled every "
        f"{POLL_SECONDS} s)"
    )
    exit_text = (
        f"exited {run.exit_code} after {run.exit_seconds:.1f} s"
        if run.exit_seconds is not None
        else f"did not exit within 120 s of SIGTERM: killed ({run.exit_code})"
    )
    left = ", ".join(map(str, run.left_behind)) or "none"
    print(f"  1-minute load average: {run.load[0]:.2f} at the start, {run.load[1]:.2f} at the end")
    print(f"  shutdown: SIGTERM → {exit_text}; child processes left running: {left}")
    levels = ", ".join(f"{k} {v:,}" for k, v in sorted(log.levels.items()))
    print(f"  daemon log: {levels}; {len(log.summaries)} summaries")
    for message, times in log.notable.most_common(8):
        print(f"    {times:>6,} × {message}")
    for line in log.other_lines[:5]:
        print(f"    (not JSON) {_shorten(line)}")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- main --------------------------------------------------------------------------------------


def parse_mix(value: str) -> tuple[int, int, int]:
    parts = tuple(int(p) for p in value.split(","))
    if len(parts) != 3 or sum(parts) != 100 or min(parts) < 0:
        raise argparse.ArgumentTypeError("three percentages adding up to 100, e.g. 60,30,10")
    return parts[0], parts[1], parts[2]


@contextlib.contextmanager
def story_server(
    pages: list[Page], mix: tuple[int, int, int]
) -> Iterator[tuple[str, Synchronized, int]]:  # type: ignore[type-arg]
    round_ = multiprocessing.Value("i", 0)
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(pages, mix, round_, ports), daemon=True)
    server.start()
    try:
        assert server.pid is not None
        yield f"http://127.0.0.1:{ports.get(timeout=30)}", round_, server.pid
    finally:
        server.terminate()
        server.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="gzipped pages in CORPUS/html (default ../shared/corpus; the demo pages if absent)",
    )
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=(60, 30, 10),
        help="percent 304,chrome,edit of the measured round (default 60,30,10)",
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL (its public schema is dropped); default SQLite"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="progress and the daemon's summaries"
    )
    args = parser.parse_args()

    pages, source = load_pages(args.corpus)
    print(
        f"daemon steady state: {args.stories:,} stories, {len(pages)} distinct pages from "
        f"{source}, {os.cpu_count()} cores, database: {args.database_url or 'SQLite'}"
    )
    print(
        "mix, per story and round: "
        + "; ".join(
            f"{share}% {KIND_TEXT[kind]}" for share, kind in zip(args.mix, KINDS, strict=True)
        )
    )
    print(
        "daemon settings: defaults (global_concurrency 16, extract_processes one per core, "
        "dispatch_interval 1 s, dispatch_batch 64) except per_host_min_delay 0, "
        "per_host_concurrency 16, robots.txt off, summary_interval 10 s; web UI on"
    )
    with tempfile.TemporaryDirectory() as tmp, story_server(pages, args.mix) as served:
        base_url, round_, server_pid = served
        home = Path(tmp) / "home"
        reset_schema(args.database_url)
        settings = Settings(home=home, database_url=args.database_url)
        numbers = add_all(settings, base_url, args.stories)
        env = tracker_env(home, args.database_url, free_port())

        started = time.perf_counter()
        warmup = subprocess.run(
            [sys.executable, "-m", "tracker", "check", "--all"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            check=False,
        )
        print(
            f"warm-up (round 0, `tracker check --all`, not measured): "
            f"{time.perf_counter() - started:.1f} s, exit {warmup.returncode}: "
            f"{warmup.stdout.strip()}"
        )

        engine = create_engine(settings.effective_database_url, poolclass=NullPool)
        try:
            round_.value = 1
            after_check = make_all_due(engine)
            server_cpu = _cpu_seconds(server_pid)
            log_path = Path(tmp) / "daemon.log"
            run = run_daemon(env, engine, after_check, args.stories, log_path, args.verbose)
            server_cpu = _cpu_seconds(server_pid) - server_cpu
            checks = round_checks(engine, after_check)
        finally:
            engine.dispose()
        report(args, run, checks, numbers, read_log(log_path))
        print(
            f"  the story server (same machine): {server_cpu:.1f} s CPU over the round, "
            f"{_ms(server_cpu / max(len(checks), 1))} per check"
        )


if __name__ == "__main__":
    main()
