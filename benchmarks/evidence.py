"""How long `tracker verify --all` takes over a large history, as a user runs it.

    python benchmarks/evidence.py [--stories 10000] [--versions 100000] [--database-url URL]

Seeds a fresh database (SQLite in a temporary directory by default; an empty PostgreSQL
database or schema with --database-url) with stories of chained versions, about 2 KB of
text each, written in bulk exactly as the tracker chains them (tracker.store.chain's rules
through tracker.core.chain), then times the whole command `tracker verify --all` and
`tracker verify --all --json`, each twice, and prints the result line and the wall time.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from tracker.config import Settings
from tracker.core.chain import links_for
from tracker.store.db import Database
from tracker.store.models import Story, StoryStatus, Version

VOCABULARY = [
    "the",
    "council",
    "said",
    "on",
    "Tuesday",
    "that",
    "officials",
    "would",
    "review",
    "flood",
    "defences",
    "after",
    "the",
    "river",
    "rose",
    "overnight",
    "and",
    "residents",
    "were",
    "evacuated",
    "from",
    "homes",
    "near",
    "the",
    "bridge",
    "while",
    "police",
    "closed",
    "roads",
    "and",
    "the",
    "minister",
    "promised",
    "funding",
    "for",
    "repairs",
    "in",
    "the",
    "coming",
    "weeks",
]


def _text(rng: random.Random, paragraphs: int = 6) -> str:
    return "\n\n".join(
        " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(40, 70))).capitalize() + "."
        for _ in range(paragraphs)
    )


def seed(db: Database, stories: int, versions: int, rng: random.Random) -> None:
    per_story = max(1, versions // stories)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with db.session() as session:
        session.execute(
            insert(Story),
            [
                {
                    "url": f"https://news.example/{n}/story",
                    "status": StoryStatus.ACTIVE,
                    "added_at": start,
                    "first_seen_at": start,
                    "version_count": per_story,
                    "ignore_patterns": [],
                }
                for n in range(stories)
            ],
        )
        ids = {url: story_id for story_id, url in session.query(Story.id, Story.url)}
    done = 0
    for n in range(stories):
        url = f"https://news.example/{n}/story"
        text = _text(rng)
        rows = []
        for seq in range(1, per_story + 1):
            text = text + f" Update {seq}."
            rows.append(
                {
                    "story_id": ids[url],
                    "seq": seq,
                    "captured_at": start + timedelta(minutes=15 * seq),
                    "fingerprint": f"{n:032x}{seq:032x}",
                    "title": f"Story {n}, update {seq}",
                    "headlines": [f"Story {n}, update {seq}"],
                    "text": text,
                    "kinds": ["text_edited"],
                    "raw_sha256": None,
                }
            )
        for row, link in zip(rows, links_for(url, rows), strict=True):
            row["content_sha256"] = link.content_sha256
            row["chain_sha256"] = link.chain_sha256
        with db.session() as session:
            session.execute(insert(Version), rows)
        done += len(rows)
        if n % 1000 == 999:
            print(f"  seeded {n + 1:,} stories, {done:,} versions", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        url = args.database_url or f"sqlite:///{home}/tracker.db"
        db = Database(Settings(home=Path(home), database_url=url))
        began = time.perf_counter()
        seed(db, args.stories, args.versions, random.Random(7))
        db.dispose()
        print(f"seeded in {time.perf_counter() - began:.1f} s ({url.split(':')[0]})")
        env = {**os.environ, "TRACKER_HOME": home, "TRACKER_DATABASE_URL": url}
        tracker = [sys.executable, "-m", "tracker"]
        for extra in ([], ["--json"], [], ["--json"]):
            began = time.perf_counter()
            done = subprocess.run(
                [*tracker, "verify", "--all", *extra], env=env, capture_output=True, text=True
            )
            wall = time.perf_counter() - began
            last = done.stdout.strip().splitlines()[-1] if not extra else "(json)"
            print(
                f"tracker verify --all {' '.join(extra):6} exit {done.returncode}  "
                f"{wall:5.2f} s  {last[:100]}"
            )


if __name__ == "__main__":
    main()
