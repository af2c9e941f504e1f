"""The research export over the corpus' history: rows/s and file sizes, as users run it.

    python benchmarks/research_export.py --corpus ../shared/corpus [--rounds 6]

Builds a history first: every corpus page is served from a local HTTP server and checked by
the real pipeline (SQLite, in a temporary directory); then, round after round, one article
edit from the corpus mutations (tests/mutations.py: a paragraph added or deleted, a word or
a figure changed, a quote edited ...) is applied to each page and every story is checked
again, so each round stores one version per story. Then the whole commands
`tracker export --format parquet -o DIR` and `--format csv` are timed, twice each; the
tracker prints its own summary (rows, MB, rows/s).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tracker.config import Settings
from tracker.pipeline.engine import CheckEngine
from tracker.services.stories import add_stories
from tracker.store.db import Database

# The page mutations and the local server are test helpers, kept out of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from mutations import ARTICLE_MUTATIONS, LivePage
from servers import LocalServer


def build_history(db: Database, settings: Settings, corpus: Path, rounds: int) -> int:
    truth = json.loads((corpus / "ground-truth.json").read_text())
    pages: dict[str, LivePage] = {}
    for index, key in enumerate(sorted(truth)):
        html = gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes())
        page = LivePage.from_html(html.decode("utf-8", "replace"), truth[key]["articleBody"], index)
        if page.usable():
            pages[key] = page
    rng = random.Random(1)
    with LocalServer() as server, CheckEngine(db, settings) as engine:
        for key, page in pages.items():
            server.set(f"/{key}", page.html())
        with db.session() as session:
            added = add_stories(
                session,
                [server.url(f"/{key}") for key in pages],
                now=datetime.now(UTC),
                allow_private_networks=True,
            )
        ids = [a.story_id for a in added]
        for round_no in range(rounds + 1):
            if round_no:
                for key, page in pages.items():
                    for name in rng.sample(sorted(ARTICLE_MUTATIONS), len(ARTICLE_MUTATIONS)):
                        if ARTICLE_MUTATIONS[name](page):
                            break
                    server.set(f"/{key}", page.html())
            reports = engine.check_now(ids)
            changed = sum(1 for r in reports if r.outcome == "changed")
            print(f"  round {round_no}: {changed}/{len(ids)} stories changed", file=sys.stderr)
    return len(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=6, help="edit rounds after the first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home),
            allow_private_networks=True,
            per_host_min_delay=0.0,
            per_host_concurrency=16,
            respect_robots_txt=False,
        )
        db = Database(settings)
        began = time.perf_counter()
        stories = build_history(db, settings, args.corpus, args.rounds)
        db.dispose()
        print(
            f"history: {stories} corpus pages, {args.rounds} edit rounds, built in "
            f"{time.perf_counter() - began:.0f} s"
        )
        env = {**os.environ, "TRACKER_HOME": home}
        for file_format in ("parquet", "csv", "parquet", "csv"):
            out = Path(home) / f"out-{file_format}"
            began = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tracker",
                    "export",
                    "--format",
                    file_format,
                    "-o",
                    str(out),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - began
            print(f"{file_format:8} whole command {wall:5.2f} s: {done.stderr.strip()[-170:]}")


if __name__ == "__main__":
    main()
