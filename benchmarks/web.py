"""Web UI render times: a story page with 200 versions, and a diff of two 50 KB versions.

    python benchmarks/web.py [--corpus DIR] [--repeats 20]

Data is written straight into a temporary SQLite database (200 versions of a story that
grows paragraph by paragraph). With --corpus, the 50 KB texts are built from the corpus'
files (any text); without, from a generated article. Prints the median of the repeats.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracker.config import Settings
from tracker.store.db import Database
from tracker.store.models import Story, StoryStatus, Version

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tracker.web import create_app


def _words(corpus: Path | None, rng: random.Random) -> list[str]:
    if corpus is not None:
        words: list[str] = []
        for path in sorted(corpus.rglob("*"))[:200]:
            if path.is_file() and path.stat().st_size < 5_000_000:
                words += path.read_text("utf-8", errors="replace").split()
        if len(words) > 1000:
            return words
    vocabulary = [f"word{n}" for n in range(3000)]
    return [rng.choice(vocabulary) for _ in range(20_000)]


def _article(words: list[str], size: int, rng: random.Random) -> str:
    paragraphs, total = [], 0
    while total < size:
        start = rng.randrange(0, max(1, len(words) - 80))
        paragraph = " ".join(words[start : start + rng.randint(30, 80)]) + "."
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:size]


def _edit(text: str, rng: random.Random, edits: int = 25) -> str:
    tokens = text.split(" ")
    for _ in range(edits):
        position = rng.randrange(len(tokens))
        tokens[position] = rng.choice(["corrected", "updated", "seven", "officials"])
    return " ".join(tokens)


def _store(db: Database, url: str, texts: list[str]) -> int:
    now = datetime.now(UTC)
    with db.session() as session:
        story = Story(
            url=url,
            status=StoryStatus.ACTIVE,
            added_at=now,
            first_seen_at=now,
            next_check_at=now,
            ignore_patterns=[],
            version_count=len(texts),
            title="Benchmark story",
            last_changed_at=now,
        )
        session.add(story)
        session.flush()
        for index, text in enumerate(texts):
            session.add(
                Version(
                    story_id=story.id,
                    seq=index + 1,
                    captured_at=now - timedelta(minutes=10 * (len(texts) - index)),
                    fingerprint=f"{index:064d}",
                    title="Benchmark story",
                    headlines=[],
                    text=text,
                    kinds=["first"] if index == 0 else ["paragraphs_added"],
                    words_added=40,
                    words_removed=index % 7,
                )
            )
        return story.id


def _median_ms(client: TestClient, path: str, repeats: int) -> float:
    client.get(path)  # warm-up
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:200]
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="Directory of texts to build articles from.")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(5)
    words = _words(args.corpus, rng)

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        db = Database(settings)
        # A live story: each version adds a paragraph and edits a few words of the last.
        growing = [_article(words, 2_000, rng)]
        for _ in range(199):
            growing.append(_edit(growing[-1], rng, edits=2) + "\n\n" + _article(words, 300, rng))
        story = _store(db, "https://example.com/200-versions", growing)
        before = _article(words, 50_000, rng)
        big = _store(db, "https://example.com/50kb", [before, _edit(before, rng)])
        with TestClient(create_app(db, settings), base_url="http://127.0.0.1") as client:
            figures = {
                "story page, 200 versions": _median_ms(client, f"/stories/{story}", args.repeats),
                "stories list (2 stories)": _median_ms(client, "/", args.repeats),
                "diff page inline, 2 × 50 KB": _median_ms(
                    client, f"/stories/{big}/diff/1/2", args.repeats
                ),
                "diff page side-by-side, 2 × 50 KB": _median_ms(
                    client, f"/stories/{big}/diff/1/2?view=side", args.repeats
                ),
                "API diff json, 2 × 50 KB": _median_ms(
                    client, f"/api/v1/stories/{big}/diff", args.repeats
                ),
                "Atom feed, 50 entries": _median_ms(
                    client, f"/feeds/stories/{story}.atom", max(3, args.repeats // 4)
                ),
            }
        db.dispose()
    print(f"web render times (median of {args.repeats} requests, in-process client)")
    for name, value in figures.items():
        print(f"  {name:<36} {value:8.1f} ms")


if __name__ == "__main__":
    main()
