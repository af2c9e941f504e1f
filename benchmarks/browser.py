"""What rendering a page in the browser costs: pages per second and the browser's memory.

Serves N small app-shell pages from 127.0.0.1 (each inserts its article from a JSON request
to its own server, as the pages the browser fetcher exists for do) in another process, and
fetches them all with the "browser" fetcher from as many threads as it renders pages at
once. Prints pages/second (the first launch included, and without it) and the peak summed
VmRSS and Pss of Chromium's process tree, sampled every 50 ms (Pss counts shared memory
once: the tree's real footprint, and what the memory ceiling compares); also the plain
HTTP fetcher's pages/second on the same pages for comparison.

    python benchmarks/browser.py [--pages 20] [--browser-pages 2] [--executable /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.net.browser import BrowserFetcher, memory_bytes, resident_bytes  # noqa: E402
from tracker.net.fetcher import MB, FetchOptions  # noqa: E402
from tracker.net.http import HttpFetcher  # noqa: E402

PAGE = """<!DOCTYPE html><html><head><title>Story {n}</title></head>
<body><main id="app">Loading…</main><script>
fetch("/s/{n}.json").then(r => r.json()).then(d => {{
  document.getElementById("app").innerHTML = "<article><h1>" + d.h + "</h1><p>" + d.p + "</p>";
}});
</script></body></html>"""


def serve(port_queue: multiprocessing.Queue) -> None:
    """The pages (in their own process, so the server does not compete for our GIL)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            number = name.split(".")[0]
            if name.endswith(".json"):
                body = json.dumps({"h": f"Headline {number}", "p": "Text. " * 200}).encode()
                kind = "application/json"
            else:
                body = PAGE.format(n=number).encode()
                kind = "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


class MemorySampler(threading.Thread):
    def __init__(self, fetcher: BrowserFetcher) -> None:
        super().__init__(daemon=True)
        self.fetcher = fetcher
        self.peak_rss = 0
        self.peak_pss = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            pids = self.fetcher.browser_pids()
            self.peak_rss = max(self.peak_rss, resident_bytes(pids))
            self.peak_pss = max(self.peak_pss, memory_bytes(pids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--browser-pages", type=int, default=2)
    parser.add_argument("--executable", default=None)
    args = parser.parse_args()

    port_queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(port_queue,), daemon=True)
    server.start()
    port = port_queue.get(timeout=10)
    urls = [f"http://127.0.0.1:{port}/s/{n}" for n in range(args.pages)]
    options = FetchOptions(
        allow_private_networks=True,
        browser_pages=args.browser_pages,
        browser_executable=args.executable,
        browser_max_memory_mb=0,  # measured here, not enforced
    )
    try:
        with BrowserFetcher(options) as fetcher, ThreadPoolExecutor(args.browser_pages) as pool:
            sampler = MemorySampler(fetcher)
            sampler.start()
            started = time.perf_counter()
            first = fetcher.fetch(urls[0])  # launches the browser
            launched = time.perf_counter()
            results = [first, *pool.map(fetcher.fetch, urls[1:])]
            finished = time.perf_counter()
            sampler.stopping.set()
            sampler.join()
        failed = [r for r in results if not r.ok or "Headline" not in (r.text or "")]
        if failed:
            raise SystemExit(f"{len(failed)} pages failed, e.g. {failed[0].error}")
        with HttpFetcher(options) as http:
            plain_started = time.perf_counter()
            with ThreadPoolExecutor(args.browser_pages) as pool:
                list(pool.map(http.fetch, urls))
            plain = len(urls) / (time.perf_counter() - plain_started)
    finally:
        server.terminate()

    print(f"pages: {len(urls)}, browser_pages: {args.browser_pages}")
    print(f"browser: {len(urls) / (finished - started):.2f} pages/s with the launch")
    print(f"browser: {(len(urls) - 1) / (finished - launched):.2f} pages/s after the launch")
    print(f"browser: launch and first page {launched - started:.2f} s")
    print(f"browser: peak summed VmRSS of Chromium's processes {sampler.peak_rss / MB:.0f} MB")
    print(f"browser: peak summed Pss (browser_max_memory_mb) {sampler.peak_pss / MB:.0f} MB")
    print(f"http:    {plain:.1f} pages/s (no rendering, same pages)")


if __name__ == "__main__":
    main()
