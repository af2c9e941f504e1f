"""Developing pages: false versions from page chrome, edits caught, and whether the stored text
is the article, on stories served the way ten real CMS families serve them.

The pages come from `developing_sites.py` (seeded: `--seed`), served from 127.0.0.1 by a
thread of this process. The real tracker runs against them as users run it, as whole commands
in subprocesses: `tracker add --file` once, then `tracker check --all --json` once per round,
with a temporary SQLite home and TRACKER_* settings that allow loopback (private networks
allowed, no per-host delay, robots.txt not consulted) and `render=auto`, the default, so pages
only a browser can read may escalate to the browser fetcher. After each round the tracker's
database is read (read-only) for the latest version of each story: its text against the
article the generator served that round, and its extraction-health verdict.

Round 0 is the first fetch; odd rounds change only chrome (every second one a "republish":
only the visible "Updated" time and JSON-LD dateModified move as well); even rounds carry one
real edit of a kind that makes sense for the story type. Per story type it prints:

- false versions: chrome-only checks that made a new version (target <= 2%);
- edits caught, per edit kind and overall: edit rounds that made a version (target >= 97%);
- stored-text recall: the share of the served article's words (headline and body, or live
  entries) found in the latest stored version (title and text), averaged over the stories at
  the last round (target >= 0.95);
- stories whose stored text is mostly not the article (recall < 0.5) with no suspect flag on
  the story or its latest version (target 0). A story with no version at all is counted apart:
  its failed checks are what the user sees.

    python benchmarks/developing.py [--quick] [--stories 60] [--rounds 12] [--seed 1]
                                    [--verbose] [--browser-cost]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from developing_sites import (  # noqa: E402
    CHROME,
    CLIENT_RENDERED,
    EDIT_KINDS,
    FAMILIES,
    FIRST,
    REPUBLISH,
    STORY_TYPES,
    DevelopingSite,
    Story,
    build_stories,
)

FALSE_TARGET = 0.02
CAUGHT_TARGET = 0.97
RECALL_TARGET = 0.95
NOT_ARTICLE_RECALL = 0.5
QUICK = {"stories": 24, "rounds": 6}
DEFAULT = {"stories": 60, "rounds": 12}
_WORD = re.compile(r"\w+")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def tokens(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def recall(truth: str, stored: str) -> float:
    want = tokens(truth)
    have = tokens(stored)
    total = sum(want.values())
    return sum(min(n, have[word]) for word, n in want.items()) / total if total else 1.0


@dataclass
class Observation:
    """One check of one story in one round, and the tracker's state after it."""

    round_no: int
    round_kind: str
    outcome: str
    new_version: bool
    summary: str | None
    error: str | None
    recall: float | None  # None: no version stored yet
    flagged: bool
    fetcher: str | None


@dataclass
class StoryRun:
    story: Story
    story_id: int | None = None
    observations: list[Observation] = field(default_factory=list)


class Tracker:
    """The tracker CLI in a temporary home, as a user runs it."""

    def __init__(self, home: Path, executable: str | None) -> None:
        self.home = home
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env.update(
            TRACKER_HOME=str(home),
            TRACKER_ALLOW_PRIVATE_NETWORKS="true",
            TRACKER_PER_HOST_MIN_DELAY="0",
            TRACKER_PER_HOST_CONCURRENCY="8",
            TRACKER_RESPECT_ROBOTS_TXT="false",
            TRACKER_RENDER="auto",
        )
        if executable:
            env["TRACKER_BROWSER_EXECUTABLE"] = executable
        self.env = env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "tracker", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode not in (0, 1):
            raise SystemExit(
                f"tracker {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
            )
        return result

    def latest(self) -> dict[str, dict]:
        """Per story URL: the latest version's title, text, health and fetcher, and the
        story's own extraction health (columns read only where the schema has them)."""
        connection = sqlite3.connect(f"file:{self.home / 'tracker.db'}?mode=ro", uri=True)
        try:
            story_columns = {row[1] for row in connection.execute("PRAGMA table_info(stories)")}
            version_columns = {row[1] for row in connection.execute("PRAGMA table_info(versions)")}

            def column(table: str, name: str, present: set[str]) -> str:
                return f"{table}.{name}" if name in present else "NULL"

            rows = connection.execute(
                "SELECT s.url, v.title, v.text, "
                f"{column('s', 'extraction_health', story_columns)}, "
                f"{column('v', 'health', version_columns)}, "
                f"{column('v', 'fetcher', version_columns)}, "
                f"{column('s', 'last_fetcher', story_columns)} "
                "FROM stories s LEFT JOIN versions v "
                "ON v.story_id = s.id AND v.seq = s.version_count"
            ).fetchall()
        finally:
            connection.close()
        return {
            url: {
                "title": title,
                "text": text,
                "story_health": story_health,
                "version_health": version_health,
                "fetcher": version_fetcher or last_fetcher,
            }
            for url, title, text, story_health, version_health, version_fetcher, last_fetcher in (
                rows
            )
        }


def run_rounds(
    stories: list[Story], rounds: int, executable: str | None, keep: Path | None
) -> tuple[list[StoryRun], list[float]]:
    runs = [StoryRun(story) for story in stories]
    timings: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="developing-") as scratch,
        DevelopingSite(stories) as site,
    ):
        home = keep or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        tracker = Tracker(home, executable)
        url_of = {run.story.id: site.url(run.story) for run in runs}
        urls = home / "urls.txt"
        urls.write_text("".join(url + "\n" for url in url_of.values()))
        added = json.loads(tracker.run("add", "--file", str(urls), "--json").stdout)
        ids = {row["url"]: row["id"] for row in added}
        for run in runs:
            run.story_id = ids.get(url_of[run.story.id])
        for round_no in range(rounds):
            site.round = round_no
            started = time.perf_counter()
            result = tracker.run("check", "--all", "--json")
            elapsed = time.perf_counter() - started
            timings.append(elapsed)
            reports = {report["story_id"]: report for report in json.loads(result.stdout or "[]")}
            latest = tracker.latest()
            changed = errors = 0
            for run in runs:
                report = reports.get(run.story_id, {})
                row = latest.get(url_of[run.story.id], {})
                stored = row.get("text")
                health = (row.get("story_health"), row.get("version_health"))
                observation = Observation(
                    round_no=round_no,
                    round_kind=run.story.round_kinds[round_no],
                    outcome=report.get("outcome", "missing"),
                    new_version=report.get("version") is not None,
                    summary=report.get("summary"),
                    error=report.get("error"),
                    recall=None
                    if stored is None
                    else recall(run.story.truth(round_no), f"{row.get('title') or ''}\n\n{stored}"),
                    flagged="suspect" in health,
                    fetcher=row.get("fetcher"),
                )
                run.observations.append(observation)
                changed += observation.new_version
                errors += observation.outcome in ("error", "empty", "blocked", "missing")
            kind = stories[0].round_kinds[round_no] if stories else ""
            kind = kind if kind in (FIRST, CHROME, REPUBLISH) else "edit"
            log(
                f"round {round_no + 1}/{rounds} ({kind}): {len(runs)} checks in {elapsed:.1f} s, "
                f"{changed} new versions, {errors} failed"
            )
    return runs, timings


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@dataclass
class Figures:
    stories: int = 0
    chrome_checks: int = 0
    chrome_false: int = 0
    republish_checks: int = 0
    republish_false: int = 0
    edit_checks: Counter[str] = field(default_factory=Counter)
    edit_caught: Counter[str] = field(default_factory=Counter)
    recalls: list[float] = field(default_factory=list)
    not_article_unflagged: int = 0
    not_article_flagged: int = 0
    no_version: int = 0
    failed_checks: int = 0
    checks: int = 0
    fetchers: Counter[str] = field(default_factory=Counter)

    def add(self, run: StoryRun) -> None:
        self.stories += 1
        for obs in run.observations:
            self.checks += 1
            self.failed_checks += obs.outcome in ("error", "empty", "blocked", "missing")
            if obs.round_kind in (CHROME, REPUBLISH):
                self.chrome_checks += 1
                self.chrome_false += obs.new_version
                if obs.round_kind == REPUBLISH:
                    self.republish_checks += 1
                    self.republish_false += obs.new_version
            elif obs.round_kind != FIRST:
                self.edit_checks[obs.round_kind] += 1
                self.edit_caught[obs.round_kind] += obs.new_version
        last = run.observations[-1] if run.observations else None
        if last is None or last.recall is None:
            self.no_version += 1
            self.recalls.append(0.0)
            return
        self.recalls.append(last.recall)
        self.fetchers[last.fetcher or "?"] += 1
        if last.recall < NOT_ARTICLE_RECALL:
            if last.flagged:
                self.not_article_flagged += 1
            else:
                self.not_article_unflagged += 1

    @property
    def caught(self) -> tuple[int, int]:
        return sum(self.edit_caught.values()), sum(self.edit_checks.values())

    @property
    def recall(self) -> float:
        return sum(self.recalls) / len(self.recalls) if self.recalls else 0.0


def report(runs: list[StoryRun], verbose: bool) -> None:
    by_type: dict[str, Figures] = defaultdict(Figures)
    by_family: dict[str, Figures] = defaultdict(Figures)
    families_of: dict[str, Counter[str]] = defaultdict(Counter)
    for run in runs:
        by_type[run.story.kind].add(run)
        by_family[run.story.family].add(run)
        families_of[run.story.kind][run.story.family] += 1
    for kind in STORY_TYPES:
        f = by_type.get(kind)
        if f is None:
            continue
        mix = ", ".join(f"{name} {n}" for name, n in families_of[kind].items())
        print(f"\n== {kind}: {f.stories} stories ({mix})")
        false_share = f.chrome_false / f.chrome_checks if f.chrome_checks else 0.0
        print(
            f"  false versions, chrome-only checks   {pct(f.chrome_false, f.chrome_checks):<18}"
            f" target <= {FALSE_TARGET:.0%}  {mark(false_share <= FALSE_TARGET)}"
            f"   (of which republish {pct(f.republish_false, f.republish_checks)})"
        )
        caught, tried = f.caught
        print(
            f"  edits caught                         {pct(caught, tried):<18}"
            f" target >= {CAUGHT_TARGET:.0%} {mark(tried > 0 and caught / tried >= CAUGHT_TARGET)}"
        )
        for name in EDIT_KINDS:
            if f.edit_checks[name]:
                print(f"    {name:<34} {pct(f.edit_caught[name], f.edit_checks[name])}")
        print(
            f"  stored-text recall, latest version   {f.recall:<18.3f}"
            f" target >= {RECALL_TARGET}  {mark(f.recall >= RECALL_TARGET)}"
        )
        print(
            f"  mostly not the article, unflagged    {f.not_article_unflagged:<18}"
            f" target 0      {mark(f.not_article_unflagged == 0)}"
            f"   (flagged suspect: {f.not_article_flagged}; no version stored: {f.no_version})"
        )
        print(f"  failed checks (error/empty)          {pct(f.failed_checks, f.checks)}")
        if kind == "js":
            fetched = ", ".join(f"{name} {n}" for name, n in sorted(f.fetchers.items()))
            print(f"  latest versions by fetcher           {fetched or '-'}")

    print("\nby CMS family:")
    print(
        f"  {'family':<11} {'stories':>7} {'false versions':>16} {'edits caught':>16} "
        f"{'recall':>7} {'bad&unflagged':>13} {'no version':>10}  fetcher"
    )
    for family in FAMILIES:
        f = by_family.get(family)
        if f is None:
            continue
        caught, tried = f.caught
        false_share = f"{f.chrome_false / f.chrome_checks:.1%}" if f.chrome_checks else "-"
        caught_share = f"{caught / tried:.1%}" if tried else "-"
        fetched = ",".join(sorted(f.fetchers)) or "-"
        print(
            f"  {family:<11} {f.stories:>7} {false_share:>16} {caught_share:>16} "
            f"{f.recall:>7.3f} {f.not_article_unflagged:>13} {f.no_version:>10}  {fetched}"
        )
    client = [run for run in runs if run.story.family in CLIENT_RENDERED]
    if client:
        by_browser = sum(
            1 for run in client if run.observations and run.observations[-1].fetcher == "browser"
        )
        read = sum(
            1
            for run in client
            if run.observations and (run.observations[-1].recall or 0.0) >= RECALL_TARGET
        )
        print(
            f"\nclient-rendered (spa) stories: {len(client)}; latest version fetched by the "
            f"browser: {by_browser}; article read (recall >= {RECALL_TARGET}): {read}"
        )
    if verbose:
        print("\nexamples (false versions, missed edits, low recall):")
        shown: Counter[str] = Counter()
        for run in runs:
            for obs in run.observations:
                label = None
                if obs.round_kind in (CHROME, REPUBLISH) and obs.new_version:
                    label = f"FALSE {obs.round_kind}"
                elif obs.round_kind not in (FIRST, CHROME, REPUBLISH) and not obs.new_version:
                    label = f"MISSED {obs.round_kind}"
                if label and shown[run.story.family + label] < 2:
                    shown[run.story.family + label] += 1
                    print(
                        f"  {run.story.kind:<6} {run.story.family:<10} r{obs.round_no} {label}: "
                        f"{obs.outcome} {obs.summary or obs.error or ''}"[:220]
                    )
            last = run.observations[-1] if run.observations else None
            if last and (last.recall or 0.0) < RECALL_TARGET:
                print(
                    f"  {run.story.kind:<6} {run.story.family:<10} final recall "
                    f"{last.recall if last.recall is not None else 'no version'} "
                    f"flagged={last.flagged} outcome={last.outcome} {last.error or ''}"[:220]
                )


def browser_cost(stories: list[Story], pages: int, executable: str | None) -> None:
    """Render the client-rendered stories with the browser fetcher, two pages at once, as
    benchmarks/browser.py does (its memory sampler): pages/s and Chromium's peak memory."""
    from concurrent.futures import ThreadPoolExecutor

    from browser import MemorySampler

    from tracker.net.browser import BrowserFetcher
    from tracker.net.fetcher import MB, FetchOptions

    client = [story for story in stories if story.family in CLIENT_RENDERED]
    if not client:
        print("\nbrowser cost: no client-rendered stories in this run")
        return
    pool_size = 2
    options = FetchOptions(
        allow_private_networks=True,
        browser_pages=pool_size,
        browser_executable=executable,
        browser_max_memory_mb=0,  # measured here, not enforced
    )
    with DevelopingSite(stories) as site:
        site.round = 0
        urls = [site.url(client[n % len(client)]) for n in range(pages)]
        with BrowserFetcher(options) as fetcher, ThreadPoolExecutor(pool_size) as pool:
            sampler = MemorySampler(fetcher)
            sampler.start()
            started = time.perf_counter()
            first = fetcher.fetch(urls[0])
            launched = time.perf_counter()
            results = [first, *pool.map(fetcher.fetch, urls[1:])]
            finished = time.perf_counter()
            sampler.stopping.set()
            sampler.join()
    rendered = sum(1 for r in results if r.ok and "story__paragraph" in (r.text or ""))
    print(f"\nbrowser cost (client-rendered pages, pool of {pool_size}, {len(urls)} pages):")
    if not first.ok:
        print(f"  the browser fetcher failed: {first.error}")
        return
    print(f"  rendered with the article: {rendered}/{len(results)}")
    print(f"  {len(urls) / (finished - started):.2f} pages/s with the launch")
    if len(urls) > 1:
        print(f"  {(len(urls) - 1) / (finished - launched):.2f} pages/s after the launch")
    print(f"  launch and first page {launched - started:.2f} s")
    print(f"  peak summed VmRSS of Chromium's processes {sampler.peak_rss / MB:.0f} MB")
    print(f"  peak summed Pss (what browser_max_memory_mb compares) {sampler.peak_pss / MB:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="24 stories, 6 rounds")
    parser.add_argument("--stories", type=int, help=f"default {DEFAULT['stories']}")
    parser.add_argument("--rounds", type=int, help=f"default {DEFAULT['rounds']}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--executable", help="Chromium for the browser fetcher (default: found)")
    parser.add_argument("--verbose", action="store_true", help="examples of each failure")
    parser.add_argument(
        "--browser-cost", action="store_true", help="also measure rendering: pages/s, memory"
    )
    parser.add_argument("--browser-pages", type=int, default=20, help="pages for --browser-cost")
    parser.add_argument("--keep", type=Path, help="keep the tracker's home in this directory")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else DEFAULT
    count = args.stories or sizes["stories"]
    rounds = args.rounds or sizes["rounds"]
    if rounds < 3:
        parser.error("--rounds: at least 3 (a first fetch, a chrome round, an edit round)")

    stories = build_stories(args.seed, count, rounds)
    log(f"{count} stories, {rounds} rounds, seed {args.seed}")
    started = time.perf_counter()
    runs, timings = run_rounds(stories, rounds, args.executable, args.keep)
    total = time.perf_counter() - started
    print(
        f"developing pages: {count} stories x {rounds} rounds (seed {args.seed}); "
        f"{len(FAMILIES)} CMS families; tracker run as `tracker check --all --json` per round, "
        "render=auto"
    )
    report(runs, args.verbose)
    checks = count * rounds
    print(
        f"\n{checks} checks in {sum(timings):.1f} s of `tracker check` "
        f"({checks / sum(timings):.1f} checks/s; slowest round {max(timings):.1f} s); "
        f"whole run {total:.1f} s"
    )
    if args.browser_cost:
        browser_cost(stories, args.browser_pages, args.executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
