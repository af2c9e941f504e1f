"""``tracker demo``: a developing story served on 127.0.0.1, tracked live, no internet needed.

The page moves through :data:`tracker.demo.site.STAGES` (a promise of an update, the press
conference, a rewritten headline, a removed sentence, a corrected figure) while its chrome
changes on every request. The daemon checks it every couple of seconds and the demo prints
what the tracker sees: versions, change kinds and the word diff.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import click

from tracker.config import Settings
from tracker.core import diffing
from tracker.demo.site import STAGES, render_page
from tracker.pipeline.story_state import CheckReport
from tracker.services.daemon import Daemon
from tracker.services.stories import add_stories, find_story, get_version
from tracker.store.db import Database
from tracker.store.models import CheckOutcome

STORY_PATH = "/news/us-iran-talks"


class DemoSite:
    """A local news site whose one story advances a stage every ``step`` seconds."""

    def __init__(self, step: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.step = step
        self.clock = clock
        self.started = clock()
        self.requests = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/robots.txt":
                    self._send(200, "text/plain", b"User-agent: *\nAllow: /\n")
                elif self.path == STORY_PATH:
                    site.requests += 1
                    page = render_page(site.stage(), site.requests).encode()
                    self._send(200, "text/html; charset=utf-8", page)
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def stage_index(self) -> int:
        return min(int((self.clock() - self.started) / self.step), len(STAGES) - 1)

    def stage(self):
        return STAGES[self.stage_index()]

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{STORY_PATH}"

    def __enter__(self) -> DemoSite:
        self.started = self.clock()
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def demo_settings(settings: Settings, interval: float) -> Settings:
    """Fast cadence and loopback allowed: for the demo only."""
    return settings.model_copy(
        update={
            "allow_private_networks": True,
            "per_host_min_delay": 0.0,
            "cadence_tiers": f"365d={interval}s",
            "developing_interval": f"{interval}s",
            "jitter": 0.0,
            "dispatch_interval": min(1.0, interval / 2),
            "summary_interval": 3600.0,
            "extract_processes": 0,
        }
    )


def run_demo(settings: Settings, *, step: float, interval: float, echo=click.echo) -> int:
    """Run the demo; returns the number of versions the tracker stored."""
    settings = demo_settings(settings, interval)
    db = Database(settings)
    seen_versions: list[int] = []
    done = threading.Event()

    with DemoSite(step) as site:
        with db.session() as session:
            [added] = add_stories(session, [site.url], now=_now(), allow_private_networks=True)
        echo(f"Serving a developing story at {site.url}")
        echo(f"It changes every {step:g} s; the tracker checks it every {interval:g} s.\n")

        def on_report(report: CheckReport) -> None:
            if report.story_id != added.story_id:
                return
            if report.outcome == CheckOutcome.CHANGED and report.version_seq:
                seen_versions.append(report.version_seq)
                _print_version(db, site.url, report, echo)
            elif report.outcome != CheckOutcome.CHANGED:
                label = str(report.outcome).replace("_", " ")
                echo(
                    click.style(
                        f"  · checked: {label} (page chrome changed, article did not)"
                        if report.outcome == CheckOutcome.UNCHANGED
                        else f"  · checked: {label} {report.error or ''}",
                        dim=True,
                    )
                )
            if len(seen_versions) >= len(STAGES):
                done.set()

        daemon = Daemon(db, settings, on_report=on_report)
        daemon.start()
        try:
            done.wait(timeout=step * (len(STAGES) + 2) + 10)
        finally:
            daemon.stop(grace=5)
    db.dispose()
    home = settings.home
    echo("")
    echo(f"The tracker kept {len(seen_versions)} versions of the story in {home}.")
    echo("Explore them:")
    echo(f"  tracker --home {home} history {site.url}")
    echo(f"  tracker --home {home} diff {site.url} 2")
    echo(f"  tracker --home {home} show {site.url} 1")
    echo("Or browse them, with side-by-side diffs, in the web UI:")
    echo(
        f"  tracker --home {home} serve     # then open http://{settings.web_host}:{settings.web_port}/"
    )
    return len(seen_versions)


def _print_version(db: Database, url: str, report: CheckReport, echo) -> None:
    # Colour on a terminal; elsewhere (a pipe, a log) git-style [-old-]{+new+} markers.
    color = sys.stdout.isatty()
    with db.session() as session:
        story = find_story(session, url)
        version = get_version(session, story, report.version_seq)
        previous = get_version(session, story, version.seq - 1) if version.seq > 1 else None
        events = ", ".join(report.events)
        header = f"v{version.seq} · {version.summary}" + (f" · {events}" if events else "")
        echo(click.style(header, bold=True))
        echo(f"  headline: {version.title}")
        if previous is None:
            echo("  " + version.text.split("\n\n")[-1])
        else:
            if previous.title != version.title:
                title_diff = diffing.word_diff(previous.title or "", version.title or "")
                echo("  headline: " + diffing.render_terminal(title_diff, color=color))
            change = diffing.word_diff(previous.text, version.text)
            for line in _changed_paragraphs(diffing.render_terminal(change, color=color)):
                echo("  " + line)
        echo("")


def _changed_paragraphs(rendered: str) -> list[str]:
    """Only the paragraphs of a terminal diff that carry a change."""
    return [p for p in rendered.split("\n\n") if "\x1b[" in p or "[-" in p or "{+" in p]


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
