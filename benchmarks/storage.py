"""Storage growth per story per day at a realistic cadence, and export speed.

Simulates stories written the way checks write them (content-addressed zstd captures of
each version's raw page, version rows with the article text, one small row per check):

- day one: a developing story, checked every 15 min for 3 h then hourly (33 checks), with
  ``--versions-day-one`` versions (default 4);
- a settled day: checked every 3 h (8 checks), a new version on one day in five.

Pages come from the corpus (real news HTML) with a changing nonce, so every version's
capture is a distinct body, as on real sites. Prints bytes per story per day (database
size after VACUUM), the figure per 1,000 stories, and JSON and WARC export speed.

    python benchmarks/storage.py --corpus ../shared/corpus [--stories 300]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.config import Settings  # noqa: E402
from tracker.services.archive import database_size, export_json, export_warc, vacuum  # noqa: E402
from tracker.store.captures import store_capture  # noqa: E402
from tracker.store.db import Database  # noqa: E402
from tracker.store.models import Check, Story, StoryStatus, Version  # noqa: E402


def load_pages(corpus: Path) -> list[tuple[bytes, str]]:
    truth = json.loads((corpus / "ground-truth.json").read_text())
    pages = []
    for path in sorted((corpus / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        text = (truth.get(key) or {}).get("articleBody") or ""
        pages.append((gzip.decompress(path.read_bytes()), text))
    return pages


def write_day(
    db: Database,
    pages: list[tuple[bytes, str]],
    story_ids: list[int],
    *,
    day: int,
    checks: int,
    versions_for: callable,
    start: datetime,
) -> None:
    with db.session() as session:
        for index, story_id in enumerate(story_ids):
            html, text = pages[index % len(pages)]
            story = session.get(Story, story_id)
            for n in range(versions_for(index)):
                seq = story.version_count + 1
                now = start + timedelta(days=day, minutes=15 * n)
                # A new paragraph per version; a nonce, as real pages carry, makes bodies distinct.
                extra = f"<p>Update {seq}: officials said more on day {day}.</p>"
                body = html.replace(b"</body>", f"{extra}<!-- {story_id}-{seq} --></body>".encode())
                sha = store_capture(
                    session,
                    body,
                    url=story.url,
                    status=200,
                    headers={"content-type": "text/html; charset=utf-8", "etag": f'"{seq}"'},
                    encoding="utf-8",
                    now=now,
                )
                version = Version(
                    story_id=story_id,
                    seq=seq,
                    captured_at=now,
                    fingerprint=f"{story_id:032x}{seq:032x}",
                    title=f"Story {story_id}",
                    headlines=[f"Story {story_id}"],
                    text=text + "".join(f"\n\nUpdate {i}." for i in range(1, seq + 1)),
                    kinds=["paragraphs_added"] if seq > 1 else ["first"],
                    summary="1 paragraph added",
                    capture_sha256=sha,
                )
                session.add(version)
                story.version_count = seq
            for n in range(checks):
                session.add(
                    Check(
                        story_id=story_id,
                        started_at=start + timedelta(days=day, minutes=15 * n),
                        duration_ms=180,
                        outcome="unchanged",
                        http_status=200,
                        bytes=len(html),
                        worker="bench:1",
                    )
                )


@contextlib.contextmanager
def scratch_schema(url: str | None) -> Iterator[str | None]:
    """On PostgreSQL, a schema of our own, dropped afterwards (the database stays clean)."""
    if not url or not url.startswith("postgresql"):
        yield url
        return
    schema = f"bench_storage_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--versions-day-one", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    pages = load_pages(args.corpus)
    with tempfile.TemporaryDirectory() as home, scratch_schema(args.database_url) as url:
        settings = Settings(home=Path(home), database_url=url)
        db = Database(settings)
        start = datetime(2024, 3, 1, tzinfo=UTC)
        with db.session() as session:
            stories = [
                Story(
                    url=f"https://news.example.com/story/{i}",
                    status=StoryStatus.ACTIVE,
                    added_at=start,
                    first_seen_at=start,
                    ignore_patterns=[],
                    version_count=0,
                )
                for i in range(args.stories)
            ]
            session.add_all(stories)
            session.flush()
            ids = [s.id for s in stories]
        vacuum(db)
        empty = database_size(db)

        write_day(
            db,
            pages,
            ids,
            day=0,
            checks=33,
            versions_for=lambda i: args.versions_day_one,
            start=start,
        )
        vacuum(db)
        day_one = database_size(db)
        settled_days = 5
        for day in range(1, settled_days + 1):
            write_day(
                db,
                pages,
                ids,
                day=day,
                checks=8,
                versions_for=lambda i, d=day: 1 if (i + d) % 5 == 0 else 0,
                start=start,
            )
        vacuum(db)
        settled = database_size(db)

        n = args.stories
        first = (day_one - empty) / n
        later = (settled - day_one) / n / settled_days
        print(f"backend: {db.engine.dialect.name}; {n} stories; {len(pages)} corpus pages")
        print(
            f"day one ({args.versions_day_one} versions, 33 checks): {first / 1024:.1f} KiB/story"
            f" -> {first * 1000 / 1e6:.1f} MB per 1,000 stories"
        )
        print(
            f"settled day (0.2 versions, 8 checks): {later / 1024:.2f} KiB/story/day"
            f" -> {later * 1000 / 1e6:.2f} MB per 1,000 stories per day"
        )

        with db.session() as session:
            out = io.StringIO()
            began = time.perf_counter()
            export_json(session, out, now=datetime.now(UTC))
            json_seconds = time.perf_counter() - began
        with db.session() as session:
            buffer = io.BytesIO()
            began = time.perf_counter()
            summary = export_warc(session, buffer, user_agent=settings.user_agent)
            warc_seconds = time.perf_counter() - began
        size = len(out.getvalue()) / 1e6
        print(
            f"JSON export: {n / json_seconds:.0f} stories/s, "
            f"{size / json_seconds:.1f} MB/s ({size:.1f} MB)"
        )
        print(
            f"WARC export: {summary.responses / warc_seconds:.0f} captures/s, "
            f"{buffer.tell() / 1e6 / warc_seconds:.1f} MB/s gzipped "
            f"({buffer.tell() / 1e6:.1f} MB, {summary.responses} captures)"
        )
        db.dispose()


if __name__ == "__main__":
    main()
