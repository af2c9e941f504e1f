"""Full-text search at newsroom scale: 10,000 stories, 100,000 versions.

    python benchmarks/search.py                          # SQLite, in a temporary directory
    python benchmarks/search.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Seeds seeded-random news-like text with bulk inserts (each story a base article of about
300 words from a Zipf-distributed vocabulary, each later version a small edit of the one
before, with now and then a rewritten headline), then times, for a set of queries from the
rarest word to a word in every version: the service (`services.search.search`, one page of
20 stories with snippets) and the two endpoints (GET /search and GET /api/v1/search, in
process through the ASGI app, so server time plus the test client's small overhead).
Prints the median and 95th percentile of --repeats runs of each. With --postgres the data
goes into a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
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

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from tracker.config import Settings
from tracker.services.archive import vacuum
from tracker.services.search import search
from tracker.store.db import Database
from tracker.store.models import Story, StoryTag, Version

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tracker.web import create_app

START = datetime(2026, 1, 1, tzinfo=UTC)


def _word_list(words: str) -> list[str]:
    return words.split()


COMMON = _word_list(
    "the of and to a in that is was he for it with as his on be at by i this had not are but "
    "from or have an they which one you were her all she there would their we him been has when "
    "who will more no if out so said what up its about into than them can only other new some "
    "could time these two may then do first any my now such like our over man me even most made "
    "after also did many before must through back years where much your way well down should "
    "because each just those people how too little state good very make world still own see men "
    "work long get here between both life being under never day same another know while last "
    "might us great old year off come since against go came right used take three"
)
NEWS = _word_list(
    "police officials minister government council mayor city storm fire rescue court judge "
    "election vote president parliament hospital victims toll injured killed arrested suspect "
    "investigation report statement spokesperson residents evacuated flooding earthquake "
    "protest strike talks agreement budget deficit inflation market shares company chief "
    "executive resigned announced confirmed denied warned according sources reuters update "
    "emergency services crews airport train border army ceasefire negotiations sanctions"
)


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    """Common words first, then news words, then made-up names and rare words."""
    syllables = ["ka", "lo", "ven", "dra", "mi", "sto", "rel", "an", "quo", "ter", "bri", "sel"]
    invented = {
        "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(size * 2)
    }
    return COMMON + NEWS + sorted(invented)[: size - len(COMMON) - len(NEWS)]


class Sampler:
    """Words with Zipf frequencies (rank r is drawn in proportion to 1 / r)."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.words = words
        self.rng = rng
        weights = [1.0 / rank for rank in range(1, len(words) + 1)]
        self.cumulative = list(_accumulate(weights))

    def sample(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=count)


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def sentence(sampler: Sampler, rng: random.Random) -> str:
    words = sampler.sample(rng.randint(8, 24))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def article(sampler: Sampler, rng: random.Random, words: int) -> list[str]:
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(sentence(sampler, rng))
    return sentences


def headline(sampler: Sampler, rng: random.Random) -> str:
    return " ".join(sampler.sample(rng.randint(5, 10))).capitalize()


def seed(
    db: Database, stories: int, versions: int, words: int, rng: random.Random
) -> tuple[float, list[str]]:
    """Write the stories and versions with bulk inserts; returns the seconds it took and
    the vocabulary, most frequent word first."""
    sampler = Sampler(vocabulary(rng), rng)
    began = time.perf_counter()
    batch: list[dict[str, object]] = []

    def flush() -> None:
        with db.session() as session:
            session.execute(insert(Version), batch)
        batch.clear()

    for first in range(0, stories, 1000):
        rows = []
        for number in range(first + 1, min(first + 1000, stories) + 1):
            added = START + timedelta(minutes=number * 5)
            rows.append(
                {
                    "id": number,
                    "url": f"https://site{number % 40}.example/news/{number}",
                    "title": None,
                    "status": "active",
                    "added_at": added,
                    "first_seen_at": added,
                    "ignore_patterns": [],
                    "version_count": versions,
                }
            )
        with db.session() as session:
            session.execute(insert(Story), rows)
            session.execute(
                insert(StoryTag),
                [{"story_id": row["id"], "tag": f"tag{int(row['id']) % 25}"} for row in rows],
            )
        for row in rows:
            story_id = int(row["id"])
            body = article(sampler, rng, words)
            title = headline(sampler, rng)
            for seq in range(1, versions + 1):
                if seq > 1:
                    # An edit: a sentence rewritten, and often one added.
                    body[rng.randrange(len(body))] = sentence(sampler, rng)
                    if rng.random() < 0.5:
                        body.append(sentence(sampler, rng))
                    if rng.random() < 0.2:
                        title = headline(sampler, rng)
                batch.append(
                    {
                        "story_id": story_id,
                        "seq": seq,
                        "captured_at": START + timedelta(minutes=story_id * 5 + seq * 17),
                        "fingerprint": f"{story_id:032d}{seq:032d}",
                        "title": title,
                        "headlines": [title, f"{title} | Site {story_id % 40}"],
                        "text": "\n\n".join(
                            " ".join(body[i : i + 4]) for i in range(0, len(body), 4)
                        ),
                        "kinds": [],
                    }
                )
                if len(batch) >= 2000:
                    flush()
        with db.session() as session:
            for row in rows:
                session.execute(
                    text("UPDATE stories SET title = :title WHERE id = :id"),
                    {"title": f"Story {row['id']}", "id": row["id"]},
                )
    if batch:
        flush()
    return time.perf_counter() - began, sampler.words


def timed(run: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """Median and 95th percentile wall time, and median CPU time of this process, in ms.
    (On a shared machine the wall time includes waiting for a core; the CPU time does not,
    but on PostgreSQL it leaves out the server's share.)"""
    run()  # warm the caches once
    samples, cpu = [], []
    for _ in range(repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        run()
        samples.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, statistics.median(cpu)


QUERIES = (
    ("rare word", "{rare}"),
    ("uncommon word", "{uncommon}"),
    ("news word", "minister"),
    ("two words", "police arrested"),
    ("phrase", '"the mayor"'),
    ("common phrase", '"of the"'),
    ("word in every version", "the"),
    ("no match", "zeppelinxyz"),
    ("tag filter", "police @tag=tag3"),
    ("site filter", "police @site=site7.example"),
)


@contextmanager
def database(postgres: str | None) -> Iterator[tuple[Database, str]]:
    with tempfile.TemporaryDirectory() as home:
        if postgres is None:
            url = f"sqlite:///{home}/bench.db"
            db = Database(Settings(home=Path(home), database_url=url))
            try:
                yield db, "SQLite " + db.engine.dialect.server_version_info.__repr__()
            finally:
                db.dispose()
            return
        schema = f"bench_search_{uuid.uuid4().hex[:8]}"
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(postgres)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        db = Database(Settings(home=Path(home), database_url=url))
        try:
            with db.engine.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar()
            yield db, f"PostgreSQL {version}"
        finally:
            db.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL instead of SQLite.")
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=10, help="Versions per story.")
    parser.add_argument("--words", type=int, default=300, help="Words in a base article.")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(15)

    with database(args.postgres) as (db, backend):
        seconds, words = seed(db, args.stories, args.versions, args.words, rng)
        if not db.is_sqlite:
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        total = args.stories * args.versions
        print(f"{backend}: {args.stories:,} stories, {total:,} versions seeded in {seconds:.0f} s")
        client = TestClient(create_app(db, db.settings), base_url="http://127.0.0.1")
        run_queries(db, client, words, args.repeats)
        if db.is_sqlite:
            began = time.perf_counter()
            vacuum(db)
            print(
                f"\nafter `tracker db vacuum` (FTS5 'optimize' and VACUUM: "
                f"{time.perf_counter() - began:.0f} s):"
            )
            run_queries(db, client, words, args.repeats)


def run_queries(db: Database, client: TestClient, words: list[str], repeats: int) -> None:
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print(
        f"{'query':<22} {'stories':>7}  {'service':>22}  {'GET /search':>22}  "
        f"{'GET /api/v1/search':>22}"
    )
    print(f"{'':<22} {'':>7}" + f"  {'median / p95 (cpu) ms':>22}" * 3)
    for label, pattern in QUERIES:
        typed, _, option = pattern.format(rare=words[-1_000], uncommon=words[2_000]).partition(" @")
        filters = dict([option.split("=", 1)]) if option else {}

        def service(typed: str = typed, filters: dict[str, str] = filters) -> int | None:
            with db.read_session() as session:
                return search(session, typed, **filters).total  # type: ignore[arg-type]

        found = service()
        params = {"q": typed, **filters}
        service_ms = timed(service, repeats)
        page_ms = timed(lambda p=params: client.get("/search", params=p), repeats)
        api_ms = timed(lambda p=params: client.get("/api/v1/search", params=p), repeats)
        assert client.get("/search", params=params).status_code == 200
        counted = "more" if found is None else f"{found:,}"
        print(
            f"{label:<22} {counted:>7}"
            + "".join(
                f"  {ms[0]:>6.1f} / {ms[1]:>6.1f} ({ms[2]:>5.1f})"
                for ms in (service_ms, page_ms, api_ms)
            )
        )


if __name__ == "__main__":
    main()
