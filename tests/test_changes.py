"""Change classification and promise markers, as specifications.

The seed story (a 2007 US-Iran talks report that ends "so check back for an update") is
followed through a plausible life: promise -> press-conference paragraphs added -> headline
changed -> a sentence removed -> a number corrected -> a punctuation-only tweak.
"""

from dataclasses import replace

import pytest

from tracker.core.changes import (
    ParagraphCounts,
    Promise,
    analyse,
    classify,
    describe,
    detect_promise,
    minor_form,
    sentences,
)
from tracker.core.diffing import DiffStats, word_diff
from tracker.core.extract import Article
from tracker.core.kinds import KIND_ORDER, ChangeKind, is_substantive, meets_minimum

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
        "The mayor will hold a press conference on the budget.",
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


# A promise looks forward: the page announces an update still to come. Each of these is
# quoted alone, between two ordinary paragraphs.
@pytest.mark.parametrize(
    ("sentence", "marker"),
    [
        # English: check back, more to follow, will be updated
        ("Check back here later.", "check back"),
        ("Please check back with us throughout the day.", "check back"),
        ("More to come shortly.", "more to follow"),
        ("More soon.", "more to follow"),
        ("Details to follow.", "more to follow"),
        ("Further updates will follow.", "more to follow"),
        ("Updates to follow.", "more to follow"),
        ("Further details will be added as they become available.", "more to follow"),
        ("Police sealed off the street – more to follow.", "more to follow"),
        ("We'll bring you more as we get it.", "more to follow"),
        ("This page will be updated throughout the day.", "will be updated"),
        ("This story will continue to be updated.", "will be updated"),
        ("We'll be updating this article as more information comes in.", "will be updated"),
        ("This story is being updated.", "developing story"),
        ("This is a developing news story and will be updated.", "developing story"),
        ("DEVELOPING STORY: Flooding closes the M4.", "developing story"),
        # a scheduled event the story will report on
        ("A press conference is expected later today.", "press conference"),
        ("A press conference is scheduled for 3pm.", "press conference"),
        ("The news conference is due to begin at 15:00 GMT.", "press conference"),
        ("Police are expected to give a news conference at 3 p.m.", "press conference"),
        ("Press conference at 3pm.", "press conference"),
        ("The mayor will hold a press conference later today.", "press conference"),
        ("Police will give a news conference at 3 p.m.", "press conference"),
        # live pages
        ("LIVE: Storm hits the coast", "live updates"),
        ("Storm Ciarán – live updates", "live updates"),
        ("Follow our live coverage here.", "live updates"),
        # German
        ("Der Beitrag wird in Kürze aktualisiert.", "wird aktualisiert"),
        ("Mehr in Kürze.", "wird aktualisiert"),
        ("Update folgt.", "wird aktualisiert"),
        ("Wir berichten weiter.", "wird aktualisiert"),
        ("Wir halten Sie auf dem Laufenden.", "wird aktualisiert"),
        ("Liveticker: Sturm über Norddeutschland", "liveticker"),
        ("Eine Pressekonferenz ist für 15 Uhr geplant.", "pressekonferenz"),
        # French
        ("Cette page va être régulièrement mise à jour.", "sera mis à jour"),
        ("Plus d'informations à venir.", "sera mis à jour"),
        ("Nous y reviendrons.", "sera mis à jour"),
        ("EN DIRECT - Tempête sur la côte atlantique", "en direct"),
        ("Suivez notre direct.", "en direct"),
        ("Une conférence de presse est prévue à 15 heures.", "conférence de presse"),
        # Spanish
        ("Seguiremos informando.", "se actualizará"),
        ("Más información en breve.", "se actualizará"),
        ("En directo: la tormenta llega a la costa", "en directo"),
        ("Última hora: dimite el alcalde", "última hora"),
        ("Está prevista una rueda de prensa a las 15:00.", "rueda de prensa"),
        # Italian
        ("L'articolo sarà aggiornato.", "in aggiornamento"),
        ("Seguiranno aggiornamenti.", "in aggiornamento"),
        ("In diretta: la tempesta sulla costa", "in diretta"),
        ("Ultim'ora: si dimette il sindaco", "ultim'ora"),
        ("È prevista una conferenza stampa alle 15.", "conferenza stampa"),
    ],
)
def test_forward_looking_phrases_are_promises_quoted_alone(sentence, marker):
    text = f"Police were called at 9pm.\n\n{sentence}\n\nNobody commented."
    assert detect_promise(article(text)) == Promise(text=sentence, marker=marker)


# An "Update" that reports what happened is not a promise, whatever its form or language:
# the label says the page *was* updated, not that it will be. Earlier versions called the
# first three (and every "Update ..." line) promises, then "fulfilled" them.
@pytest.mark.parametrize(
    "line",
    [
        "UPDATE: Police have named the suspect.",
        "Updated at 3:45 p.m. ET with comments from the mayor.",
        "Update 2: the road has reopened.",
        "Update: The man has been released on bail.",
        "Update 09:10: officials said 12 officers were injured.",
        "UPDATE 09:10: Officials said 12 officers were injured.",
        "Updated at 10:12",
        "Updated 10:42 a.m. ET Nov. 20, 2019",
        "UPDATED, 4:30 p.m.: The fire is contained.",
        "Update (10:45): The suspect was taken to hospital.",
        "Update — the road has reopened.",
        "Last updated: 12 March 2024",
        "This story has been updated with comment from the mayor's office.",
        "This article was updated on 12 March to add a statement.",
        "Editor's note: This story was updated at 11am.",
        "Correction: An earlier version of this story misspelled the mayor's name.",
        "This story is no longer being updated.",
        "As it happened: election night in Ohio",
        "At a press conference later in the day, the mayor said the fire was contained.",
        "The press conference at 3pm was cancelled.",
        # German
        "Update: Der Mann ist gegen Kaution freigelassen worden.",
        "Update, 10:12 Uhr: Die Polizei hat einen Verdächtigen festgenommen.",
        "Aktualisiert am 12.03.2024 um 10:12 Uhr",
        "Dieser Artikel wurde aktualisiert.",
        "Die Pressekonferenz war für 15 Uhr angesetzt.",
        "Korrektur: In einer früheren Version stand ein falscher Name.",
        # French
        "Mise à jour : l'homme a été libéré sous caution.",
        "Mis à jour le 12/03/2024 à 10h12",
        "Cet article a été mis à jour à 10h12.",
        "La conférence de presse était prévue à 15 heures.",
        "Rectificatif : une précédente version de cet article indiquait un autre nom.",
        # Spanish
        "Actualización: el hombre ha sido puesto en libertad bajo fianza.",
        "Actualizado a las 10:12",
        "Esta noticia ha sido actualizada.",
        "Fe de errores: una versión anterior de este artículo decía otra cosa.",
        # Italian
        "Aggiornamento: l'uomo è stato rilasciato su cauzione.",
        "Aggiornato alle 10:12",
        "L'articolo è stato aggiornato alle 10:12.",
    ],
)
def test_an_update_reporting_what_happened_is_not_a_promise(line):
    assert detect_promise(article(f"Police were called at 9pm.\n\n{line}")) is None
    assert detect_promise(article("Police were called at 9pm.", title=line)) is None


# When a line mixes a past report with a forward-looking note, the note makes the promise
# and is the quote: the sentence that carries it, not the report before it.
@pytest.mark.parametrize(
    ("paragraph", "quote", "marker"),
    [
        (
            "Update: police have arrested a man. More to follow.",
            "More to follow.",
            "more to follow",
        ),
        (
            "UPDATE 09:10: officials said 12 officers were injured; more details to follow.",
            "UPDATE 09:10: officials said 12 officers were injured; more details to follow.",
            "more to follow",
        ),
        (
            "Updated at 10:12: The road has reopened. This story will be updated.",
            "This story will be updated.",
            "will be updated",
        ),
        (
            "Update: Der Mann wurde festgenommen. Weitere Informationen folgen.",
            "Weitere Informationen folgen.",
            "wird aktualisiert",
        ),
        (
            "Mise à jour : l'homme a été libéré. Cet article sera mis à jour.",
            "Cet article sera mis à jour.",
            "sera mis à jour",
        ),
        (
            "Actualización: el hombre fue detenido. Ampliaremos información.",
            "Ampliaremos información.",
            "se actualizará",
        ),
        (
            "Aggiornamento: l'uomo è stato fermato. Seguiranno aggiornamenti.",
            "Seguiranno aggiornamenti.",
            "in aggiornamento",
        ),
        (
            "Man released on bail after city centre stabbing\nMore to follow",
            "More to follow",
            "more to follow",
        ),
    ],
)
def test_a_mixed_line_is_a_promise_quoting_its_forward_looking_sentence(paragraph, quote, marker):
    text = f"Police were called at 9pm.\n\n{paragraph}"
    assert detect_promise(article(text)) == Promise(text=quote, marker=marker)


# The quote is the body's sentence carrying the marker, never the headline beside it, even
# when the headline says "update" or carries a marker of its own.
@pytest.mark.parametrize(
    "title",
    [
        "Update: man released on bail after city centre stabbing",
        "Police give update on city centre stabbing",
        "UPDATED: Stabbing suspect named",
        "LIVE: Police at the scene of a city centre stabbing",
        "City centre stabbing – live updates",
        "Breaking: man arrested after city centre stabbing",
    ],
)
@pytest.mark.parametrize(
    ("body", "quote", "marker"),
    [
        (
            "A man has been arrested.\n\nMore to follow.",
            "More to follow.",
            "more to follow",
        ),
        (
            "A man has been arrested. We will update this story as we learn more.",
            "We will update this story as we learn more.",
            "will be updated",
        ),
        (
            "Officers were called at 9pm. This is a developing story. Roads remain closed.",
            "This is a developing story.",
            "developing story",
        ),
    ],
)
def test_the_quote_is_the_body_sentence_never_the_headline(title, body, quote, marker):
    assert detect_promise(article(body, title=title)) == Promise(text=quote, marker=marker)


@pytest.mark.parametrize(
    "title",
    [
        "Update: man released on bail after city centre stabbing",
        "Police give update on city centre stabbing",
        "Storm update: roads closed across the county",
        "Updated guidance on school closures",
        "Stabbing suspect named in latest update",
    ],
)
def test_a_headline_saying_update_is_not_a_promise(title):
    assert detect_promise(article("A man has been arrested.", title=title)) is None


def test_a_live_headline_is_the_quote_only_when_the_body_promises_nothing():
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
