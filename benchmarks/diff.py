"""Benchmark the word-level diff.

1. Typical: two ~50 KB articles, the second with ~5% of its words edited, two ways:
   "clustered" (paragraphs added near the top, one removed, a few reworded: how newsrooms
   update) and "scattered" (single-word substitutions all over: nearly every paragraph
   changes, the adversarial case). Prints the median time over several runs. Target: under
   20 ms.
2. Worst case: two unrelated ~1 MB texts. Must stay bounded by the timeout; prints the
   elapsed time and whether the diff came back coarse.

Prose comes from the ground-truth article bodies of the corpus when --corpus is given
(e.g. /work/shared/corpus), else it is generated.

    python benchmarks/diff.py [--corpus DIR] [--runs 21] [--timeout 1.0]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from tracker.core import diffing
from tracker.core.diffing import count_words, word_diff


def corpus_paragraphs(corpus: Path) -> list[str]:
    bodies = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    paragraphs = []
    for item in bodies.values():
        paragraphs.extend(p.strip() for p in item["articleBody"].split("\n") if p.strip())
    return paragraphs


def generated_paragraphs(rng: random.Random, count: int) -> list[str]:
    syllables = ["ba", "ker", "lo", "mi", "ran", "sto", "vel", "tu", "nor", "es", "qua", "di"]
    vocabulary = [
        "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(5000)
    ]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like, like prose
    paragraphs = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randint(2, 6)):
            words = rng.choices(vocabulary, weights, k=rng.randint(8, 30))
            sentence = " ".join(words).capitalize()
            sentences.append(sentence + rng.choice([".", ".", ".", "?", "!"]))
        paragraphs.append(" ".join(sentences))
    return paragraphs


def take(paragraphs: list[str], size: int, rng: random.Random) -> list[str]:
    chosen: list[str] = []
    total = 0
    while total < size:
        paragraph = rng.choice(paragraphs)
        chosen.append(paragraph)
        total += len(paragraph) + 2
    return chosen


def edit_scattered(paragraphs: list[str], rng: random.Random, fraction: float) -> list[str]:
    """~fraction of the words edited: one paragraph added, one removed, one sentence removed,
    the rest single-word substitutions at random places all over the article (the
    adversarial case: nearly every paragraph changes)."""
    edited = list(paragraphs)
    total_words = sum(count_words(p) for p in edited)
    budget = int(total_words * fraction)

    edited.insert(rng.randrange(len(edited)), NEW_PARAGRAPH)
    removed = edited.pop(rng.randrange(len(edited)))
    budget -= count_words(NEW_PARAGRAPH) + count_words(removed)

    index = rng.randrange(len(edited))
    sentences = edited[index].split(". ")
    if len(sentences) > 1:
        dropped = sentences.pop(rng.randrange(len(sentences)))
        edited[index] = ". ".join(sentences)
        budget -= count_words(dropped)

    while budget > 0:
        index = rng.randrange(len(edited))
        words = edited[index].split(" ")
        words[rng.randrange(len(words))] = rng.choice(REPLACEMENTS)
        edited[index] = " ".join(words)
        budget -= 1
    return edited


def edit_clustered(paragraphs: list[str], rng: random.Random, fraction: float) -> list[str]:
    """~fraction of the words edited the way a newsroom updates a story: new paragraphs
    added near the top, one paragraph removed, a few paragraphs reworded."""
    edited = list(paragraphs)
    total_words = sum(count_words(p) for p in edited)
    budget = int(total_words * fraction)
    removed = edited.pop(rng.randrange(len(edited)))
    budget -= count_words(removed)
    position = min(3, len(edited))
    while budget > 0 and budget > count_words(NEW_PARAGRAPH) * 3:
        edited.insert(position, NEW_PARAGRAPH)
        budget -= count_words(NEW_PARAGRAPH)
    while budget > 0:  # reword a few paragraphs: several substitutions each
        index = rng.randrange(len(edited))
        words = edited[index].split(" ")
        for _ in range(min(8, budget)):
            words[rng.randrange(len(words))] = rng.choice(REPLACEMENTS)
            budget -= 1
        edited[index] = " ".join(words)
    return edited


NEW_PARAGRAPH = (
    "Officials said the figure would be revised later on Tuesday, according to a statement "
    "released after the meeting."
)
REPLACEMENTS = ["revised", "officials", "1,250", "reportedly", "Tuesday", "denied", "new"]


def median_diff_ms(before: str, after: str, runs: int, timeout: float) -> str:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        diff = word_diff(before, after, timeout=timeout)
        times.append(time.perf_counter() - started)
    return (
        f"{len(before):,} -> {len(after):,} chars, "
        f"+{diff.stats.words_added}/-{diff.stats.words_removed} words of "
        f"{count_words(before):,}: median {statistics.median(times) * 1000:.1f} ms, "
        f"min {min(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {runs} runs, "
        f"coarse={diff.coarse}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="corpus folder with ground-truth.json")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    if args.corpus:
        pool = corpus_paragraphs(args.corpus)
        source = f"corpus {args.corpus} ({len(pool)} paragraphs)"
    else:
        pool = generated_paragraphs(rng, 3000)
        source = "generated prose"
    print(f"prose: {source}")
    # Without fast-diff-match-patch installed, diffs run slower, all in Python.
    print(f"compiled diff-match-patch for small problems: {diffing._NATIVE}")

    before_paragraphs = take(pool, 50_000, rng)
    before = "\n\n".join(before_paragraphs)
    for name, edit in (("clustered", edit_clustered), ("scattered", edit_scattered)):
        after = "\n\n".join(edit(before_paragraphs, rng, 0.05))
        print(
            f"50 KB pair, 5% {name} edit: {median_diff_ms(before, after, args.runs, args.timeout)}"
        )

    # Unrelated texts: disjoint halves of the paragraph pool, so they share words, never
    # paragraphs.
    shuffled = list(pool)
    rng.shuffle(shuffled)
    half = len(shuffled) // 2
    big1 = "\n\n".join(take(shuffled[:half], 1_000_000, rng))
    big2 = "\n\n".join(take(shuffled[half:], 1_000_000, rng))
    started = time.perf_counter()
    diff = word_diff(big1, big2, timeout=args.timeout)
    elapsed = time.perf_counter() - started
    print(
        f"1 MB unrelated pair ({len(big1):,} / {len(big2):,} chars), timeout {args.timeout} s: "
        f"{elapsed:.2f} s, coarse={diff.coarse} ({diff.coarse_reason}), {len(diff.ops)} ops"
    )


if __name__ == "__main__":
    main()
