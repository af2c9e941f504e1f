"""Every output of a full read (tracker.pipeline.check.analyse) over the corpus, as JSON.

A change meant to make the read faster must leave this dump byte-identical (or explain each
difference): run it before and after, then `cmp` the files. With --time it also prints the
read's CPU per page (the least of --repeat runs of each page: the machine's other load only
ever adds time), with --profile a cProfile of
one pass.

    python benchmarks/analyse_dump.py --corpus /work/shared/corpus --out /tmp/before.json
    python benchmarks/analyse_dump.py --corpus /work/shared/corpus --time --repeat 3
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gzip
import json
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tracker.core.region import Region
from tracker.pipeline.check import Analysis, analyse


def _plain(value: object) -> Any:
    """A dataclass tree as JSON-ready lists and dicts, every field kept (repr=False too)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(item) for item in value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _fields(analysis: Analysis) -> dict[str, Any]:
    plain = _plain(analysis)
    plain.pop("cpu")  # timings, not output
    return plain


def read_page(html: str, url: str) -> dict[str, Any]:
    """A page read as a first check reads it, and as a changed round reads it (the region
    test first, with a stale digest: the page parsed for the test is reused)."""
    first = analyse(html, url, None, ())
    stale = Region(first.region.path if first.region else "/html/body", "stale")
    changed = analyse(html, url, None, (), known_fingerprint="stale", known_region=stale)
    return {"first": _fields(first), "changed": _fields(changed)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="write the dump here")
    parser.add_argument("--time", action="store_true", help="print CPU per page")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, help="print the top N of a profile")
    args = parser.parse_args(argv)

    truth = json.loads((args.corpus / "ground-truth.json").read_text())
    pages = [
        ((args.corpus / "html" / f"{key}.html.gz").read_bytes(), entry.get("url") or "")
        for key, entry in sorted(truth.items())
    ]
    pages_text = [(gzip.decompress(raw).decode("utf-8", "replace"), url) for raw, url in pages]
    analyse(*pages_text[0], None, ())  # imports and caches out of the measurements

    if args.out:
        dump = {
            key: read_page(html, url)
            for key, (html, url) in zip(sorted(truth), pages_text, strict=True)
        }
        args.out.write_text(json.dumps(dump, indent=1, sort_keys=True, ensure_ascii=False))
        print(f"{len(dump)} pages written to {args.out}")
    if args.time:
        per_page = []
        for html, url in pages_text:
            runs = []
            for _ in range(args.repeat):
                started = time.process_time()
                analyse(html, url, None, ())
                runs.append(time.process_time() - started)
            per_page.append(min(runs))
        print(
            f"analyse(): {1000 * statistics.mean(per_page):.1f} ms CPU per page (mean of "
            f"{len(per_page)} pages, least of {args.repeat} runs each); "
            f"total {sum(per_page):.2f} s"
        )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for html, url in pages_text:
            analyse(html, url, None, ())
        profile.disable()
        stats = pstats.Stats(profile, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
