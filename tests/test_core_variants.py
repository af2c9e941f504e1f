"""The rule that tells a flip between variants from a change (tracker.core.variants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.core.variants import WINDOW, Flip, Known, Reading, VariantKind, judge

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
BODY = ("First paragraph.", "Second paragraph.", "Third paragraph.")


def reading(headline: str, paragraphs=BODY, *, hours_ago: float = 0, byline="Ann") -> Reading:
    return Reading(
        headline, tuple(paragraphs), (byline, None, None, False), NOW - timedelta(hours=hours_ago)
    )


def history(*headlines: str) -> list[Reading]:
    """Versions, given oldest first, returned newest first as `judge` takes them."""
    count = len(headlines)
    return [reading(h, hours_ago=count - i) for i, h in enumerate(headlines)][::-1]


def test_the_second_return_to_a_headline_recognises_the_test():
    assert judge(history("A", "B"), reading("A"), Known(), NOW) is None  # a revert: news
    flip = judge(history("A", "B", "A"), reading("B"), Known(), NOW)
    assert flip is not None
    assert {(r.kind, r.text, r.served) for r in flip.recognised} == {
        (VariantKind.HEADLINE, "A", 2),
        (VariantKind.HEADLINE, "B", 1),  # this check is counted by the caller
    }


def test_a_headline_served_once_is_not_made_a_variant():
    flip = judge(history("Original", "A", "B", "A"), reading("B"), Known(), NOW)
    assert flip is not None
    assert {r.text for r in flip.recognised} == {"A", "B"}


def test_flips_between_known_headlines_are_flips_and_a_new_headline_is_a_change():
    known = Known(headlines=frozenset({"A", "B"}))
    assert judge(history("A"), reading("B"), known, NOW) == Flip()
    assert judge(history("A"), reading("C"), known, NOW) is None
    # From a headline that is not a variant back to one: a change (never hide a rewrite).
    assert judge(history("C"), reading("A"), known, NOW) is None


def test_a_flip_with_any_other_change_is_a_change():
    known = Known(headlines=frozenset({"A", "B"}), paragraphs=frozenset({"Third paragraph."}))
    edited = ("First paragraph.", "Second paragraph, edited.", "Third paragraph.")
    assert judge(history("A"), reading("B", edited), known, NOW) is None
    assert judge(history("A"), reading("B", byline="Bob"), known, NOW) is None
    moved = ("Second paragraph.", "First paragraph.", "Third paragraph.")
    assert judge(history("A"), reading("A", moved), known, NOW) is None


def test_returns_older_than_the_window_do_not_count():
    old = [reading(h, hours_ago=24 * 8 + i) for i, h in enumerate(["A", "B", "A"])]
    assert old[0].at < NOW - WINDOW
    assert judge(old, reading("B"), Known(), NOW) is None


def test_a_real_edit_between_the_flips_ends_the_history_they_are_counted_in():
    edited = ("First paragraph.", "Second paragraph, edited.", "Third paragraph.")
    versions = [
        reading("B", edited, hours_ago=1),
        reading("A", edited, hours_ago=2),
        reading("B", hours_ago=3),
        reading("A", hours_ago=4),
    ]
    # B → A → (edit) → B ... → A: one return since the edit, not two.
    assert judge(versions, reading("A", edited), Known(), NOW) is None


def test_a_paragraph_that_comes_and_goes_twice_is_recognised():
    local = "Readers nearby: sign up for alerts."
    present, absent = (*BODY, local), BODY
    versions = [
        reading("A", present, hours_ago=1),
        reading("A", absent, hours_ago=2),
        reading("A", present, hours_ago=3),
    ]
    assert judge(versions[1:], reading("A", present), Known(), NOW) is None  # came back once
    flip = judge(versions, reading("A", absent), Known(), NOW)
    assert flip is not None
    assert [(r.kind, r.text, r.served) for r in flip.recognised] == [
        (VariantKind.PARAGRAPH, local, 2)
    ]
    known = Known(paragraphs=frozenset({local}))
    assert judge(versions[:1], reading("A", absent), known, NOW) == Flip()
    # Another paragraph coming with it is not a flip.
    other = (*BODY, "A new paragraph.")
    assert judge(versions[:1], reading("A", other), known, NOW) is None
