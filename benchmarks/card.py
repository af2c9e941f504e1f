"""Diff card render times: one card of a change in a 50 KB article, drawn by headless Chromium.

    python benchmarks/card.py [--repeats 5]

Prints, for one card:
- building it (database read, word diff, alt text): what the API and the diff page pay;
- cold: the first drawing in this process (Python imports Playwright, Chromium starts with
  its files not yet in the page cache when the machine is fresh);
- warm: the median of the next drawings (each still launches its own Chromium: the web
  keeps no browser between cards, see tracker/net/html_image.py);
- cached: the web route answering from <home>/cards.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracker.config import Settings
from tracker.services.cards import card_png, load_card
from tracker.services.stories import add_stories, find_story
from tracker.store.db import Database
from tracker.store.models import Story, Version

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tracker.web import create_app

PARAGRAPH = (
    "Rescue teams worked through the night in the flooded districts south of the capital, "
    "where officials said the water had risen faster than at any time since records began."
)


def _story(db: Database) -> int:
    before = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(300))  # about 50 KB
    after = before.replace("150. Rescue", "150. At least 284 people died. Rescue")
    now = datetime.now(UTC)
    with db.session() as session:
        [added] = add_stories(session, ["https://www.example.com/floods"], now=now)
        story = session.get(Story, added.story_id)
        assert story is not None
        for seq, (title, text) in enumerate(
            (("Floods: dozens dead", before), ("Floods: at least 284 dead", after)), start=1
        ):
            session.add(
                Version(
                    story_id=story.id,
                    seq=seq,
                    captured_at=now - timedelta(minutes=30 * (2 - seq)),
                    fingerprint=f"{seq:064d}",
                    title=title,
                    headlines=[title],
                    text=text,
                    kinds=["first"] if seq == 1 else ["headline", "text_edited"],
                )
            )
        story.version_count = 2
        return story.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home_dir:
        home = Path(home_dir)
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'tracker.db'}")
        db = Database(settings)
        story_id = _story(db)

        builds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            with db.read_session() as session:
                card = load_card(session, find_story(session, story_id), None)
            builds.append(time.perf_counter() - started)

        started = time.perf_counter()
        png = card_png(card)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            card_png(card)
            warm.append(time.perf_counter() - started)

        client = TestClient(create_app(db, settings), base_url="http://127.0.0.1")
        path = f"/stories/{story_id}/versions/2/card.png"
        assert client.get(path).status_code == 200  # drawn and kept
        cached = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            cached.append(time.perf_counter() - started)
        db.dispose()

    print(f"card of a change in a 50 KB article ({len(png):,} bytes of PNG)")
    print(f"  build (read, diff, alt text): {statistics.median(builds) * 1000:7.1f} ms median")
    print(f"  draw, cold:                   {cold * 1000:7.1f} ms")
    print(f"  draw, warm:                   {statistics.median(warm) * 1000:7.1f} ms median")
    print(f"  web route, cached:            {statistics.median(cached) * 1000:7.1f} ms median")


if __name__ == "__main__":
    main()
