"""Share a change: the diff card (a 1200×675 PNG drawn by headless Chromium) and its alt text.

The alt text is specified kind by kind (pure, tracker.core.card); the image is drawn by a
real Chromium, from a hostile article too, with a recording HTTP server proving that nothing
is fetched; the CLI writes the file; the web answers image/png, the API the alt text.
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from browser_support import NEEDS_CHROMIUM
from click.testing import CliRunner
from test_web_support import insert_story, make_client

from tracker.core.card import (
    ALT_TEXT_MAX,
    CardFacts,
    alt_text,
    build_card,
    format_moment,
    site_name,
    source_name,
)
from tracker.core.diffing import DELETE, EQUAL, INSERT
from tracker.store.captures import store_capture
from tracker.store.models import Version

MOMENT = datetime(2026, 12, 4, 14, 5, tzinfo=UTC)
BODY = (
    "Rescue teams worked through the night.\n\n"
    "The minister said talks would resume on Friday.\n\n"
    "At least 212 people died on Monday, officials said."
)


def facts(**changes: object) -> CardFacts:
    values: dict[str, object] = {
        "url": "https://www.bbc.co.uk/news/world-1",
        "seq": 2,
        "changed_at": MOMENT,
        "kinds": (),
        "title_before": "Talks stall",
        "title_after": "Talks stall",
        "text_before": BODY,
        "text_after": BODY,
        "site_name": "BBC News",
    }
    values.update(changes)
    return CardFacts(**values)  # type: ignore[arg-type]


WHEN = "on 4 December 2026 at 14:05 UTC"


# -- the alt text, kind by kind --------------------------------------------------------------


def test_a_headline_change_names_the_old_and_the_new_headline():
    text = alt_text(facts(kinds=("headline",), title_after="Talks collapse"))
    assert text == (
        f'BBC News changed the headline of a story {WHEN} from "Talks stall" to "Talks collapse".'
    )


def test_a_removed_paragraph_is_quoted():
    after = BODY.replace("The minister said talks would resume on Friday.\n\n", "")
    text = alt_text(facts(kinds=("paragraphs_removed",), text_after=after))
    assert text == (
        f'BBC News removed a paragraph from the story "Talks stall" {WHEN}: '
        '"The minister said talks would resume on Friday."'
    )


def test_an_added_paragraph_is_quoted():
    after = BODY + "\n\nThe army has been deployed."
    text = alt_text(facts(kinds=("paragraphs_added",), text_after=after))
    assert text == (
        f'BBC News added a paragraph to the story "Talks stall" {WHEN}: '
        '"The army has been deployed."'
    )


def test_several_removed_paragraphs_are_counted_and_the_first_quoted():
    after = "At least 212 people died on Monday, officials said."
    text = alt_text(facts(kinds=("paragraphs_removed",), text_after=after))
    assert text.startswith(f'BBC News removed 2 paragraphs from the story "Talks stall" {WHEN}')
    assert text.endswith(', the first: "Rescue teams worked through the night."')


def test_a_changed_figure_says_from_what_to_what_and_in_which_sentence():
    after = BODY.replace("212", "284")
    text = alt_text(facts(kinds=("text_edited",), text_after=after))
    assert text == (
        f'BBC News edited the story "Talks stall" {WHEN}: changed "212" to "284" in: '
        '"At least 284 people died on Monday, officials said."'
    )


def test_several_edits_in_one_sentence_are_said_together():
    after = BODY.replace("212", "284").replace("on Monday", "on Monday and Tuesday")
    text = alt_text(facts(kinds=("text_edited",), text_after=after))
    assert 'changed "212" to "284" and added "and Tuesday" in:' in text
    assert text.endswith('"At least 284 people died on Monday and Tuesday, officials said."')


def test_words_cut_from_a_sentence_are_quoted_with_the_sentence_as_it_was():
    after = BODY.replace(" on Friday", "")
    text = alt_text(facts(kinds=("text_edited",), text_after=after))
    assert text.endswith(
        ': removed "on Friday" from: "The minister said talks would resume on Friday."'
    )


def test_a_correction_quotes_the_note():
    after = BODY + "\n\nCorrection: An earlier version of this story misstated the toll."
    text = alt_text(facts(kinds=("correction",), text_after=after))
    assert text == (
        f'BBC News added a correction to the story "Talks stall" {WHEN}: '
        '"Correction: An earlier version of this story misstated the toll."'
    )


def test_a_byline_change_names_both_bylines():
    text = alt_text(facts(kinds=("byline",), byline_before="Ann Lee", byline_after="Bo Chan"))
    assert text == (
        f'BBC News changed the byline of the story "Talks stall" {WHEN} '
        'from "Ann Lee" to "Bo Chan".'
    )


def test_dates_and_minor_edits_are_said_as_what_they_are():
    assert alt_text(facts(kinds=("dates",))) == (
        f'BBC News changed the dates stated on the story "Talks stall" {WHEN}.'
    )
    minor = alt_text(facts(kinds=("minor",), text_after=BODY.replace("Friday.", "Friday!")))
    assert minor.startswith(
        "BBC News made a minor edit (punctuation, spacing or case) to the story"
    )
    assert 'changed "." to "!" in: "The minister said talks would resume on Friday!"' in minor


def test_live_blog_entries_are_said_as_entries():
    added = BODY + "\n\n14:02 Police have closed the bridge."
    text = alt_text(facts(kinds=("entry_added",), text_after=added))
    assert text == (
        f'BBC News added a live entry to the story "Talks stall" {WHEN}: '
        '"14:02 Police have closed the bridge."'
    )
    removed = alt_text(facts(kinds=("entry_removed",), text_before=added, text_after=BODY))
    assert removed.startswith('BBC News removed a live entry from the story "Talks stall"')
    edited = alt_text(
        facts(kinds=("entry_edited",), text_before=added, text_after=added.replace("the", "a"))
    )
    assert edited.startswith('BBC News edited a live entry of the story "Talks stall"')


def test_the_most_significant_kind_leads_and_the_others_follow():
    after = BODY.replace("212", "284").replace(
        "The minister said talks would resume on Friday.\n\n", ""
    )
    text = alt_text(
        facts(
            kinds=("text_edited", "headline", "paragraphs_removed"),
            title_after="Talks collapse",
            text_after=after,
        )
    )
    assert text.startswith(
        f'BBC News changed the headline of a story {WHEN} from "Talks stall" to "Talks collapse". '
        'It also removed a paragraph: "The minister said talks would resume on Friday."'
    )
    assert 'changed "212" to "284"' in text


def test_without_a_site_name_the_host_speaks():
    text = alt_text(facts(kinds=("headline",), site_name=None, title_after="New"))
    assert text.startswith("bbc.co.uk changed the headline")
    assert source_name("https://edition.cnn.com/x", "  ") == "edition.cnn.com"
    assert source_name("https://x.example/", "A slogan " * 20) == "x.example"


def test_long_text_stays_within_what_social_sites_allow_and_keeps_the_facts():
    long_sentence = "The committee " + "heard evidence from many witnesses " * 60 + "today."
    before = long_sentence.replace("today", "yesterday")
    text = alt_text(
        facts(
            kinds=("headline", "text_edited"),
            title_before="A " * 300 + "headline",
            title_after="A " * 300 + "new headline",
            text_before=before,
            text_after=long_sentence,
        )
    )
    assert len(text) <= ALT_TEXT_MAX
    assert text.startswith(f"BBC News changed the headline of a story {WHEN}")
    assert 'changed "yesterday" to "today"' in text


def test_page_text_is_kept_as_text_in_the_alt_text():
    hostile = '<script>alert(1)</script> "quoted"'
    text = alt_text(facts(kinds=("headline",), title_after=hostile))
    assert hostile in text  # escaping is for HTML; alt text is plain text, said as written


def test_moments_and_site_names():
    assert format_moment(datetime(2026, 1, 9, 7, 3, tzinfo=UTC)) == "9 January 2026 at 07:03 UTC"
    paris = datetime(2026, 1, 9, 9, 3, tzinfo=timezone(timedelta(hours=1)))
    assert format_moment(paris) == "9 January 2026 at 08:03 UTC"
    page = '<html><head><meta property="og:site_name" content=" BBC\n News "></head></html>'
    assert site_name(page) == "BBC News"
    assert site_name("<html><head><title>x</title></head></html>") is None


# -- what the image shows --------------------------------------------------------------------


def test_the_card_shows_the_first_change_struck_and_inserted_with_its_sentence():
    after = BODY.replace("212", "284") + "\n\nA new paragraph."
    card = build_card(facts(kinds=("text_edited", "paragraphs_added"), text_after=after))
    assert [(p.op, p.text) for p in card.excerpt] == [
        (EQUAL, "At least "),
        (DELETE, "212"),
        (INSERT, "284"),
        (EQUAL, " people died on Monday, officials said."),
    ]
    assert card.more_changes == 1  # the added paragraph, not shown
    assert card.kinds == ("paragraphs added", "text edited")
    assert card.headline_before is None and card.headline == "Talks stall"
    assert (card.source, card.domain) == ("BBC News", "bbc.co.uk")


def test_the_excerpt_of_a_long_change_is_cut_to_fit_the_card():
    after = BODY + "\n\n" + "word " * 400
    card = build_card(facts(kinds=("paragraphs_added",), text_after=after))
    shown = "".join(piece.text for piece in card.excerpt)
    assert len(shown) <= 400 and shown.endswith("…")
    assert card.excerpt[-1].op == INSERT


def test_a_headline_only_change_shows_both_headlines_and_no_excerpt():
    card = build_card(facts(kinds=("headline",), title_after="Talks collapse"))
    assert (card.headline_before, card.headline) == ("Talks stall", "Talks collapse")
    assert card.excerpt == ()


# -- drawing it ------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert png[:8] == PNG_SIGNATURE, png[:16]
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", png[16:24])


def png_pixel(png: bytes, x: int, y: int) -> tuple[int, ...]:
    """The colour of one pixel of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    width, _ = png_size(png)
    depth, colour = png[24], png[25]
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    data, position = b"", 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    previous = bytearray(stride)
    for row in range(y + 1):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        previous = line
    return tuple(previous[x * channels : x * channels + 3])


def add_change(
    db,
    url: str,
    *,
    texts: tuple[str, str],
    titles: tuple[str, str],
    kinds: list[str],
    page: str | None = None,
) -> int:
    """A story of two versions whose second is `kinds` of change; `page` is the raw capture
    of the second (where the site's name is read from)."""
    story_id = insert_story(db, url, list(texts), titles=list(titles))
    with db.session() as session:
        from sqlalchemy import select

        version = session.scalar(
            select(Version).where(Version.story_id == story_id, Version.seq == 2)
        )
        assert version is not None
        version.kinds = kinds
        version.captured_at = MOMENT
        if page is not None:
            version.capture_sha256 = store_capture(
                session,
                page.encode(),
                url=url,
                status=200,
                headers={"content-type": "text/html; charset=utf-8"},
                encoding="utf-8",
                now=MOMENT,
            )
    return story_id


def figure_story(db) -> int:
    return add_change(
        db,
        "https://www.example.com/news/floods",
        texts=(BODY, BODY.replace("212", "284")),
        titles=("Floods: dozens dead", "Floods: at least 284 dead"),
        kinds=["headline", "text_edited"],
        page='<html><head><meta property="og:site_name" content="Example News"></head></html>',
    )


@NEEDS_CHROMIUM
def test_a_card_is_drawn_by_chromium_at_social_card_size(db, settings):
    from tracker.services.cards import card_html, card_png, load_card
    from tracker.services.stories import find_story

    story_id = figure_story(db)
    with db.read_session() as session:
        card = load_card(session, find_story(session, story_id), None)
    assert card.alt_text == (
        "Example News changed the headline of a story on 4 December 2026 at 14:05 UTC from "
        '"Floods: dozens dead" to "Floods: at least 284 dead". It also changed "212" to "284" '
        'in: "At least 284 people died on Monday, officials said."'
    )
    html = card_html(card)
    assert "<del>212</del><ins>284</ins>" in html and "tracked by tracker" in html
    png = card_png(card, cache_dir=settings.home / "cards", story_id=story_id)
    assert png_size(png) == (1200, 675)
    assert len(png) > 10_000  # text and colour, not a blank page
    cached = list((settings.home / "cards").glob("story-*-v2-*.png"))
    assert [path.read_bytes() for path in cached] == [png]


HOSTILE_PIECES = (
    "<script>document.body.style.background='red'; fetch('{base}/script')</script>",
    '<img src="{base}/img.png" onerror="window.location=\'{base}/onerror\'">',
    '<link rel="stylesheet" href="{base}/style.css">',
    '<iframe src="{base}/frame"></iframe>',
    "<style>body {{ background: url('{base}/background.png') }}</style>",
    '<meta http-equiv="refresh" content="0; url={base}/refresh">',
)


@NEEDS_CHROMIUM
def test_a_hostile_article_is_drawn_as_text_running_and_fetching_nothing(db, server):
    from tracker.services.cards import card_html, card_png, load_card
    from tracker.services.stories import find_story

    base = server.url("").rstrip("/")
    hostile = " ".join(piece.format(base=base) for piece in HOSTILE_PIECES)
    story_id = add_change(
        db,
        "https://example.com/hostile",
        texts=(BODY, BODY + "\n\n" + hostile),
        titles=("Calm", f'"><img src="{base}/title.png" onerror=alert(1)>'),
        kinds=["headline", "paragraphs_added"],
        page=f'<html><head><meta property="og:site_name" content="<b>{base}</b>"></head></html>',
    )
    with db.read_session() as session:
        card = load_card(session, find_story(session, story_id), 2)
    html = card_html(card)
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "&lt;script&gt;" in html
    png = card_png(card)
    assert png_size(png) == (1200, 675)
    assert server.requests == []


@NEEDS_CHROMIUM
def test_markup_that_escaped_escaping_would_still_run_and_fetch_nothing(server):
    """The browser's own defences, without the template's escaping: scripts are off and
    every request is refused before it leaves."""
    from tracker.net.html_image import html_to_png

    base = server.url("").rstrip("/")
    hostile = "".join(piece.format(base=base) for piece in HOSTILE_PIECES)
    page = f"<!doctype html><html><body style='background: white'>{hostile}</body></html>"
    drawn = html_to_png(page, width=400, height=300)
    assert server.requests == []
    assert png_pixel(drawn.png, 5, 5) == (255, 255, 255)  # the script did not paint it red
    # Nothing a script would have asked for was even attempted; the meta refresh (no script)
    # was, and was cancelled, leaving the document in place.
    assert not [url for url in drawn.refused if url.endswith(("/script", "/onerror"))]
    assert drawn.refused == [f"{base}/refresh"]


@NEEDS_CHROMIUM
def test_tracker_card_writes_the_png_and_prints_the_alt_text(db, settings, database_url, tmp_path):
    from tracker.cli import main

    story_id = figure_story(db)
    env = {"TRACKER_HOME": str(settings.home), "TRACKER_DATABASE_URL": database_url}
    target = tmp_path / "change.png"
    result = CliRunner().invoke(
        main, ["card", str(story_id), "-o", str(target)], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert png_size(target.read_bytes()) == (1200, 675)
    assert result.stdout.startswith("Example News changed the headline of a story")
    assert f"wrote {target}" in result.stderr

    as_json = CliRunner().invoke(
        main,
        ["card", "https://www.example.com/news/floods", "-1", "-o", str(target), "--json"],
        env=env,
    )
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["path"] == str(target) and data["version"] == 2
    assert data["alt_text"].startswith("Example News changed the headline")


def test_tracker_card_says_in_one_line_what_is_wrong(db, settings, database_url, tmp_path):
    from tracker.cli import main

    story_id = figure_story(db)
    env = {"TRACKER_HOME": str(settings.home), "TRACKER_DATABASE_URL": database_url}
    first = CliRunner().invoke(main, ["card", str(story_id), "1"], env=env)
    assert first.exit_code == 1
    assert first.stderr.startswith("error: https://www.example.com/news/floods version 1 is")
    assert len(first.stderr.strip().splitlines()) == 1

    no_browser = {**env, "TRACKER_BROWSER_EXECUTABLE": str(tmp_path / "no-chromium")}
    target = tmp_path / "change.png"
    missing = CliRunner().invoke(main, ["card", str(story_id), "-o", str(target)], env=no_browser)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: cannot draw the card image:")
    assert "install Chromium" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not target.exists()


# -- the web and the API ---------------------------------------------------------------------


@NEEDS_CHROMIUM
def test_the_web_serves_the_card_as_a_png_and_keeps_it(db, settings):
    story_id = figure_story(db)
    client = make_client(db, settings)
    response = client.get(f"/stories/{story_id}/versions/2/card.png")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert png_size(response.content) == (1200, 675)
    assert "nosniff" in response.headers["x-content-type-options"]
    # Drawn once: the second answer comes from <home>/cards, byte for byte.
    assert len(list((settings.home / "cards").glob("*.png"))) == 1
    assert client.get(f"/stories/{story_id}/versions/-1/card.png").content == response.content


def test_without_chromium_the_web_answers_503_and_says_why(db, settings, tmp_path):
    story_id = figure_story(db)
    missing = settings.model_copy(update={"browser_executable": str(tmp_path / "no-chromium")})
    response = make_client(db, missing).get(f"/stories/{story_id}/versions/2/card.png")
    assert response.status_code == 503
    assert "cannot draw the card image" in response.text
    assert "install Chromium" in response.text


def test_the_api_gives_the_alt_text_and_where_the_image_is(db, settings):
    story_id = figure_story(db)
    client = make_client(db, settings)
    data = client.get(f"/api/v1/stories/{story_id}/versions/-1/card").json()
    assert data["seq"] == 2 and data["source"] == "Example News"
    assert data["alt_text"].startswith("Example News changed the headline of a story")
    assert data["image_url"] == f"http://127.0.0.1/stories/{story_id}/versions/2/card.png"
    assert data["kinds"] == ["headline", "text edited"]
    assert (data["width"], data["height"]) == (1200, 675)

    first = client.get(f"/api/v1/stories/{story_id}/versions/1/card")
    assert first.status_code == 400 and "first version" in first.json()["detail"]
    assert client.get("/api/v1/stories/999/versions/2/card").status_code == 404


def test_the_diff_page_of_one_change_offers_the_image_and_its_alt_text(db, settings):
    story_id = figure_story(db)
    client = make_client(db, settings)
    page = client.get(f"/stories/{story_id}/diff/1/2").text
    assert f'href="/stories/{story_id}/versions/2/card.png"' in page
    assert ">Download image</a>" in page
    assert "Example News changed the headline of a story" in page  # escaped quotes aside
    # A range of several changes is not one change: no card is offered for it.
    three = insert_story(db, "https://example.com/three", ["One.", "Two.", "Three."])
    assert "Download image" not in client.get(f"/stories/{three}/diff/1/3").text


def test_the_web_draws_one_card_at_a_time_and_turns_away_a_crowd():
    import threading

    from tracker.web.cards import RenderBusy, RenderGate

    gate = RenderGate(queue_max=1)
    drawing, finish = threading.Event(), threading.Event()
    order: list[str] = []

    def draw(name: str) -> None:
        with gate.turn():
            order.append(name)
            drawing.set()
            finish.wait()

    first = threading.Thread(target=draw, args=("first",))
    first.start()
    drawing.wait()
    second = threading.Thread(target=draw, args=("second",))
    second.start()
    while gate.callers < 2:  # the second is queued behind the first
        threading.Event().wait(0.01)
    with pytest.raises(RenderBusy), gate.turn():
        order.append("third")  # never: one drawing and one waiting is all the gate takes
    assert order == ["first"]  # the second waits while the first draws
    finish.set()
    first.join()
    second.join()
    assert order == ["first", "second"]
    assert gate.callers == 0


KIND_VALUES = [
    "headline",
    "paragraphs_added",
    "paragraphs_removed",
    "text_edited",
    "byline",
    "dates",
    "correction",
    "minor",
    "entry_added",
    "entry_edited",
    "entry_removed",
    "a-kind-from-a-later-release",
]


def test_any_change_gets_a_card_and_alt_text_within_the_limit():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(["212", "284", "Talks", "stall.", "\n\n", " ", "said", "é", "—", "\n"])
    text = st.lists(words, max_size=80).map("".join)

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(
        before=text,
        after=text,
        title=st.text(max_size=400),
        kinds=st.lists(st.sampled_from(KIND_VALUES), max_size=4),
    )
    def within_limit(before: str, after: str, title: str, kinds: list[str]) -> None:
        card = build_card(
            facts(text_before=before, text_after=after, title_after=title, kinds=tuple(kinds))
        )
        assert 0 < len(card.alt_text) <= ALT_TEXT_MAX
        assert card.alt_text.startswith("BBC News ")
        assert WHEN in card.alt_text
        assert len("".join(piece.text for piece in card.excerpt)) <= 400

    within_limit()
