"""Change classification and promise markers, as specifications.

The seed story (a 2007 US-Iran talks report that ends "so check back for an update") is
followed through a plausible life: promise -> press-conference paragraphs added -> headline
changed -> a sentence removed -> a number corrected -> a punctuation-only tweak.
"""

from dataclasses import replace

import pytest

from tracker.core.changes import (
    KIND_ORDER,
    ChangeKind,
    ParagraphCounts,
    Promise,
    analyse,
    classify,
    describe,
    detect_promise,
    is_substantive,
    meets_minimum,
    minor_form,
    sentences,
)
from tracker.core.diffing import DiffStats, word_diff
from tracker.core.extract import Article

K = ChangeKind

P1 = (
    "The United States and Iran began their second round of talks on Iraq security Tuesday. "
    "Despite excitement sparked by the rarity of the encounter, any air of cooperation has "
    "apparently soured."
)
P2 = (
    "Iraqi Prime Minister Nuri al-Maliki brought together US Ambassador Ryan Crocker with his "
    "Iranian counterpart, Hassan Kadhemi Qomi, on Tuesday for the second diplomatic encounter "
    "since the two countries severed ties in 1979. After the first exchange back in May, the "
    "countries agreed that a second meeting would be arranged."
)
P3 = (
    "According to the Associated Press, an Iraqi official who was present at the meeting room "
    "said Crocker and Qomi were involved in a heated exchange early in the talks."
)
P4 = "Qomi dismissed the allegations, saying the Americans had no proof, the official said."
PROMISE = (
    "Ambassador Ryan Crocker is scheduled to hold a press conference later today to discuss "
    "the meeting, so check back for an update."
)
PRESS_1 = (
    "At a press conference after the meeting, Crocker said the talks had been serious and "
    "that the Iranians had agreed to set up a security subcommittee."
)
PRESS_2 = '"We were clear about what we expect," Crocker told reporters in Baghdad.'


def version(title: str, *paragraphs: str, modified: str = "2007-07-24T10:44") -> Article:
    return Article(
        title=title,
        byline="Staff",
        published="2007-07-24T10:44",
        modified=modified,
        text="\n\n".join(paragraphs),
        canonical_url=None,
        lang="en",
    )


V1 = version('US-Iran Have "Heated Exchange"', P1, P2, P3, P4, PROMISE)
V2 = version(
    'US-Iran Have "Heated Exchange"', P1, P2, P3, P4, PRESS_1, PRESS_2, modified="2007-07-24T15:02"
)
V3 = replace(V2, title="Crocker: Talks With Iran Were Serious")
V4 = replace(
    V3,
    text=V3.text.replace(
        " After the first exchange back in May, the "
        "countries agreed that a second meeting would be arranged.",
        "",
    ),
)
V5 = replace(V4, text=V4.text.replace("in 1979", "in 1980"))
V6 = replace(V5, text=V5.text.replace("no proof, the official", "no proof; the official"))


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(None, V1, {K.FIRST}, id="first version"),
        pytest.param(
            V1,
            V2,
            {K.PARAGRAPHS_ADDED, K.PARAGRAPHS_REMOVED, K.DATES},
            id="promise fulfilled: press-conference paragraphs replace the promise",
        ),
        pytest.param(V2, V3, {K.HEADLINE}, id="headline changed"),
        pytest.param(V3, V4, {K.TEXT_EDITED}, id="a sentence removed from a paragraph"),
        pytest.param(V4, V5, {K.TEXT_EDITED}, id="a number quietly corrected"),
        pytest.param(V5, V6, {K.MINOR}, id="punctuation-only tweak"),
        pytest.param(V6, V6, set(), id="no change at all"),
    ],
)
def test_the_seed_story_evolution(before, after, expected):
    assert classify(before, after) == expected


def article(text: str, title: str = "Headline", **fields) -> Article:
    defaults = {"byline": "By A. Writer", "published": "2024-01-01", "modified": None}
    defaults.update(fields)
    return Article(title=title, text=text, canonical_url=None, lang="en", **defaults)


BASE = article("First paragraph here.\n\nSecond paragraph here.\n\nThird paragraph here.")


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(
            article(
                "First paragraph here.\n\nSecond paragraph here.\n\nThird paragraph here."
                "\n\nA fourth one."
            ),
            {K.PARAGRAPHS_ADDED},
            id="paragraph appended",
        ),
        pytest.param(
            article("First paragraph here.\n\nThird paragraph here."),
            {K.PARAGRAPHS_REMOVED},
            id="paragraph removed",
        ),
        pytest.param(
            article(
                "First paragraph here.\n\nSecond paragraph, rewritten slightly here."
                "\n\nThird paragraph here."
            ),
            {K.TEXT_EDITED},
            id="paragraph edited in place is not removed+added",
        ),
        pytest.param(
            article(
                "First paragraph here.\n\nSomething else entirely about elections."
                "\n\nThird paragraph here."
            ),
            {K.PARAGRAPHS_ADDED, K.PARAGRAPHS_REMOVED},
            id="paragraph replaced by unrelated one",
        ),
        pytest.param(
            article("first paragraph here!\n\n  Second   paragraph here\n\nThird paragraph, here."),
            {K.MINOR},
            id="case, punctuation and spacing only",
        ),
        pytest.param(
            article(
                "First paragraph here.\n\nSecond paragraph here.\n\nThird paragraph here.",
                title="HEADLINE!",
            ),
            {K.MINOR},
            id="headline case/punctuation only",
        ),
        pytest.param(article(BASE.text, title="A different headline"), {K.HEADLINE}, id="headline"),
        pytest.param(article(BASE.text, byline="By B. Writer"), {K.BYLINE}, id="byline"),
        pytest.param(article(BASE.text, modified="2024-01-02"), {K.DATES}, id="modified date"),
        pytest.param(article(BASE.text, published="2024-01-02"), {K.DATES}, id="published date"),
        pytest.param(
            article(
                BASE.text + "\n\nCorrection: An earlier version of this story misstated "
                "the date of the talks."
            ),
            {K.CORRECTION},
            id="correction note appended",
        ),
        pytest.param(
            article(
                BASE.text.replace(
                    "Third paragraph here.",
                    "Third paragraph here. An earlier version of this article misspelled a name.",
                )
            ),
            {K.CORRECTION},
            id="correction sentence appended to a paragraph",
        ),
        pytest.param(
            article(
                BASE.text.replace("Second", "Second and corrected")
                + "\n\nClarification: This story has been updated to clarify the figure."
            ),
            {K.CORRECTION, K.TEXT_EDITED},
            id="correction plus the corrected text",
        ),
        pytest.param(
            article(
                "First paragraph here.\n\nSecond paragraph here.\n\nThird paragraph here.",
                title="New headline",
                modified="2024-01-02",
            ),
            {K.HEADLINE, K.DATES},
            id="several kinds at once",
        ),
    ],
)
def test_classify(after, expected):
    assert classify(BASE, after) == expected


def test_numbers_are_never_minor():
    before = article("Police said 35 people were hurt.")
    for corrected in ("Police said 3.5 people were hurt.", "Police said 36 people were hurt."):
        assert classify(before, article(corrected)) == {K.TEXT_EDITED}


def test_removing_an_old_correction_note_is_a_removal_not_a_correction():
    with_note = article(BASE.text + "\n\nCorrection: An earlier version misstated the date.")
    assert classify(with_note, BASE) == {K.PARAGRAPHS_REMOVED}


def test_an_existing_correction_is_not_reported_again():
    with_note = article(BASE.text + "\n\nCorrection: An earlier version misstated the date.")
    edited = replace(with_note, text=with_note.text.replace("Second", "Second edited"))
    assert classify(with_note, edited) == {K.TEXT_EDITED}


def test_analyse_counts_paragraphs():
    change = analyse(V1, V2)
    assert change.paragraphs == ParagraphCounts(added=2, removed=1, edited=0)
    assert analyse(None, V1).paragraphs.added == 5


def test_minor_form_keeps_numbers_intact():
    assert minor_form("Don't   STOP, e-mail me!") == "dont stop email me"
    assert minor_form("rose 3.5%") != minor_form("rose 35%")


# --- substantive, ranking, summary -------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "substantive"),
    [
        (set(), False),
        ({K.MINOR}, False),
        ({K.DATES}, False),
        ({K.BYLINE}, False),
        ({K.DATES, K.MINOR, K.BYLINE}, False),
        ({K.TEXT_EDITED}, True),
        ({K.DATES, K.PARAGRAPHS_ADDED}, True),
        ({K.HEADLINE}, True),
        ({K.CORRECTION}, True),
        ({K.FIRST}, True),
        (["paragraphs_removed"], True),
    ],
)
def test_is_substantive(kinds, substantive):
    assert is_substantive(kinds) is substantive


def test_kind_order_ranks_every_kind_once():
    assert sorted(KIND_ORDER) == sorted(ChangeKind)
    assert KIND_ORDER[0] is K.MINOR


@pytest.mark.parametrize(
    ("kinds", "minimum", "passes"),
    [
        ({K.MINOR}, K.TEXT_EDITED, False),
        ({K.DATES, K.MINOR}, K.TEXT_EDITED, False),
        ({K.TEXT_EDITED}, K.TEXT_EDITED, True),
        ({K.DATES, K.HEADLINE}, K.PARAGRAPHS_ADDED, True),
        (set(), K.MINOR, False),
        ({K.MINOR}, "minor", True),
    ],
)
def test_meets_minimum(kinds, minimum, passes):
    assert meets_minimum(kinds, minimum) is passes


@pytest.mark.parametrize(
    ("kinds", "stats", "counts", "summary"),
    [
        (
            {K.HEADLINE, K.PARAGRAPHS_ADDED},
            DiffStats(184, 0, 1000, 0),
            ParagraphCounts(added=2),
            "Headline changed; 2 paragraphs added (+184 words)",
        ),
        (
            {K.TEXT_EDITED},
            DiffStats(1, 1, 4, 4),
            ParagraphCounts(edited=1),
            "1 paragraph edited (+1/-1 words)",
        ),
        (
            {K.PARAGRAPHS_REMOVED},
            DiffStats(0, 1, 0, 5),
            ParagraphCounts(removed=1),
            "1 paragraph removed (-1 word)",
        ),
        ({K.TEXT_EDITED, K.DATES}, None, None, "Text edited; dates changed"),
        ({K.MINOR}, DiffStats(0, 0, 1, 1), None, "Minor edit (punctuation, spacing or case)"),
        ({K.CORRECTION}, None, None, "Correction appended"),
        ({K.FIRST}, DiffStats(500, 0, 3000, 0), None, "First version"),
        (set(), None, None, "No change"),
    ],
)
def test_describe(kinds, stats, counts, summary):
    assert describe(kinds, stats, counts) == summary


def test_describe_the_seed_update_from_real_parts():
    change = analyse(V1, V2)
    stats = word_diff(V1.text, V2.text).stats
    assert describe(change.kinds, stats, change.paragraphs) == (
        f"2 paragraphs added; 1 paragraph removed; dates changed "
        f"(+{stats.words_added}/-{stats.words_removed} words)"
    )


# --- promises ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "marker"),
    [
        (PROMISE, "check back"),
        ("Check back later for updates.", "check back"),
        ("Please check back for the latest updates.", "check back"),
        ("This is a developing story.", "developing story"),
        ("This story is developing and will be updated.", "developing story"),
        ("DEVELOPING: Fire crews are at the scene.", "developing story"),
        ("This article will be updated as more information becomes available.", "will be updated"),
        ("The story will be updated.", "will be updated"),
        ("We will update this story as we learn more.", "will be updated"),
        ("This is a breaking news story.", "breaking news"),
        ("BREAKING: Parliament dissolved.", "breaking news"),
        ("UPDATE: Police have named the suspect.", "update stamp"),
        ("Updated at 3:45 p.m. ET with comments from the mayor.", "update stamp"),
        ("Update 2: the road has reopened.", "update stamp"),
        ("Live updates: election night in Ohio", "live updates"),
        ("Follow our live updates here.", "live updates"),
        ("More details to follow.", "more to follow"),
        ("More to follow.", "more to follow"),
        ("Stay tuned for updates.", "stay tuned"),
        ("Dieser Artikel wird laufend aktualisiert.", "wird aktualisiert"),
        ("Weitere Informationen folgen.", "wird aktualisiert"),
        ("Cet article sera mis à jour.", "sera mis à jour"),
        ("Article en cours d'actualisation.", "sera mis à jour"),
        ("Noticia en desarrollo.", "en desarrollo"),
        ("Esta noticia se actualizará en breve.", "se actualizará"),
        ("Ampliaremos información.", "se actualizará"),
        ("Notizia in aggiornamento.", "in aggiornamento"),
    ],
)
def test_promise_markers(sentence, marker):
    text = f"The talks ended on Tuesday.\n\n{sentence}\n\nNobody commented."
    assert detect_promise(article(text)) == Promise(text=sentence, marker=marker)


@pytest.mark.parametrize(
    "sentence",
    [
        "The company said the update would fix the bug.",
        "Install the latest software update before Friday.",
        "The firmware will be updated next month.",
        "Aid to developing countries fell sharply.",
        "The studio is developing story ideas for a sequel.",
        "The mayor will hold a press conference later today.",
        "Officials gave an update on the investigation.",
        "Update your password regularly, experts say.",
        "Users will check back in with the app.",
        "She lives to see updates from her family.",
        "The first batch of layoffs came in May, with more to follow.",
        "Die Software wird automatisch aktualisiert.",
        "La mise à jour du logiciel est disponible.",
        "Los países en desarrollo piden más ayuda.",
        "La aplicación se actualizará automáticamente.",
        "Il sistema è in aggiornamento.",
        "Breaking the deadlock took weeks.",
        "Live music returned to the square.",
    ],
)
def test_ordinary_prose_is_not_a_promise(sentence):
    assert detect_promise(article(f"The talks ended.\n\n{sentence}")) is None


def test_a_promise_in_the_headline_is_found_first():
    found = detect_promise(article("Nothing promised here.", title="LIVE: Storm hits the coast"))
    assert found == Promise(text="LIVE: Storm hits the coast", marker="live updates")


def test_the_seed_story_promises_and_its_update_does_not():
    assert detect_promise(V1) == Promise(text=PROMISE, marker="check back")
    assert detect_promise(V2) is None


def test_sentences_respect_common_abbreviations():
    assert sentences("Mr. Smith met U.S. officials. They talked. J. Doe left.") == [
        "Mr. Smith met U.S. officials.",
        "They talked.",
        "J. Doe left.",
    ]
