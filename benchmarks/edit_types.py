"""Precision and recall of the edit-type rules on a labelled set built from the corpus.

    python benchmarks/edit_types.py --corpus ../shared/corpus [--seed 1]

For every corpus article (its ground-truth body), one labelled edit of each type is made
where the article allows it, the way desks see them happen:

- number_changed: one figure in a sentence changed (12 → 14, 1,200 → 1,350, 40% → 45%);
- quote_changed: one word inside a quotation changed;
- quote_removed / quote_added: a sentence that quotes someone deleted / put back;
- name_added: a person or organisation inserted into a sentence ("said Maria Lopez, a
  spokeswoman for the Red Cross,"), from a fixed list of realistic names;
- name_removed: the reverse edit (the name taken out again);
- correction_note: a correction note appended;
- wording: one ordinary lower-case word replaced by another (no figure, quote or name):
  the negative class, which should get no fact type.

Each edited article is split into sentences and aligned with the original exactly as the
research export does (tracker.core.sentences, tracker.core.edit_types); the predicted
types are the union over the edits found. Prints precision and recall per type, and how
often the whole article pair was typed exactly.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path

from tracker.core.edit_types import edit_types
from tracker.core.sentences import align, split_sentences

NAMES = [
    "Maria Lopez, a spokeswoman for the Red Cross",
    "John Okafor of the World Health Organization",
    "Priya Raman, the city's housing commissioner",
    "Daniel Weber from Deutsche Bank",
    "Aiko Tanaka, a lawyer at Baker McKenzie",
    "Samuel Mensah of Amnesty International",
]
CORRECTION = (
    "Correction: An earlier version of this article misstated the date of the announcement."
)
_FIGURE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s?%)?(?![\w])")
_QUOTED = re.compile(r"[\"“]([^\"“”]{12,})[\"”]")
_PLAIN_WORD = re.compile(r"(?<=\s)([a-z]{5,})(?=\s)")
_SAID = re.compile(r"\b(said|says|told reporters|added)\b")
SWAPS = ["however", "notably", "reportedly", "apparently", "recently", "formerly"]


def _sentences(body: str) -> list[str]:
    return split_sentences(body)


def _with(sentences: list[str], index: int, new: str | None) -> list[str]:
    out = list(sentences)
    if new is None:
        del out[index]
    else:
        out[index] = new
    return out


def labelled_edits(body: str, rng: random.Random) -> list[tuple[str, list[str], list[str]]]:
    """(label, sentences before, sentences after) for each type this article allows."""
    sentences = _sentences(body)
    if len(sentences) < 3:
        return []
    out: list[tuple[str, list[str], list[str]]] = []
    order = list(range(len(sentences)))
    rng.shuffle(order)

    def first(predicate):
        return next((i for i in order if predicate(sentences[i])), None)

    plain = lambda s: not _QUOTED.search(s) and not _FIGURE.search(s)  # noqa: E731
    index = first(lambda s: _FIGURE.search(s) and not _QUOTED.search(s))
    if index is not None:
        match = _FIGURE.search(sentences[index])
        assert match is not None
        number = int(match.group(1).replace(",", ""))
        bumped = number + max(1, number // 7)
        text = f"{bumped:,}" if "," in match.group(1) else str(bumped)
        new = sentences[index][: match.start(1)] + text + sentences[index][match.end(1) :]
        out.append(("number_changed", sentences, _with(sentences, index, new)))
    index = first(lambda s: _QUOTED.search(s) and not _FIGURE.search(s))
    if index is not None:
        match = _QUOTED.search(sentences[index])
        assert match is not None
        words = match.group(1).split()
        position = rng.randrange(len(words))
        words[position] = "entirely" if words[position] != "entirely" else "wholly"
        quote = " ".join(words)
        new = sentences[index][: match.start(1)] + quote + sentences[index][match.end(1) :]
        out.append(("quote_changed", sentences, _with(sentences, index, new)))
        out.append(("quote_removed", sentences, _with(sentences, index, None)))
        out.append(("quote_added", _with(sentences, index, None), sentences))
    index = first(lambda s: plain(s) and _SAID.search(s))
    if index is not None:
        name = rng.choice(NAMES)
        new = _SAID.sub(lambda m: f"{m.group(1)} {name},", sentences[index], count=1)
        out.append(("name_added", sentences, _with(sentences, index, new)))
        out.append(("name_removed", _with(sentences, index, new), sentences))
    out.append(("correction_note", sentences, [*sentences, CORRECTION]))
    index = first(lambda s: plain(s) and _PLAIN_WORD.search(s))
    if index is not None:
        match = _PLAIN_WORD.search(sentences[index])
        assert match is not None
        swap = rng.choice([w for w in SWAPS if w != match.group(1)])
        new = sentences[index][: match.start(1)] + swap + sentences[index][match.end(1) :]
        out.append(("wording", sentences, _with(sentences, index, new)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    truth = json.loads((args.corpus / "ground-truth.json").read_text())
    rng = random.Random(args.seed)
    labels = [
        "number_changed",
        "quote_changed",
        "quote_added",
        "quote_removed",
        "name_added",
        "name_removed",
        "correction_note",
        "wording",
    ]
    true_positive, false_positive, false_negative, support = (
        Counter(),
        Counter(),
        Counter(),
        Counter(),
    )
    exact = total = 0
    confusions: Counter[tuple[str, str]] = Counter()
    for key in sorted(truth):
        for label, before, after in labelled_edits(truth[key]["articleBody"], rng):
            old, new = " ".join(before), " ".join(after)
            predicted = {
                t
                for edit in align(before, after)
                for t in edit_types(edit, before_text=old, after_text=new).types
            }
            total += 1
            support[label] += 1
            exact += predicted == {label}
            for name in labels:
                if name in predicted and name == label:
                    true_positive[name] += 1
                elif name in predicted:
                    false_positive[name] += 1
                    confusions[(label, name)] += 1
                elif name == label:
                    false_negative[name] += 1
    print(f"labelled edits: {total} from {len(truth)} corpus articles (seed {args.seed})")
    print(f"{'type':16} {'support':>7} {'precision':>9} {'recall':>7}")
    for name in labels:
        tp, fp, fn = true_positive[name], false_positive[name], false_negative[name]
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        print(f"{name:16} {support[name]:7} {precision:9.1%} {recall:7.1%}")
    print(f"typed exactly (predicted types == the label): {exact}/{total} ({exact / total:.1%})")
    if confusions:
        print(
            "most common extra types (label → predicted): "
            + ", ".join(f"{a} → {b} {n}" for (a, b), n in confusions.most_common(6))
        )


if __name__ == "__main__":
    main()
