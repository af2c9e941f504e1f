"""Live blogs are read as entries and compared entry by entry (tracker.core.liveblog)."""

from __future__ import annotations

from dataclasses import replace

import lxml.html
import pytest
from liveblog_pages import (
    NEW_ENTRY,
    SUMMARY,
    guardian_like,
    json_ld_only,
    no_ids,
    sample_entries,
    wordpress_like,
)

from tracker.core import diffing
from tracker.core.changes import ChangeKind
from tracker.core.extract import extract
from tracker.core.liveblog import (
    aligned_entries,
    compare_live,
    diff_entries,
    entries_from_json,
    entries_to_json,
    live_candidates,
)

SHAPES = [guardian_like, wordpress_like, json_ld_only, no_ids]
URL = "https://news.example/live"


def read(page: str):
    return extract(page, URL)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_each_markup_shape_is_read_as_its_entries_with_time_title_and_text(shape):
    article = read(shape(sample_entries()))
    assert [e.text.split()[:3] for e in article.entries] == [
        ["The", "international", "airport"],
        ["The", "number", "of"],
        ["A", "magnitude", "6.8"],
    ]
    for entry, source in zip(article.entries, sample_entries(), strict=True):
        assert source.headline in (entry.headline or "")
        assert entry.time is not None
        assert entry.key
    # Every entry keeps its title and time in the stored text, in the page's order.
    text = article.text
    positions = [text.index(source.headline) for source in sample_entries()]
    assert positions == sorted(positions)
    assert "Residents described furniture sliding" in text


def test_keys_come_from_the_page_ids_permalinks_or_data_urls():
    assert [e.key for e in read(guardian_like(sample_entries())).entries] == [
        "block-c3",
        "block-b2",
        "block-a1",
    ]
    assert read(wordpress_like(sample_entries())).entries[0].key == "liveblog-entry-c3"
    assert read(json_ld_only(sample_entries())).entries[0].key == (
        "https://news.example/live#post-c3"
    )
    # No ids: a hash of the time and first words, the same on every fetch.
    first = read(no_ids(sample_entries())).entries
    again = read(no_ids(sample_entries())).entries
    assert [e.key for e in first] == [e.key for e in again]
    assert len({e.key for e in first}) == 3


def test_times_are_the_datetime_attribute_and_the_label_as_shown():
    [first, *_] = read(guardian_like(sample_entries())).entries
    assert first.time == "2026-12-04T09:40:00Z"
    assert first.label == "9:40 a.m."
    assert "9:40 a.m. · Airport reopens" in read(guardian_like(sample_entries())).text
    [clock, *_] = read(no_ids(sample_entries())).entries
    assert clock.time == "9:40 a.m."


def test_an_entry_title_that_starts_with_its_time_is_kept_whole():
    article = read(wordpress_like(sample_entries()))
    assert article.entries[0].headline == "UPDATE 9:40 a.m.: Airport reopens"
    # A title that says little besides its time starts the entry's first paragraph: a line
    # that reads as a time stamp is left out of any stored body.
    assert "UPDATE 9:40 a.m.: Airport reopens · The international airport" in article.text


def test_the_summary_above_the_entries_stays_in_the_text_before_them():
    for shape in (guardian_like, wordpress_like, no_ids):
        text = read(shape(sample_entries())).text
        assert SUMMARY in text
        assert text.index(SUMMARY) < text.index("Airport reopens")


def test_pinned_or_key_event_entries_are_flagged():
    for shape in (guardian_like, wordpress_like):
        entries = read(shape(sample_entries())).entries
        assert [e.pinned for e in entries] == [False, True, False]


def test_share_buttons_authors_and_time_lines_are_not_entry_text():
    for shape in (guardian_like, wordpress_like):
        for entry in read(shape(sample_entries())).entries:
            assert "Share" not in entry.text
            assert "Twitter" not in entry.text
            assert "Jane Reporter" not in entry.text
            assert not entry.text.startswith("9:")


# --- what is not a live blog -------------------------------------------------------------------

ARTICLE = " ".join(
    f"<p>Paragraph {n} of the council's budget story reports what the members decided and "
    f"why the vote on the new library was delayed until the spring.</p>"
    for n in range(8)
)


def _page(body: str) -> str:
    head = "<head><title>Budget | Gazette</title></head>"
    return f"<html>{head}<body><h1>Budget</h1>{body}</body></html>"


def test_a_normal_article_with_dated_teasers_is_not_a_live_blog():
    teasers = "".join(
        f'<article class="card"><h3><a href="/s/{n}">Another story about the town number {n}'
        f'</a></h3><time datetime="2026-12-0{n}">Dec {n}</time><p><a href="/s/{n}">Read the '
        f"full story about the town and its people</a></p></article>"
        for n in range(1, 7)
    )
    article = read(_page(f"<article>{ARTICLE}</article><section>{teasers}</section>"))
    assert article.entries == ()
    assert "Paragraph 3" in article.text


def test_a_comment_thread_under_an_article_is_not_a_live_blog():
    comments = "".join(
        f'<div class="comment" id="comment-{n}"><header><time datetime="2026-12-04T1{n}:00Z">'
        f"1{n}:00</time></header><p>I think the council was quite wrong about the library "
        f"and said so at the meeting number {n}.</p></div>"
        for n in range(6)
    )
    article = read(_page(f"<article>{ARTICLE}</article><div>{comments}</div>"))
    assert article.entries == ()


def test_a_timeline_list_inside_an_article_is_not_a_live_blog():
    timeline = "".join(
        f"<li>{n}:30 a.m. The council members met again to discuss the library budget in "
        f"session number {n}.</li>"
        for n in range(1, 7)
    )
    article = read(_page(f"<article>{ARTICLE}<ul>{timeline}</ul></article>"))
    assert article.entries == ()


# --- comparing entries ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_a_new_entry_at_the_top_is_one_entry_added_and_nothing_removed(shape):
    before = read(shape(sample_entries()))
    after = read(shape([NEW_ENTRY, *sample_entries()]))
    change = compare_live(before, after)
    assert change is not None
    assert change.kinds == {ChangeKind.ENTRY_ADDED}
    [added] = change.entries.added
    assert added.text.startswith("A strong aftershock was felt")
    assert change.entries.removed == () and change.entries.edited == ()
    assert change.summary.startswith("New entry 10:12")
    assert "Aftershock felt in the capital" in change.summary


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_editing_an_old_entry_is_an_entry_edit_with_a_word_diff_inside_it(shape):
    entries = sample_entries()
    edited = replace(entries[1], paragraphs=(entries[1].paragraphs[0].replace("14", "17"),))
    before = read(shape(entries))
    after = read(shape([entries[0], edited, entries[2]]))
    change = compare_live(before, after)
    assert change is not None and change.kinds == {ChangeKind.ENTRY_EDITED}
    [pair] = change.entries.edited
    ops = [(op, text.strip()) for op, text in pair.diff.ops if op != diffing.EQUAL]
    assert ops == [(diffing.DELETE, "14"), (diffing.INSERT, "17")]
    assert "edited" in change.summary


def test_editing_the_first_words_of_an_entry_without_ids_is_still_an_edit():
    entries = sample_entries()
    edited = replace(entries[0], paragraphs=("Officials said " + entries[0].paragraphs[0],))
    change = compare_live(read(no_ids(entries)), read(no_ids([edited, *entries[1:]])))
    assert change is not None and change.kinds == {ChangeKind.ENTRY_EDITED}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_removing_an_entry_is_an_entry_removed(shape):
    entries = [NEW_ENTRY, *sample_entries()]
    change = compare_live(read(shape(entries)), read(shape([*entries[:2], entries[3]])))
    assert change is not None and change.kinds == {ChangeKind.ENTRY_REMOVED}
    [removed] = change.entries.removed
    assert (removed.headline or "").endswith("Death toll rises")


def test_a_changed_summary_is_reported_beside_the_entries():
    before = read(guardian_like(sample_entries()))
    after = read(
        guardian_like(sample_entries()).replace("Rescue teams are searching", "Rescuers search")
    )
    change = compare_live(before, after)
    assert change is not None
    assert ChangeKind.TEXT_EDITED in change.kinds
    assert not change.entries.changed


def test_the_aligned_entries_pair_each_entry_with_itself_when_one_is_inserted_at_the_top():
    before = read(guardian_like(sample_entries())).entries
    after = read(guardian_like([NEW_ENTRY, *sample_entries()[:1], *sample_entries()[2:]])).entries
    rows = aligned_entries(before, after)
    assert [(o.key if o else None, n.key if n else None) for o, n in rows] == [
        (None, "block-d4"),
        ("block-c3", "block-c3"),
        ("block-b2", None),
        ("block-a1", "block-a1"),
    ]


def test_diff_entries_is_empty_for_the_same_entries_whatever_their_keys():
    entries = read(no_ids(sample_entries())).entries
    renamed = tuple(replace(e, key=f"generated-{n}") for n, e in enumerate(entries))
    assert not diff_entries(entries, renamed).changed


def test_entries_survive_a_round_trip_through_json():
    entries = read(guardian_like(sample_entries())).entries
    assert entries_from_json(entries_to_json(entries)) == entries
    assert entries_from_json("junk") == ()
    assert entries_from_json([{"no": "key"}, 3]) == ()


def test_a_live_blog_is_detected_from_two_entries_when_the_page_declares_one():
    page = guardian_like(sample_entries()[:2])
    declared = page.replace(
        "</head>",
        '<script type="application/ld+json">{"@type": "LiveBlogPosting", "headline": "x"}'
        "</script></head>",
    )
    assert len(read(declared).entries) == 2


def test_hostile_input_never_raises():
    assert read(
        "<html><body>" + "<div><time datetime='2026-01-01'>x</time>" * 500 + "</body></html>"
    )


# --- other shapes: the rule is structural, not one site's -------------------------------------

PROSE = [
    "Firefighters said the blaze at the warehouse had been brought under control by midday.",
    "The mayor asked residents near the river to keep their windows closed until evening.",
    "Police closed the ring road in both directions while crews checked the bridge supports.",
    "Schools in the district will open two hours late tomorrow, the education office said.",
]


def _shape_page(items: list[str]) -> str:
    return _page(f"<p>{SUMMARY}</p><ol class='stream'>{''.join(items)}</ol>")


@pytest.mark.parametrize(
    "item",
    [
        # A list of posts, each an <article> in an <li>, its time a bare clock in a <span>.
        '<li><article id="post_{n}"><header><span class="meta">1{n}:15</span></header>'
        "<h3>Update number {n} on the fire</h3><p>{text}</p></article></li>",
        # The date attribute on the entry itself, as epoch seconds.
        '<li data-timestamp="170161{n}000"><h3>Fire update {n} from the scene</h3>'
        "<p>{text}</p></li>",
        # Times only relative ("12 min ago"): the entry is timed, but keeps no time.
        '<li class="card-live"><div class="date">{n}0 minutes ago</div><h2>Fire update '
        "{n} from the scene</h2><p>{text}</p></li>",
        # German and French clock styles.
        '<li><p class="zeit">1{n}:05 Uhr</p><h3>Neues zum Brand Nummer {n}</h3><p>{text}</p></li>',
        '<li><span class="heure">1{n}h05</span><h3>Incendie, point numéro {n}</h3>'
        "<p>{text}</p></li>",
    ],
    ids=["li-article-clock", "epoch-attribute", "relative-only", "german-uhr", "french-h"],
)
def test_other_live_blog_shapes_are_read_as_entries(item):
    items = [item.format(n=n, text=text) for n, text in enumerate(PROSE)]
    article = read(_shape_page(items))
    assert [e.text for e in article.entries] == PROSE
    assert SUMMARY in article.text
    added = read(_shape_page([item.format(n=8, text=NEW_ENTRY.paragraphs[0]), *items]))
    change = compare_live(article, added)
    assert change is not None and change.kinds == {ChangeKind.ENTRY_ADDED}


def test_epoch_times_become_utc_iso_times():
    item = '<li data-timestamp="1701612000"><h3>Fire update {n} from the scene</h3><p>{t}</p></li>'
    article = read(_shape_page([item.format(n=n, t=t) for n, t in enumerate(PROSE)]))
    assert article.entries[0].time == "2023-12-03T14:00:00Z"


def test_relative_times_never_make_a_new_version_of_an_entry():
    item = '<li><div class="date">{m} minutes ago</div><h2>Fire update {n}</h2><p>{t}</p></li>'
    first = read(_shape_page([item.format(m=n, n=n, t=t) for n, t in enumerate(PROSE)]))
    later = read(_shape_page([item.format(m=n + 7, n=n, t=t) for n, t in enumerate(PROSE)]))
    assert first.text == later.text
    assert [e.key for e in first.entries] == [e.key for e in later.entries]
    assert not diff_entries(first.entries, later.entries).changed


def test_dated_teasers_with_blurbs_under_linked_titles_are_not_entries():
    teasers = "".join(
        f'<article class="teaser"><h3><a href="/opinion/{n}">Opinion piece number {n} on '
        f'politics</a></h3><time datetime="2019-11-19T1{n}:00:00Z">Nov 19</time><p>A columnist '
        f"argues at length that the week in politics has been unusual for reason {n}.</p>"
        "</article>"
        for n in range(6)
    )
    tree = lxml.html.document_fromstring(_page(f"<section>{teasers}</section>"))
    assert live_candidates(tree) is None
