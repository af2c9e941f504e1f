"""Extraction quality of the stored article text against the corpus' ground truth.

Scores `extract(html, url).text` -- exactly what the check pipeline stores -- against
ground-truth.json's articleBody, over every page of the corpus:

- token F1 / precision / recall: bags of lower-cased word tokens, averaged over pages;
- shingle F1 / precision / recall: the article-extraction-benchmark's own metric (4-token
  shingles, per-page normalised counts), under which trafilatura is published at F1 0.958.

    python benchmarks/extraction.py --corpus /work/shared/corpus [--worst 10]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from tracker.core.extract import extract

_TOKEN = re.compile(r"\w+", re.UNICODE)


def token_scores(truth: str, predicted: str) -> tuple[float, float, float]:
    expected = Counter(_TOKEN.findall(truth.lower()))
    got = Counter(_TOKEN.findall(predicted.lower()))
    common = sum((expected & got).values())
    precision = common / sum(got.values()) if got else (1.0 if not expected else 0.0)
    recall = common / sum(expected.values()) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def shingle_counts(truth: str, predicted: str, n: int = 4) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of 4-token shingles, as in the article-extraction-benchmark."""

    def shingles(text: str) -> Counter:
        tokens = _TOKEN.findall(text or "")
        return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))

    expected, got = shingles(truth), shingles(predicted)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages")
    args = parser.parse_args(argv)

    truth = json.loads((args.corpus / "ground-truth.json").read_text())
    pages = []
    for key in sorted(truth):
        raw = gzip.decompress((args.corpus / "html" / f"{key}.html.gz").read_bytes())
        pages.append((key, raw.decode("utf-8", "replace"), truth[key]))

    started = time.perf_counter()
    texts = {key: extract(html, entry.get("url")).text for key, html, entry in pages}
    elapsed = time.perf_counter() - started

    per_page = {key: token_scores(entry["articleBody"], texts[key]) for key, _, entry in pages}
    count = len(per_page)
    precision = sum(p for p, _, _ in per_page.values()) / count
    recall = sum(r for _, r, _ in per_page.values()) / count
    f1 = sum(f for _, _, f in per_page.values()) / count
    tp = fp = fn = 0.0
    for key, _, entry in pages:
        a, b, c = shingle_counts(entry["articleBody"], texts[key])
        tp, fp, fn = tp + a, fp + b, fn + c
    s_precision, s_recall = tp / (tp + fp), tp / (tp + fn)
    s_f1 = 2 * s_precision * s_recall / (s_precision + s_recall)
    empty = sum(1 for text in texts.values() if not text)

    print(f"pages: {count} (no article found on {empty})")
    print(f"token F1 {f1:.3f}  precision {precision:.3f}  recall {recall:.3f}  [target F1 >= 0.95]")
    print(
        f"shingle F1 {s_f1:.3f}  precision {s_precision:.3f}  recall {s_recall:.3f}"
        "  (article-extraction-benchmark metric)"
    )
    print(f"speed: {count / elapsed:.1f} pages/s on one core ({elapsed:.1f} s)")
    if args.worst:
        print("worst pages (token F1, precision, recall, url):")
        worst = sorted(per_page.items(), key=lambda item: item[1][2])[: args.worst]
        for key, (p, r, f) in worst:
            print(f"  {f:.3f} {p:.3f} {r:.3f} {key[:12]} {truth[key]['url'][:70]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
