"""Alert delivery: throughput to a local webhook receiver, and the delay from a change being
stored to its webhook arriving.

    python benchmarks/alerts.py [--count 500] [--changes 20] [--database-url URL]

Throughput: ``--count`` versions are stored (each enqueues one delivery), then delivery
ticks send them all; deliveries per second include building each alert (word diff,
unified diff, JSON, signature) and recording every attempt. Delay: ``--changes`` real
checks of a changing page on a local server; a thread runs the delivery tick every
``delivery_interval`` seconds as the daemon does; we time commit → webhook arrival.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from sqlalchemy import select

from tracker.config import Settings
from tracker.notify.webhook import new_secret
from tracker.pipeline.engine import CheckEngine
from tracker.pipeline.outbox import DeliveryRunner, enqueue_alerts
from tracker.services.stories import add_stories
from tracker.store.channels import add_channel
from tracker.store.db import Database
from tracker.store.models import Story, Version


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    arrivals: ClassVar[list[tuple[float, bytes]]] = []
    pages: ClassVar[dict[str, bytes]] = {}

    def do_POST(self) -> None:  # the webhook
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.arrivals.append((time.perf_counter(), body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # the story page
        page = Receiver.pages.get(self.path)
        self.send_response(200 if page else 404)
        body = page or b"not found"
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def page(n: int) -> bytes:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the developing story says something reasonably long about "
        f"the events of the day, update {n if i == n % 8 else 0}.</p>"
        for i in range(8)
    )
    return (
        f"<html><head><title>Story</title></head><body><article><h1>Story</h1>{paragraphs}"
        "</article></body></html>"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="deliveries for throughput")
    parser.add_argument("--changes", type=int, default=20, help="changes for the delay test")
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--interval", type=float, default=1.0, help="delivery_interval, s")
    args = parser.parse_args()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home),
            database_url=args.database_url,
            allow_private_networks=True,
            per_host_min_delay=0.0,
            extract_processes=0,
            respect_robots_txt=False,
            delivery_concurrency=args.concurrency,
            delivery_interval=args.interval,
        )
        db = Database(settings)
        now = datetime.now(UTC)
        with db.session() as session:
            add_channel(
                session, name="bench", kind="webhook", target=f"{base}/hook",
                secret=new_secret(), min_kind=None, events=["new", "changed"], now=now,
            )  # fmt: skip
            add_stories(session, [f"{base}/bulk"], now=now, allow_private_networks=True)
            story = session.scalar(select(Story))
            for seq in range(1, args.count + 1):
                text = page(seq).decode()
                version = Version(
                    story_id=story.id, seq=seq, captured_at=now + timedelta(seconds=seq),
                    fingerprint=f"{seq:064d}", title="Story", text=text,
                    kinds=["first"] if seq == 1 else ["text_edited"], summary="1 paragraph edited",
                )  # fmt: skip
                session.add(version)
                session.flush()
                enqueue_alerts(session, story=story, version=version, events=[], now=now)
            story.version_count = args.count

        runner = DeliveryRunner(db, settings, worker="bench")
        started = time.perf_counter()
        sent = 0
        while report := runner.tick():
            if not report.attempted:
                break
            sent += report.sent
        elapsed = time.perf_counter() - started
        print(f"throughput: {sent} deliveries in {elapsed:.2f} s = {sent / elapsed:.0f}/s "
              f"({db.engine.dialect.name}, {args.concurrency} senders)")  # fmt: skip

        # Delay: a real check stores a version; the tick thread sends it.
        Receiver.arrivals.clear()
        Receiver.pages["/live"] = page(0)
        with db.session() as session:
            add_stories(session, [f"{base}/live"], now=now, allow_private_networks=True)
            live_id = session.scalar(select(Story.id).where(Story.url == f"{base}/live"))
        engine = CheckEngine(db, settings)
        engine.check_now([live_id])
        stop = threading.Event()

        def ticking() -> None:
            while not stop.wait(args.interval):
                runner.tick()

        thread = threading.Thread(target=ticking, daemon=True)
        thread.start()
        delays = []
        for n in range(1, args.changes + 1):
            Receiver.pages["/live"] = page(n)
            before = len(Receiver.arrivals)
            engine.check_now([live_id])
            stored = time.perf_counter()
            deadline = stored + 30
            while len(Receiver.arrivals) == before and time.perf_counter() < deadline:
                time.sleep(0.002)
            if len(Receiver.arrivals) > before:
                delays.append(Receiver.arrivals[before][0] - stored)
        stop.set()
        thread.join()
        engine.close()
        runner.close()
        db.dispose()
    httpd.shutdown()
    if delays:
        delays.sort()
        p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
        print(
            f"delay stored → webhook arrived over {len(delays)} changes "
            f"(delivery_interval {args.interval:g} s): median {statistics.median(delays):.3f} s, "
            f"p95 {p95:.3f} s, max {delays[-1]:.3f} s"
        )


if __name__ == "__main__":
    main()
