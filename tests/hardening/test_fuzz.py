"""Fuzzing that stays in the repo: hostile input at the tracker's edges, bounded for CI.

Hypothesis generates what an attacker or bad luck sends: page markup with control characters,
deep nesting and odd sizes; URLs with every trick of the parser-differential class; export
records of any shape. The properties are the tracker's promises at each edge: extraction
never raises and never loses readable prose to one bad character; URL vetting never accepts a
URL the HTTP client would read differently; import never crashes and never half-imports a
record. (Header building is fuzzed in tests/test_alert_header_injection.py.)

Examples are bounded (tens to a few hundred each) so the file runs in seconds; raise them
locally with ``--hypothesis-profile=long``-style settings when hunting.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.core.extract import extract
from tracker.services.archive import import_json
from tracker.store.db import Database
from tracker.store.models import Story, Version

# Junk spliced into paragraphs: characters and character references XML cannot hold, bidi and
# line-separator characters, stray markup. (Not an unterminated "<!--": a browser hides the
# rest of the page too, so losing it is reading the page right.)
PROSE = "The council met on Monday to discuss the budget for road repairs next year"
CONTROLS = st.sampled_from(
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1b[2J", "\x7f", "\x85", "\ufffe",
     "\uffff", "\u2028", "\u202e", "\ud800", "\r", "\t", "&#0;", "&#xb;", "&#x1B;", "]]>"]
)  # fmt: skip
TAGS = st.sampled_from(["div", "section", "span", "p", "b", "table", "td", "font", "article"])


@st.composite
def hostile_pages(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A page of real paragraphs, with junk spliced into some and wrapped in deep nesting;
    with each paragraph, the words it must still end with."""
    count = draw(st.integers(min_value=2, max_value=6))
    paragraphs = [f"{PROSE}, paragraph {n} says." for n in range(count)]
    shown = []
    endings = []
    for text in paragraphs:
        ending = text.split()[-1]
        if draw(st.booleans()):
            cut = draw(st.integers(min_value=0, max_value=len(text)))
            # A control character spliced into the last word may read as a space (nothing
            # says it is not a word boundary): the prose that must survive is what follows it.
            ending = text[cut:].split()[-1] if text[cut:].split() else ending
            text = text[:cut] + draw(CONTROLS) + text[cut:]
        shown.append(f"<p>{text}</p>")
        endings.append(ending)
    depth = draw(st.integers(min_value=0, max_value=2000))
    wrapper = draw(TAGS)
    body = f"<{wrapper}>" * depth + "".join(shown) + f"</{wrapper}>" * depth
    junk = draw(st.text(max_size=200))
    html = (
        "<html><head><title>T</title></head><body><article><h1>T</h1>"
        f"{body}</article>{junk}</body></html>"
    )
    return html, endings


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=hostile_pages())
def test_extraction_never_raises_and_keeps_the_prose(page: tuple[str, list[str]]):
    html, endings = page
    article = extract(html, "http://127.0.0.1/story")
    # Nothing the page's junk could not produce, and the prose survives: every paragraph's
    # last words (after any spliced character) are in the text.
    assert article.text
    for ending in endings:
        assert ending in article.text
    assert "\x00" not in article.text and "\x1b" not in article.text


@settings(max_examples=200, deadline=None)
@given(markup=st.text(max_size=2000))
def test_extraction_of_any_text_never_raises(markup: str):
    extract(markup, "http://127.0.0.1/story")


RECORD_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
STORY_KEYS = ["url", "status", "tags", "selector", "ignore_patterns", "fixed_interval_seconds",
              "min_interval_seconds", "render", "versions", "checks", "events", "title",
              "promise_state", "added_at"]  # fmt: skip


@st.composite
def story_records(draw: st.DrawFn) -> object:
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(RECORD_VALUES)  # not even an object
    record = {key: draw(RECORD_VALUES) for key in draw(st.lists(st.sampled_from(STORY_KEYS)))}
    if draw(st.booleans()):
        record["url"] = draw(
            st.sampled_from(["http://127.0.0.1:9/a", "javascript:x", "http://h/\x00", ""])
        )
    return record


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(records=st.lists(story_records(), max_size=4))
def test_import_never_crashes_and_never_half_imports(db: Database, records: list[object]):
    document = {"format": "tracker-export", "format_version": 1, "stories": records}
    with db.session() as session:
        report = import_json(
            session, json.loads(json.dumps(document, default=str)), now=datetime.now(UTC)
        )
    with db.session() as session:
        stories = session.query(Story).count()
        versions = session.query(Version).count()
        # What the report says was imported is what is there; the rest was refused whole.
        assert stories >= report.stories_added
        assert versions == sum(s.version_count for s in session.query(Story).all())
        session.query(Version).delete()
        session.query(Story).delete()
    # Every record is accounted for: added, refused with a reason, or (the same URL twice)
    # folded into the story an earlier record added.
    assert report.stories_added + len(report.skipped) <= len(records)
