"""The tracker against urlwatch 2.29, side by side, as users run them (issue 14).

Both tools run as whole commands against one local server (another process) that serves
each story at its own URL, /s/N, with an ETag per page per round and 304 to a matching
If-None-Match:

1. unchanged: N stories (default 1,000; corpus pages repeated), each tool after a warm-up
   round that is not timed (so both hold ETags); the timed round is all 304s. Figure:
   checks/s of a whole `tracker check --all` against a whole `urlwatch` run.
2. changed: one round over the corpus pages (181 real news pages), each page once. Warm-up
   (not timed): both tools see every page once. Timed round: every page is served with a new
   ETag and a 200; about 2/3 carry an article edit (a word changed and a sentence added in
   the longest <p> of the article, which the corpus' ground truth tells), the rest only a
   chrome change (a new counter element in the footer and a new script nonce). Figure: wall
   time of one whole command each; the tracker must make versions for the edited pages only.

Before every timed repetition both tools' data are reset to the post-warm-up snapshot; each
repetition alternates which tool goes first, so machine noise hits both.

urlwatch 2.29 is installed into a throwaway venv (or --urlwatch-venv, kept for reuse) with
pip; it is not a dependency of the project. It runs with its defaults (thread pool, stdout
reporter, no filters) except colour, which is off.

    python benchmarks/versus_urlwatch.py [--corpus ../shared/corpus] [--stories 1000]
        [--repeat 3] [--only unchanged|changed] [--urlwatch-venv DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import ctypes
import gzip
import html
import json
import multiprocessing
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URLWATCH_VERSION = "2.29"
BIN = Path(sys.executable).parent  # the venv's entry points: tracker
UNCHANGED_TARGET = 2.0  # tracker checks/s ÷ urlwatch checks/s, at least
CHANGED_TARGET = 0.5  # tracker time ÷ urlwatch time, at most


# -- the pages -------------------------------------------------------------------------------


@dataclass
class Page:
    html: str
    article: str | None  # the article's text, from the corpus' ground truth when it has one


def load_corpus(corpus: Path) -> list[Page]:
    files = sorted((corpus / "html").glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no pages in {corpus / 'html'} (*.html.gz): give --corpus")
    truth_file = corpus / "ground-truth.json"
    truth = json.loads(truth_file.read_text()) if truth_file.exists() else {}
    return [
        Page(
            gzip.decompress(path.read_bytes()).decode("utf-8", "replace"),
            truth.get(path.name.removesuffix(".html.gz"), {}).get("articleBody"),
        )
        for path in files
    ]


# Markup whose text is not page text: a <p> inside it is not a paragraph of the page.
_OPAQUE = re.compile(
    r"<(script|style|noscript|template|textarea)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S
)
_PARAGRAPH = re.compile(r"(<p\b[^>]*>)(.*?)(</p\s*>)", re.I | re.S)
# A match that swallowed another block (an unclosed <p>) is not one paragraph.
_BLOCK = re.compile(r"<(?:p|div|section|article|ul|ol|li|table|h[1-6]|blockquote|figure)\b", re.I)
_TAG = re.compile(r"(<[^>]*>)")
_WORD = re.compile(r"(?<![&#\w])[^\W\d_]{5,}(?![\w;])")
_NONCE = re.compile(r'(\snonce=")([^"]*)(")', re.I)
ADDED_SENTENCE = " Officials confirmed the revised figures in a statement on Tuesday evening."


def _visible(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def longest_paragraph(page: str, article: str | None = None) -> re.Match[str] | None:
    """The page's longest <p> (80+ characters) outside scripts, styles and comments.

    With the article's text (the corpus' ground truth), only a paragraph of the article
    counts: on some pages the longest <p> is a cookie notice or a reader's comment.
    """
    opaque = [(m.start(), m.end()) for m in _OPAQUE.finditer(page)]
    starts = [start for start, _ in opaque]
    article = " ".join(article.split()) if article else None
    best: re.Match[str] | None = None
    best_length = 79
    for match in _PARAGRAPH.finditer(page):
        inside = bisect.bisect_right(starts, match.start()) - 1
        if inside >= 0 and match.start() < opaque[inside][1]:
            continue
        if _BLOCK.search(match.group(2)):
            continue
        text = _visible(match.group(2))
        if len(text) > best_length and (article is None or text[:80] in article):
            best, best_length = match, len(text)
    return best


def article_edit(page: str, article: str | None = None) -> str | None:
    """The page with one paragraph edited: a word changed, a sentence added at its end.

    Generic (no per-site rules): the longest paragraph of the article (see
    `longest_paragraph`); its first lower-case word of 5+ letters becomes "revised". None
    when the page has no such paragraph.
    """
    best = longest_paragraph(page, article)
    if best is None:
        return None
    parts = _TAG.split(best.group(2))  # text, tag, text, tag, ...: text at even indexes
    words = [(i, m) for i in range(0, len(parts), 2) for m in _WORD.finditer(parts[i])]
    lower = [(i, m) for i, m in words if m.group().islower() and m.group() != "revised"]
    if lower or words:
        index, word = (lower or words)[0]
        new = "revised" if word.group().lower() != "revised" else "amended"
        parts[index] = parts[index][: word.start()] + new + parts[index][word.end() :]
    inner = "".join(parts) + ADDED_SENTENCE
    return page[: best.start()] + best.group(1) + inner + best.group(3) + page[best.end() :]


def chrome_edit(page: str, number: int) -> str:
    """The page with chrome changed only: a new counter in its footer, a new script nonce."""
    token = f"{number * 2654435761 % 2**32:08x}{number:04x}"
    counter = f'<div class="site-stats">Readers right now: {1200 + number * 37:,}</div>'
    nonce_script = f'<script nonce="{token}">window.__rid = "{token}";</script>'
    if _NONCE.search(page):
        page = _NONCE.sub(lambda m: m.group(1) + token + m.group(3), page)
        nonce_script = ""
    lower = page.lower()
    footer, body = lower.rfind("</footer"), lower.rfind("</body")
    if footer >= 0:
        page = page[:footer] + counter + page[footer:]
        body = page.lower().rfind("</body")
        counter = ""
    insert = counter + nonce_script
    if body >= 0:
        return page[:body] + insert + page[body:]
    return page + insert


@dataclass
class Rounds:
    """What the server serves: round 0 the corpus pages, round 1 their edited versions."""

    pages: list[bytes]
    edited: list[bytes]
    article_edited: list[bool]  # per corpus page: article edit (True) or chrome only


def make_rounds(corpus: list[Page]) -> Rounds:
    """Two pages in three get an article edit, the rest a chrome change.

    A page without a paragraph to edit gets the chrome change, and the next page that has
    one the edit, so that the share stays two in three.
    """
    edited: list[bytes] = []
    article: list[bool] = []
    for number, page in enumerate(corpus):
        due = sum(article) < round((number + 1) * 2 / 3)
        new = article_edit(page.html, page.article) if due else None
        article.append(new is not None)
        edited.append((new if new is not None else chrome_edit(page.html, number)).encode())
    return Rounds([page.html.encode() for page in corpus], edited, article)


# -- the server (its own process) --------------------------------------------------------------


def serve(rounds: Rounds, port_queue: multiprocessing.Queue) -> None:
    """Serve /s/N: corpus page N mod len, round 0 as is and round 1 edited.

    /-/round/R switches the round; /-/stats answers the status counts since the last call.
    """
    state = {"round": 0}
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes = b"", etag: str | None = None) -> None:
            with lock:
                counts[str(status)] += 1
            self.send_response(status)
            if etag:
                self.send_header("ETag", etag)
            if status != 304:
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.startswith("/-/round/"):
                state["round"] = int(self.path.rsplit("/", 1)[1])
                self._control(b"ok")
            elif self.path == "/-/stats":
                with lock:
                    body = json.dumps(dict(counts)).encode()
                    counts.clear()
                self._control(body)
            elif self.path.startswith("/s/") and self.path[3:].isdigit():
                number, current = int(self.path[3:]), state["round"]
                etag = f'"{number}-{current}"'
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, etag=etag)
                    return
                source = rounds.edited if current else rounds.pages
                self._send(200, source[number % len(source)], etag)
            else:
                self._send(404)

        def _control(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 512
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


class Server:
    def __init__(self, rounds: Rounds) -> None:
        ports: multiprocessing.Queue = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=serve, args=(rounds, ports), daemon=True)
        self.process.start()
        self.base = f"http://127.0.0.1:{ports.get(timeout=30)}"

    def url(self, number: int) -> str:
        return f"{self.base}/s/{number}"

    def _get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=10) as response:
            return bytes(response.read())

    def set_round(self, number: int) -> None:
        self._get(f"/-/round/{number}")

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = json.loads(self._get("/-/stats"))
        return counts

    def close(self) -> None:
        self.process.terminate()
        self.process.join(10)


def describe_stats(counts: dict[str, int]) -> str:
    return ", ".join(f"{status}×{count}" for status, count in sorted(counts.items()))


# -- the two tools -----------------------------------------------------------------------------


def clean_environment() -> dict[str, str]:
    """Our environment without proxies or the caller's tracker settings."""
    drop = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in drop and not key.startswith("TRACKER_")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system CPU seconds of the command and all its descendants
    returncode: int
    stdout: str
    stderr: str
    served: dict[str, int] = field(default_factory=dict)


def become_subreaper() -> bool:
    """Adopt the orphans of the commands we run, so that their CPU time is counted.

    The tracker's extraction workers are children of multiprocessing's forkserver, which
    dies with the tracker without being waited for; as a subreaper (Linux) we wait for them,
    and the kernel adds their CPU time to ours (RUSAGE_CHILDREN).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def our_children() -> set[int]:
    children: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            children |= {int(pid) for pid in (task / "children").read_text().split()}
    return children


def reap_orphans(keep: set[int], deadline: float = 10.0) -> None:
    """Wait for every child but `keep` (adopted descendants of the last command)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        children = our_children() - keep
        if not children:
            return
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.01)


def run_command(command: list[str], env: dict[str, str], logs: Path, server: Server) -> Run:
    """Run one whole command, its output to files (as under cron), and time it."""
    server.stats()  # reset the server's counts
    keep = our_children()
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.run(command, env=env, stdout=stdout, stderr=stderr, check=False)
        seconds = time.perf_counter() - started
    reap_orphans(keep)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        seconds,
        cpu,
        process.returncode,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
        server.stats(),
    )


class Tracker:
    name = "tracker"

    def __init__(self, work: Path) -> None:
        self.home = work / "tracker-home"
        self.logs = work / "tracker-logs"
        self.logs.mkdir(parents=True)
        self.env = clean_environment() | {
            "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",  # the server is on 127.0.0.1
            "TRACKER_PER_HOST_MIN_DELAY": "0",  # one page per story stands for one site
            "TRACKER_PER_HOST_CONCURRENCY": "16",
        }
        self.command = [str(BIN / "tracker"), "--home", str(self.home)]

    def setup(self, urls: list[str]) -> None:
        self.home.mkdir(parents=True)
        listing = self.logs / "urls.txt"
        listing.write_text("".join(url + "\n" for url in urls))
        subprocess.run(
            [*self.command, "add", "--file", str(listing)],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def run(self, server: Server, label: str) -> Run:
        return run_command([*self.command, "check", "--all"], self.env, self.logs / label, server)

    def summary(self, run: Run) -> str:
        lines = [line for line in run.stdout.splitlines() if line.startswith("checked ")]
        return lines[-1] if lines else f"(no summary; exit {run.returncode})"

    def counts(self, run: Run) -> dict[str, int]:
        found = re.search(
            r"checked (\d+): (\d+) changed, (\d+) unchanged, (\d+) not modified, (\d+) errors",
            run.stdout,
        )
        keys = ("checked", "changed", "unchanged", "not modified", "errors")
        return dict(zip(keys, map(int, found.groups()), strict=True)) if found else {}

    def versions_by_url(self) -> dict[str, int]:
        listing = subprocess.run(
            [*self.command, "list", "--json"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return {row["url"]: row["versions"] for row in json.loads(listing.stdout)}

    def settings(self) -> dict[str, str]:
        shown = subprocess.run(
            [*self.command, "config", "show"], env=self.env, capture_output=True, text=True
        ).stdout
        return dict(
            line.split(" = ", 1) for line in shown.splitlines() if " = " in line
        )  # name = value

    def data(self) -> Path:
        return self.home


class Urlwatch:
    name = "urlwatch"

    def __init__(self, work: Path, venv: Path) -> None:
        self.dir = work / "urlwatch"
        self.logs = work / "urlwatch-logs"
        self.logs.mkdir(parents=True)
        self.venv = venv
        self.env = clean_environment() | {
            "XDG_CONFIG_HOME": str(work / "xdg-config"),  # nothing of the user's is read
            "XDG_CACHE_HOME": str(work / "xdg-cache"),
        }
        self.command = [
            str(venv / "bin" / "urlwatch"),
            "--urls",
            str(self.dir / "urls.yaml"),
            "--config",
            str(self.dir / "urlwatch.yaml"),
            "--cache",
            str(self.dir / "cache.db"),
            "--hooks",
            str(self.dir / "hooks.py"),  # absent: no hooks
        ]

    def setup(self, urls: list[str]) -> None:
        self.dir.mkdir(parents=True)
        (self.dir / "urls.yaml").write_text("---\n".join(f"url: {url}\n" for url in urls))
        # Its defaults, merged under this: the stdout reporter (no colour), no e-mail.
        (self.dir / "urlwatch.yaml").write_text("report:\n  stdout:\n    color: false\n")

    def run(self, server: Server, label: str) -> Run:
        return run_command(self.command, self.env, self.logs / label, server)

    def counts(self, run: Run) -> dict[str, int]:
        """Its report's summary lines ("01. CHANGED: url"), by verb."""
        verbs = re.findall(r"^\d+\. (NEW|CHANGED|UNCHANGED|ERROR): ", run.stdout, re.M)
        return {verb.lower(): count for verb, count in Counter(verbs).items()}

    def summary(self, run: Run) -> str:
        counts = self.counts(run)
        shown = ", ".join(f"{count} {verb}" for verb, count in sorted(counts.items()))
        return f"reported: {shown or 'nothing (all unchanged)'}; exit {run.returncode}"

    def data(self) -> Path:
        return self.dir


def compile_tracker() -> None:
    """Write the tracker's bytecode, as an install does (pip compiles what it installs, and
    an editable install's first run writes it). Without it, an environment that sets
    PYTHONDONTWRITEBYTECODE (as some containers do) recompiles every module at every start
    of every timed command, a cost no user's install pays; urlwatch's venv is compiled by pip.
    """
    import compileall

    compileall.compile_dir(ROOT / "tracker", quiet=1)


def install_urlwatch(venv: Path) -> tuple[str, int]:
    """urlwatch 2.29 in its own venv; returns its version and its thread-pool size."""
    python = venv / "bin" / "python"
    probe = [
        str(python),
        "-c",
        "import urlwatch, urlwatch.worker as w; print(urlwatch.__version__, w.MAX_WORKERS)",
    ]
    found = subprocess.run(probe, capture_output=True, text=True) if python.exists() else None
    if found is None or found.returncode or found.stdout.split()[0] != URLWATCH_VERSION:
        print(f"installing urlwatch=={URLWATCH_VERSION} into {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        installed = subprocess.run(
            [*pip, f"urlwatch=={URLWATCH_VERSION}"], capture_output=True, text=True
        )
        if installed.returncode:  # pip's output only when it failed
            sys.stderr.write(installed.stdout + installed.stderr)
            raise SystemExit(f"could not install urlwatch=={URLWATCH_VERSION} into {venv}")
        found = subprocess.run(probe, capture_output=True, text=True, check=True)
    version, threads = found.stdout.split()
    return version, int(threads)


# -- measuring -------------------------------------------------------------------------------


Tool = Tracker | Urlwatch


def snapshot(tools: list[Tool], into: Path) -> None:
    for tool in tools:
        shutil.copytree(tool.data(), into / tool.name)


def restore(tools: list[Tool], snap: Path) -> None:
    for tool in tools:
        shutil.rmtree(tool.data())
        shutil.copytree(snap / tool.name, tool.data())


def warm_up(tools: list[Tool], server: Server, verbose: bool) -> None:
    for tool in tools:
        run = tool.run(server, "warm-up")
        print(
            f"  warm-up   {tool.name:<8} {run.seconds:6.2f} s  {tool.summary(run)}"
            f"  [server: {describe_stats(run.served)}]",
            flush=True,
        )
        if run.returncode or verbose:
            _show_stderr(run)


def _show_stderr(run: Run, lines: int = 8) -> None:
    tail = run.stderr.strip().splitlines()[-lines:]
    for line in tail:
        print(f"            | {line}")


def timed(
    tools: list[Tool],
    server: Server,
    snap: Path,
    repeat: int,
    verbose: bool,
    after: Callable[[Tool, Run], str] | None = None,
) -> dict[str, list[Run]]:
    """Each repetition: reset to the snapshot, run each tool once; the order alternates."""
    runs: dict[str, list[Run]] = {tool.name: [] for tool in tools}
    for index in range(repeat):
        order = tools if index % 2 == 0 else tools[::-1]
        for tool in order:
            restore(tools, snap)
            load = os.getloadavg()[0]
            run = tool.run(server, f"timed-{index + 1}")
            runs[tool.name].append(run)
            extra = after(tool, run) if after else ""
            print(
                f"  timed {index + 1}/{repeat} {tool.name:<8} {run.seconds:6.2f} s"
                f" (CPU {run.cpu:5.1f} s, load {load:.1f})  {tool.summary(run)}"
                f"  [server: {describe_stats(run.served)}]{extra}",
                flush=True,
            )
            if run.returncode or verbose:
                _show_stderr(run)
    return runs


@dataclass
class Row:
    work: str
    tracker: str
    urlwatch: str
    ratio: str
    met: bool
    target: str
    cpu: str  # CPU seconds per tool, median


def cpu_of(runs: dict[str, list[Run]]) -> str:
    return ", ".join(
        f"{name} {statistics.median(run.cpu for run in tool_runs):.1f} s"
        for name, tool_runs in runs.items()
    )


def seconds_of(runs: list[Run]) -> tuple[float, float]:
    times = [run.seconds for run in runs]
    return min(times), statistics.median(times)


def bench_unchanged(
    args: argparse.Namespace, server: Server, tracker: Tracker, urlwatch: Urlwatch, work: Path
) -> Row:
    stories = args.stories
    print(f"\n== {stories:,} unchanged pages (304 to a conditional GET)", flush=True)
    server.set_round(0)
    urls = [server.url(number) for number in range(stories)]
    tools: list[Tool] = [tracker, urlwatch]
    for tool in tools:
        tool.setup(urls)
    warm_up(tools, server, args.verbose)
    snap = work / "snapshot"
    snapshot(tools, snap)
    runs = timed(tools, server, snap, args.repeat, args.verbose)

    rates = {}
    cells = {}
    for name, tool_runs in runs.items():
        best, median = seconds_of(tool_runs)
        rates[name] = stories / median
        cells[name] = f"{stories / median:,.0f} checks/s (median; best {stories / best:,.0f})"
    ratio = rates["tracker"] / rates["urlwatch"]
    met = ratio >= UNCHANGED_TARGET
    return Row(
        f"{stories:,} unchanged pages (the server answers 304 to a conditional GET)",
        cells["tracker"],
        cells["urlwatch"],
        f"{ratio:.2f}× urlwatch's checks/s",
        met,
        f"≥ {UNCHANGED_TARGET:g}× urlwatch's checks/s",
        cpu_of(runs),
    )


def bench_changed(
    args: argparse.Namespace,
    server: Server,
    rounds: Rounds,
    tracker: Tracker,
    urlwatch: Urlwatch,
    work: Path,
) -> Row:
    pages = len(rounds.pages)
    edited = sum(rounds.article_edited)
    print(
        f"\n== one round over {pages} real news pages: {edited} with an article edit, "
        f"{pages - edited} with a chrome change only",
        flush=True,
    )
    server.set_round(0)
    urls = [server.url(number) for number in range(pages)]
    tools: list[Tool] = [tracker, urlwatch]
    for tool in tools:
        tool.setup(urls)
    warm_up(tools, server, args.verbose)
    snap = work / "snapshot"
    snapshot(tools, snap)
    before = tracker.versions_by_url()
    server.set_round(1)

    def versions_made(tool: Tool, run: Run) -> str:
        """After a tracker run (not timed): which pages got a new version."""
        if not isinstance(tool, Tracker):
            return ""
        after = tracker.versions_by_url()
        new = {number for number, url in enumerate(urls) if after[url] > before[url]}
        caught = sum(1 for number in new if rounds.article_edited[number])
        false = len(new) - caught
        missed = [urls[n] for n in range(pages) if rounds.article_edited[n] and n not in new]
        if args.verbose and missed:
            print(f"            edited pages without a new version: {' '.join(missed[:10])}")
        return (
            f"\n            new versions: {caught}/{edited} edited pages,"
            f" {false}/{pages - edited} chrome-only pages"
        )

    runs = timed(tools, server, snap, args.repeat, args.verbose, after=versions_made)
    best = {name: seconds_of(tool_runs)[0] for name, tool_runs in runs.items()}
    median = {name: seconds_of(tool_runs)[1] for name, tool_runs in runs.items()}
    cells = {name: f"{median[name]:.2f} s (median; min {best[name]:.2f} s)" for name in runs}
    fraction = median["tracker"] / median["urlwatch"]
    return Row(
        f"one round over {pages} real news pages, {edited} of them changed"
        f" ({pages - edited} chrome only)",
        cells["tracker"],
        cells["urlwatch"],
        f"{fraction:.2f} of urlwatch's time",
        fraction <= CHANGED_TARGET,
        f"≤ {CHANGED_TARGET:g} of urlwatch's wall time",
        cpu_of(runs),
    )


# -- the report ------------------------------------------------------------------------------


def tracker_revision() -> str:
    def git(*command: str) -> str:
        found = subprocess.run(["git", "-C", str(ROOT), *command], capture_output=True, text=True)
        return found.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = " + uncommitted changes in tracker/" if git("status", "--porcelain", "tracker") else ""
    return commit + dirty


def print_header(
    args: argparse.Namespace,
    tracker: Tracker,
    urlwatch_version: str,
    urlwatch_threads: int,
    pages: int,
    subreaper: bool,
) -> None:
    version = subprocess.run(
        [*tracker.command, "--version"], capture_output=True, text=True, env=tracker.env
    ).stdout.strip()
    settings = tracker.settings()
    keys = (
        "global_concurrency",
        "per_host_concurrency",
        "per_host_min_delay",
        "extract_processes",
        "respect_robots_txt",
        "render",
    )
    shown = ", ".join(f"{key} {settings.get(key, '?')}" for key in keys)
    print(f"tracker vs urlwatch {urlwatch_version}: whole commands, one local server")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"Python {platform.python_version()}"
    )
    print(f"tracker: {version} at {tracker_revision()}; SQLite; `tracker check --all`; {shown}")
    print(
        f"urlwatch {urlwatch_version}: its defaults: a pool of {urlwatch_threads} threads; "
        "a new connection per request (requests.request, no session); If-None-Match with "
        "the stored ETag and If-Modified-Since with the last run's time; 304 counts as "
        "unchanged; no filters (it compares the raw page); stdout reporter, colour off"
    )
    print(
        f"corpus: {pages} pages from {args.corpus}; repetitions: {args.repeat}, "
        "tools alternating, data reset to the post-warm-up snapshot before each; "
        "output to files"
    )
    print(
        "changed round: an article edit is a word changed and a sentence added in the "
        "longest <p> of the article (the corpus' ground truth tells which <p> are); a chrome "
        "change is a new counter element in the footer and a new script nonce"
    )
    accounting = "and all its descendants" if subreaper else "and the children it waited for"
    print(f"CPU: user + system seconds of the command {accounting}")


def print_table(rows: list[Row], urlwatch_version: str) -> None:
    print()
    print(f"| work | tracker | urlwatch {urlwatch_version} | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row.work} | {row.tracker} | {row.urlwatch} | {row.ratio} |")
    print()
    for row in rows:
        verdict = "met" if row.met else "NOT met"
        print(f"target {row.target}: {verdict} ({row.ratio})")
    for row in rows:
        print(f"CPU of the whole command, median: {row.cpu}  ({row.work.split(' (')[0]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared" / "corpus", help="news pages"
    )
    parser.add_argument("--stories", type=int, default=1000, help="for the unchanged pass")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions per tool")
    parser.add_argument("--only", choices=("unchanged", "changed"))
    parser.add_argument(
        "--urlwatch-venv", type=Path, help="install urlwatch here and keep it (default: a temp dir)"
    )
    parser.add_argument("--verbose", action="store_true", help="stderr tails, missed pages")
    args = parser.parse_args(argv)

    subreaper = become_subreaper()
    corpus = load_corpus(args.corpus)
    rounds = make_rounds(corpus)
    with tempfile.TemporaryDirectory(prefix="versus-urlwatch-") as tmp:
        temp = Path(tmp)
        venv = args.urlwatch_venv or temp / "urlwatch-venv"
        urlwatch_version, urlwatch_threads = install_urlwatch(venv.resolve())
        compile_tracker()
        server = Server(rounds)
        try:
            rows = []
            print_header(
                args,
                Tracker(temp / "probe"),
                urlwatch_version,
                urlwatch_threads,
                len(corpus),
                subreaper,
            )
            if args.only in (None, "unchanged"):
                work = temp / "unchanged"
                rows.append(
                    bench_unchanged(
                        args, server, Tracker(work), Urlwatch(work, venv.resolve()), work
                    )
                )
            if args.only in (None, "changed"):
                work = temp / "changed"
                rows.append(
                    bench_changed(
                        args, server, rounds, Tracker(work), Urlwatch(work, venv.resolve()), work
                    )
                )
            print_table(rows, urlwatch_version)
            print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        finally:
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
