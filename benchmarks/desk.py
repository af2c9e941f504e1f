"""The newsroom desk at scale: server time of the changes page and search.

    python benchmarks/desk.py [--stories 10000] [--versions 100000] [--repeats 30]
                              [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                              [--explain]

Seeds N stories and M versions of seeded random, realistic news text (numbers revised,
sentences edited, added and removed, headlines rewritten, corrections appended, live-blog
entries) with bulk inserts, each version carrying what the pipeline stores with it (its
excerpt and replaced headline, tracker.core.excerpt, and its kind rows). SQLite in a
temporary directory by default; with --database-url, PostgreSQL in a schema of its own that
is dropped afterwards.

Then requests the changes page (/changes, /api/v1/changes) with and without filters and a
page deep in the list, and search (/search?q=, /api/v1/search?q=: "not available" while it
answers 404), through an in-process ASGI client. The time reported is the server's own:
from the request reaching the app to the last byte of its response, without the client.
Prints the median and 95th percentile per request. --explain prints the query plans of the
changes queries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

from tracker.config import Settings
from tracker.core.excerpt import change_excerpt, excerpt_to_json, previous_headline
from tracker.store.db import Database
from tracker.store.models import Story, StoryTag, Version, VersionKind

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tracker.web import create_app

NOW = datetime.now(UTC).replace(microsecond=0)
SITES = [
    "example.com",
    "news.example.org",
    "www.dailyherald.example",
    "globe.example.net",
    "citypost.example",
    "tribune.example.co.uk",
    "courier.example.de",
    "gazette.example.fr",
] + [f"local{n}.example.com" for n in range(32)]
TAGS = ["politics", "world", "business", "weather", "sport", "health", "science", "crime"]
PLACES = ["Springfield", "Riverside", "Lakeview", "Hillcrest", "Port Ellis", "Northgate", "Ashford"]
PEOPLE = ["the mayor", "the governor", "police", "a spokesperson", "officials", "the minister"]
NOUNS = [
    "flood", "fire", "storm", "vote", "strike", "trial", "election", "budget", "outbreak",
    "earthquake", "protest", "merger", "recall", "heatwave", "shortage", "rescue", "inquiry",
]  # fmt: skip
VERBS = ["said", "confirmed", "announced", "reported", "warned", "denied", "estimated"]
THINGS = [
    "people were injured", "homes were evacuated", "roads remain closed", "schools will reopen",
    "flights were cancelled", "workers joined the strike", "votes were counted",
    "families were moved to shelters", "patients were treated", "arrests were made",
]  # fmt: skip
WHEN = ["on Tuesday", "overnight", "this morning", "late on Monday", "at noon", "since Friday"]
EXTRA = [
    "Emergency crews worked through the night to reach the worst-hit streets.",
    "Residents described scenes of confusion as water rose quickly.",
    "The council will meet again to review the response.",
    "A helpline has been set up for relatives.",
    "Power was restored to most households by the evening.",
    "Opposition leaders called for an independent inquiry.",
    "Markets fell sharply after the announcement.",
    "Hospitals in the region said they were coping.",
]


def sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(PEOPLE).capitalize()} {rng.choice(VERBS)} that {rng.randint(2, 900)} "
        f"{rng.choice(THINGS)} in {rng.choice(PLACES)} {rng.choice(WHEN)}."
    )


def article(rng: random.Random) -> list[list[str]]:
    return [
        [
            sentence(rng) if rng.random() < 0.6 else rng.choice(EXTRA)
            for _ in range(rng.randint(2, 4))
        ]
        for _ in range(rng.randint(3, 5))
    ]


def as_text(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


def headline(rng: random.Random, noun: str, place: str) -> str:
    return rng.choice(
        [
            f"{noun.capitalize()} in {place}: {rng.randint(2, 300)} affected",
            f"{place} {noun} live: latest updates",
            f"What we know about the {place} {noun}",
            f"{noun.capitalize()} hits {place} as officials respond",
        ]
    )


def evolve(
    rng: random.Random, paragraphs: list[list[str]], title: str, noun: str, place: str, live: bool
) -> tuple[list[list[str]], str, list[str]]:
    """The next version: one realistic edit, and the kinds it makes."""
    paragraphs = [list(p) for p in paragraphs]
    roll = rng.random()
    if live:
        paragraphs.insert(0, [f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} {sentence(rng)}"])
        return paragraphs, title, ["entry_added"]
    if roll < 0.45:  # a figure revised in place
        p = rng.randrange(len(paragraphs))
        s = rng.randrange(len(paragraphs[p]))
        words = paragraphs[p][s].split()
        numbers = [i for i, w in enumerate(words) if w.isdigit()]
        i = rng.choice(numbers) if numbers else rng.randrange(len(words))
        words[i] = str(rng.randint(2, 900))
        paragraphs[p][s] = " ".join(words)
        return paragraphs, title, ["text_edited"]
    if roll < 0.65:
        paragraphs.append([sentence(rng), rng.choice(EXTRA)])
        return paragraphs, title, ["paragraphs_added"]
    if roll < 0.75 and len(paragraphs) > 2:
        del paragraphs[rng.randrange(1, len(paragraphs))]
        return paragraphs, title, ["paragraphs_removed"]
    if roll < 0.88:
        return paragraphs, headline(rng, noun, place), ["headline"]
    if roll < 0.91:
        paragraphs.append(
            [f"Correction: an earlier version of this story misstated {rng.choice(THINGS)}."]
        )
        return paragraphs, title, ["correction"]
    if roll < 0.96:
        paragraphs[-1][-1] = paragraphs[-1][-1].rstrip(".") + "!"
        return paragraphs, title, ["minor"]
    return paragraphs, title, ["byline"]


def seed(db: Database, stories: int, versions: int, rng: random.Random) -> None:
    """Bulk-insert the stories, versions and kind rows (explicit ids: one round trip each)."""
    counts = [1] * stories
    weights = [rng.paretovariate(1.5) for _ in range(stories)]
    for index in rng.choices(range(stories), weights=weights, k=max(0, versions - stories)):
        counts[index] += 1
    story_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    version_rows: list[dict[str, Any]] = []
    kind_rows: list[dict[str, Any]] = []
    version_id = 0
    started = time.perf_counter()

    def flush() -> None:
        with db.engine.begin() as connection:
            for model, rows in (
                (Story, story_rows),
                (StoryTag, tag_rows),
                (Version, version_rows),
                (VersionKind, kind_rows),
            ):
                if rows:
                    connection.execute(insert(model), rows)
                    rows.clear()

    for story_id in range(1, stories + 1):
        noun, place = rng.choice(NOUNS), rng.choice(PLACES)
        live = rng.random() < 0.05
        site = rng.choice(SITES)
        url = f"https://{site}/news/{place.lower().replace(' ', '-')}-{noun}-{story_id}"
        title = headline(rng, noun, place)
        paragraphs = article(rng)
        # Whole minutes between the story's start and now: versions of different stories
        # often share an instant, as checks in one dispatch round do.
        start = rng.randint(0, 60 * 24 * 30)
        times = sorted(rng.randint(0, start) for _ in range(counts[story_id - 1]))
        previous_text: str | None = None
        previous_title: str | None = None
        kinds = ["first"]
        for seq in range(1, counts[story_id - 1] + 1):
            at = NOW - timedelta(minutes=start - times[seq - 1])
            if seq > 1:
                paragraphs, title, kinds = evolve(rng, paragraphs, title, noun, place, live)
            body = as_text(paragraphs)
            version_id += 1
            version_rows.append(
                {
                    "id": version_id,
                    "story_id": story_id,
                    "seq": seq,
                    "captured_at": at,
                    "fingerprint": f"{version_id:064x}",
                    "title": title,
                    "headlines": [title],
                    "text": body,
                    "kinds": kinds,
                    "summary": ", ".join(kinds),
                    "words_added": rng.randint(0, 40),
                    "words_removed": rng.randint(0, 20),
                    "chars_added": 0,
                    "chars_removed": 0,
                    "diff_coarse": False,
                    "previous_title": previous_headline(previous_title, title),
                    "excerpt": excerpt_to_json(change_excerpt(previous_text, body)),
                }
            )
            kind_rows.extend(
                {"version_id": version_id, "kind": kind, "captured_at": at} for kind in kinds
            )
            previous_text, previous_title = body, title
        story_rows.append(
            {
                "id": story_id,
                "url": url,
                "title": title,
                "status": "active",
                "added_by": "user",
                "added_at": NOW - timedelta(days=31),
                "first_seen_at": NOW - timedelta(days=31),
                "last_changed_at": at,
                "next_check_at": NOW + timedelta(hours=1),
                "developing": False,
                "promise_state": "none",
                "consecutive_failures": 0,
                "consecutive_gone": 0,
                "version_count": counts[story_id - 1],
                "ignore_patterns": [],
            }
        )
        tag_rows.extend(
            {"story_id": story_id, "tag": tag} for tag in rng.sample(TAGS, rng.randint(1, 2))
        )
        if len(version_rows) >= 5000:
            flush()
    flush()
    with db.engine.begin() as connection:
        if not db.is_sqlite:
            for table in ("stories", "versions"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
    print(
        f"seeded {stories:,} stories, {version_id:,} versions in "
        f"{time.perf_counter() - started:.1f} s ({'SQLite' if db.is_sqlite else 'PostgreSQL'})"
    )


class ServerTimer:
    """ASGI middleware: how long the app took, from the request to its last byte."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last: float | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = time.perf_counter() - started

        await self.app(scope, receive, timed_send)


def measure(client: TestClient, timer: ServerTimer, path: str, repeats: int) -> list[float] | None:
    first = client.get(path)  # warm-up (and: is it there?)
    if first.status_code == 404:
        return None
    assert first.status_code == 200, (path, first.status_code, first.text[:300])
    timings = []
    for _ in range(repeats):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert timer.last is not None
        timings.append(timer.last * 1000)
    return timings


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


@contextmanager
def database(url: str | None, home: Path) -> Iterator[tuple[Database, Settings]]:
    if url is None:
        settings = Settings(home=home)
        db = Database(settings)
        try:
            yield db, settings
        finally:
            db.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    settings = Settings(home=home, database_url=scoped.render_as_string(hide_password=False))
    db = Database(settings)
    try:
        yield db, settings
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def explain(db: Database, run: Callable[[], Any]) -> None:
    """The plans of the SELECTs `run` makes on the changes page."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "max(stories.id)" not in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    with db.engine.connect() as connection:
        for statement, parameters in seen:
            prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN ANALYZE "
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            for row in rows:
                print("    " + " | ".join(str(column) for column in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir).")
    parser.add_argument("--explain", action="store_true", help="Print the changes query plans.")
    parser.add_argument(
        "--home",
        type=Path,
        help="SQLite only: keep the database in this directory, and reuse it when it is seeded.",
    )
    args = parser.parse_args()
    if args.versions < args.stories:
        parser.error("--versions must be at least --stories (every story has a first version)")
    rng = random.Random(args.seed)

    with (
        tempfile.TemporaryDirectory() as scratch,
        database(args.database_url, args.home or Path(scratch)) as (db, settings),
    ):
        with db.engine.connect() as connection:
            seeded = connection.execute(text("SELECT count(*) FROM stories")).scalar()
        if not seeded:
            seed(db, args.stories, args.versions, rng)
        timer = ServerTimer(create_app(db, settings))
        with TestClient(timer, base_url="http://127.0.0.1") as client:
            deep = None
            for _ in range(20):  # the 21st page of the API, 50 a page
                page = client.get("/api/v1/changes", params={"before": deep} if deep else {})
                deep = page.json()["next"]
            requests = {
                "/changes": "/changes",
                "/changes, 21st page": f"/changes?before={deep}",
                "/changes?kind=headline": "/changes?kind=headline",
                "/changes?kind=correction (rare)": "/changes?kind=correction",
                "/changes?kind=3 kinds": (
                    "/changes?kind=headline&kind=correction&kind=paragraphs_removed"
                ),
                "/changes?tag=politics": "/changes?tag=politics",
                "/changes?site=example.com": "/changes?site=example.com",
                "/changes?since=24h": "/changes?since=24h",
                "/changes?kind+tag+since": "/changes?kind=text_edited&tag=weather&since=7d",
                "/api/v1/changes": "/api/v1/changes",
                "/api/v1/changes?kind=correction": "/api/v1/changes?kind=correction",
                "/api/v1/changes?site+kind": "/api/v1/changes?site=news.example.org&kind=headline",
                "/search?q=evacuated": "/search?q=evacuated",
                "/search?q=Port Ellis flood": "/search?q=Port+Ellis+flood",
                "/api/v1/search?q=evacuated": "/api/v1/search?q=evacuated",
            }
            backend = "SQLite" if db.is_sqlite else "PostgreSQL"
            print(
                f"\nserver time per request, {backend}, {args.stories:,} stories / "
                f"{args.versions:,} versions, {args.repeats} requests each (after one warm-up)"
            )
            print(f"  {'request':<40} {'median ms':>10} {'p95 ms':>8}")
            for name, path in requests.items():
                timings = measure(client, timer, path, args.repeats)
                if timings is None:
                    print(f"  {name:<40} {'not available':>19}")
                    continue
                print(f"  {name:<40} {statistics.median(timings):>10.1f} {p95(timings):>8.1f}")
        if args.explain:
            from tracker.services.changes_feed import changes_page, make_filter

            for label, filters in (
                ("no filter", {}),
                ("kind=correction", {"kinds": ["correction"]}),
                ("kind=headline,correction", {"kinds": ["headline", "correction"]}),
                ("tag=politics", {"tag": "politics"}),
                ("site=example.com", {"site": "example.com"}),
                (
                    "site=news.example.org, kind=headline",
                    {"site": "news.example.org", "kinds": ["headline"]},
                ),
                (
                    "kind=text_edited, tag=weather, since=7d",
                    {"kinds": ["text_edited"], "tag": "weather", "since": "7d"},
                ),
            ):
                print(f"\n  plan, {label}:")
                with db.read_session() as session:
                    chosen = make_filter(now=NOW, **filters)
                    explain(db, lambda s=session, c=chosen: changes_page(s, c))


if __name__ == "__main__":
    main()
