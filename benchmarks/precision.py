"""How often page chrome creates a version, and how often real edits are caught.

For each corpus page, a `LivePage` drifts round after round the way a live page does: every
round applies one to three chrome mutations (compounding on the drifting page); the round's
fingerprint is compared with the last stored version's, as the check pipeline does. Every round
also tries each article edit on a copy of the drifted page and counts it caught when the
fingerprint changes; one of those edits is kept every other round, so the story evolves too.

    python benchmarks/precision.py --corpus /work/shared/corpus [--pages N] [--rounds N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tracker.core import region
from tracker.core.extract import extract
from tracker.core.normalize import fingerprint, fingerprint_lines

# The page mutations are test helpers (tests/mutations.py), kept out of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from mutations import ARTICLE_MUTATIONS, CHROME_MUTATIONS, LivePage


def run_page(job: tuple[str, str, str, int, int, bool]) -> dict:
    key, html, body, rounds, seed, verbose = job
    result: dict = {
        "key": key,
        "chrome_rounds": 0,
        "false_versions": 0,
        "by_mutation": Counter(),
        "tried": Counter(),
        "caught": Counter(),
        "examples": [],
        "extractions": 0,
        "region_settled": 0,  # chrome rounds the region test settled without extraction
        "region_hid": Counter(),  # edits the region test would have let through unread
    }
    page = LivePage.from_html(html, body, seed=seed)
    if not page.usable():
        result["skipped"] = True
        return result
    page.install_in_article_chrome()
    rng = random.Random(seed)

    def article_of(p: LivePage):
        result["extractions"] += 1
        return extract(p.html(), None)

    # The check pipeline's region test (tracker.core.region): after each full read it keeps
    # where the article sat; a page whose region digest is unchanged is not read again.
    def region_of(p: LivePage, article) -> region.Region | None:
        return region.locate(region.prepare(p.html()), article, salt="")

    def region_same(p: LivePage) -> bool:
        if known_region is None:
            return False
        digest = region.digest_at(region.prepare(p.html()), known_region.path, salt="")
        return digest == known_region.digest

    stored = article_of(page)
    if not stored.text:
        result["skipped"] = True
        return result
    stored_fp = fingerprint(stored)
    known_region = region_of(page, stored)
    for round_no in range(rounds):
        names = rng.sample(sorted(CHROME_MUTATIONS), rng.randint(1, 3))
        applied = [name for name in names if CHROME_MUTATIONS[name](page)]
        current = article_of(page)
        result["chrome_rounds"] += 1
        fp = fingerprint(current)
        if region_same(page):
            result["region_settled"] += 1
        else:
            known_region = region_of(page, current)  # a full read places the region again
        if fp != stored_fp:
            result["false_versions"] += 1
            for name in applied:
                result["by_mutation"][name] += 1
            if verbose and len(result["examples"]) < 3:
                before, after = set(fingerprint_lines(stored)), set(fingerprint_lines(current))
                result["examples"].append(
                    (applied, sorted(before - after)[:4], sorted(after - before)[:4])
                )
            stored, stored_fp = current, fp
        edited_pages = {}
        for name, mutation in ARTICLE_MUTATIONS.items():
            trial = page.copy()
            if not mutation(trial):
                continue
            result["tried"][name] += 1
            if fingerprint(article_of(trial)) != stored_fp:
                result["caught"][name] += 1
                if region_same(trial):
                    result["region_hid"][name] += 1
            elif verbose and len(result["examples"]) < 6:
                result["examples"].append((["MISSED " + name], _edited(page, trial), []))
            edited_pages[name] = trial
        if round_no % 2 == 1 and edited_pages:
            name = rng.choice(sorted(edited_pages))
            page = edited_pages[name]
            stored = article_of(page)
            stored_fp = fingerprint(stored)
            known_region = region_of(page, stored)
    return result


def _edited(before: LivePage, after: LivePage) -> list[str]:
    """The article paragraphs an edit removed or changed, as they read before it."""
    old = [" ".join(p.text_content().split()) for p in before.paragraphs]
    new = set(" ".join(p.text_content().split()) for p in after.paragraphs)
    return [text[:160] for text in old if text not in new][:2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=0, help="first N pages only (0: all)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="show examples of failures")
    args = parser.parse_args(argv)

    truth = json.loads((args.corpus / "ground-truth.json").read_text())
    keys = sorted(truth)[: args.pages or None]
    jobs = []
    for index, key in enumerate(keys):
        raw = gzip.decompress((args.corpus / "html" / f"{key}.html.gz").read_bytes())
        html = raw.decode("utf-8", "replace")
        jobs.append(
            (key, html, truth[key]["articleBody"], args.rounds, args.seed + index, args.verbose)
        )
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run_page, jobs, chunksize=1))
    elapsed = time.perf_counter() - started

    skipped = [r["key"] for r in results if r.get("skipped")]
    chrome_rounds = sum(r["chrome_rounds"] for r in results)
    false_versions = sum(r["false_versions"] for r in results)
    by_mutation, tried, caught = Counter(), Counter(), Counter()
    for r in results:
        by_mutation.update(r["by_mutation"])
        tried.update(r["tried"])
        caught.update(r["caught"])
    extractions = sum(r["extractions"] for r in results)
    settled = sum(r["region_settled"] for r in results)
    hid: Counter[str] = Counter()
    for r in results:
        hid.update(r["region_hid"])

    print(
        f"pages: {len(results) - len(skipped)} used, {len(skipped)} skipped "
        f"(no article paragraphs located or nothing extracted); rounds per page: {args.rounds}"
    )
    share = false_versions / chrome_rounds if chrome_rounds else 0.0
    print(
        f"chrome-only rounds: {chrome_rounds}; rounds that created a version: "
        f"{false_versions} ({share:.2%})  [target <= 2%]"
    )
    if by_mutation:
        print(
            "  mutations present in those rounds: "
            + ", ".join(f"{k} {v}" for k, v in by_mutation.most_common())
        )
    print("article edits caught (fingerprint changed)  [target >= 99% per kind]:")
    for name in ARTICLE_MUTATIONS:
        if tried[name]:
            print(
                f"  {name:<20} {caught[name]:>5}/{tried[name]:<5} {caught[name] / tried[name]:.2%}"
            )
    settled_share = settled / chrome_rounds if chrome_rounds else 0.0
    print(
        f"region test: chrome-only rounds settled without extraction: {settled}/{chrome_rounds}"
        f" ({settled_share:.2%}); caught edits it would have let through unread: "
        f"{sum(hid.values())}  [target 0]"
        + (" (" + ", ".join(f"{k} {v}" for k, v in hid.most_common()) + ")" if hid else "")
    )
    print(
        f"{extractions} extractions in {elapsed:.1f} s with {args.workers} workers "
        f"({extractions / elapsed:.1f} pages/s)"
    )
    if args.verbose:
        for r in results:
            for example in r["examples"]:
                print(r["key"][:12], example)
    return 0


if __name__ == "__main__":
    sys.exit(main())
