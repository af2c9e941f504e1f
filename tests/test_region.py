"""The article region: a page whose article region is as last read is not read again, and
every change a reader could see in the article still is.

The rule (tracker.core.region): a check may skip extraction only when the region's text,
the page's headlines, meta tags, data scripts and the story's settings are all as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from servers import LocalServer
from sqlalchemy import select

from tracker.config import Settings
from tracker.core import region
from tracker.core.extract import extract
from tracker.pipeline.check import analyse
from tracker.pipeline.engine import CheckEngine
from tracker.services.stories import add_stories
from tracker.store.db import Database
from tracker.store.models import Story, Version

URL = "https://news.example/2026/12/04/storm"
BODY = [
    "The storm reached the coast on Thursday night, cutting power to 40,000 homes.",
    "Emergency crews worked through the night to restore lines in the worst-hit towns.",
    "The mayor said schools would stay closed on Friday while roads were cleared.",
    "Forecasters expect the wind to ease by Saturday, though more rain is on the way.",
]


def page(
    *,
    body: list[str] = BODY,
    headline: str = "Storm cuts power to thousands",
    byline: str = "Ann Lee",
    comments: int = 12,
    related: tuple[str, ...] = ("Markets rally", "Cup final tickets"),
    ad_id: str = "ad-1",
    extra_head: str = "",
    article_attrs: str = "",
) -> str:
    paragraphs = "\n".join(f"<p>{text}</p>" for text in body)
    links = "".join(f'<li><a href="/r/{i}">{title}</a></li>' for i, title in enumerate(related))
    return f"""<!doctype html><html lang="en"><head><title>{headline} | The Daily</title>
<meta property="og:title" content="{headline}"><meta name="author" content="{byline}">
{extra_head}</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<main><article{article_attrs}><h1>{headline}</h1><p class="byline">By {byline}</p>
{paragraphs}
</article>
<aside><h2>Related</h2><ul>{links}</ul><div id="{ad_id}">Advertisement</div>
<span class="comments">{comments} comments</span></aside></main>
<footer>Copyright The Daily</footer></body></html>"""


def first_read(html: str) -> tuple[str, region.Region]:
    analysis = analyse(html, URL, None, ())
    assert analysis.fingerprint is not None and analysis.region is not None
    return analysis.fingerprint, analysis.region


def recheck(known: tuple[str, region.Region], html: str, **kwargs: object):
    fingerprint, known_region = known
    return analyse(
        html, URL, None, (), known_fingerprint=fingerprint, known_region=known_region, **kwargs
    )


def test_the_region_is_the_article_element_not_the_page():
    _, found = first_read(page())
    assert found.path == "/html/body/main/article"


@pytest.mark.parametrize(
    "chrome",
    [
        {"comments": 13},
        {"related": ("Cup final tickets", "Weather warning")},
        {"ad_id": "ad-2"},
    ],
    ids=["counter", "related links", "ad slot"],
)
def test_new_chrome_around_the_same_article_is_not_read_again(chrome):
    known = first_read(page())
    again = recheck(known, page(**chrome))
    assert again.same_region
    assert again.fingerprint == known[0]
    assert "extract" not in again.cpu  # extraction did not run


@pytest.mark.parametrize(
    "edit",
    [
        {"body": [BODY[0].replace("40,000", "45,000"), *BODY[1:]]},
        {"body": [*BODY, "Officials will give an update at 9 a.m."]},
        {"body": BODY[:2] + BODY[3:]},
        {"body": [BODY[0], BODY[1][:40], BODY[1][40:], *BODY[2:]]},  # a paragraph split
        {"headline": "Storm leaves thousands without power"},
        {"byline": "Ann Lee and Raj Patel"},
        {"extra_head": '<meta property="article:modified_time" content="2026-12-04T10:00">'},
        {"extra_head": '<script type="application/ld+json">{"headline": "New"}</script>'},
    ],
    ids=[
        "figure",
        "added paragraph",
        "removed paragraph",
        "split paragraph",
        "headline",
        "byline",
        "meta",
        "json-ld",
    ],
)
def test_any_change_a_reader_or_extraction_could_see_is_read_in_full(edit):
    known = first_read(page())
    again = recheck(known, page(**edit))
    assert not again.same_region
    assert "extract" in again.cpu


def test_a_paragraph_that_was_hidden_and_is_shown_is_read_in_full():
    hidden = page(body=[*BODY[:3], f'<span hidden="">{BODY[3]}</span>'])
    shown = page(body=[*BODY[:3], f"<span>{BODY[3]}</span>"])
    known = first_read(hidden)
    again = recheck(known, shown)
    assert not again.same_region
    assert BODY[3] in again.article.text


@pytest.mark.parametrize(
    "before, after",
    [
        ("<!-- ad slot -->40,000 homes lost power.", "<!-- ad slot -->45,000 homes lost power."),
        (
            "Power was cut.<!-- a --><!-- b --> 40,000 homes.",
            "Power was cut.<!-- a --><!-- b --> 45,000 homes.",
        ),
    ],
    ids=["first in the paragraph", "between comments"],
)
def test_an_edit_to_text_after_an_html_comment_is_read_in_full(before: str, after: str):
    # lxml's tree walk never reports comments: the text after one was missing from the
    # region's digest, so this edit was once settled as "unchanged" without a read.
    known = first_read(page(body=[*BODY, before]))
    again = recheck(known, page(body=[*BODY, after]))
    assert not again.same_region
    assert "45,000 homes" in again.article.text


def test_a_headline_shown_in_an_h2_and_edited_there_alone_is_read_in_full():
    # Templates that give the h1 to the site's logo show the headline in an h2, which
    # extraction reads; the meta titles lag behind an edit of it.
    def logo_page(shown: str) -> str:
        title = "Storm cuts power to thousands"
        paragraphs = "".join(f"<p>{text}</p>" for text in BODY)
        return (
            f'<html><head><title>{title}</title><meta property="og:title" content="{title}">'
            '</head><body><header><h1>The Daily</h1></header><div class="post">'
            f'<h2><a href="/storm">{shown}</a></h2><div class="entry">{paragraphs}</div>'
            "</div><aside><h3>Related</h3></aside></body></html>"
        )

    known = first_read(logo_page("Storm cuts power to thousands"))
    again = recheck(known, logo_page("Storm cuts power to thousands of homes"))
    assert not again.same_region
    assert again.article.title == "Storm cuts power to thousands of homes"


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_note_added_beside_the_articles_text_in_its_container_is_read_in_full(where: str):
    # The region is the smallest element that held the blocks; extraction reads the whole
    # container, so an "Update:" note above the text, or a correction below it, is read.
    def boxed(note: str = "") -> str:
        paragraphs = "".join(f"<p>{text}</p>" for text in BODY)
        before, after = (note, "") if where == "before" else ("", note)
        return (
            "<html><head><title>Storm cuts power to thousands</title></head><body>"
            "<main><article><h1>Storm cuts power to thousands</h1>"
            f'{before}<div class="text">{paragraphs}</div>{after}'
            "</article></main><footer>Copyright The Daily</footer></body></html>"
        )

    note = (
        "<p><em>Correction: An earlier version of this story misstated the number of homes"
        " without power. It was 40,000, not 45,000.</em></p>"
    )
    known = first_read(boxed())
    assert known[1].path.endswith("/article/div")
    again = recheck(known, boxed(note))
    assert not again.same_region
    assert "Correction: An earlier version" in again.article.text


def test_other_story_settings_or_fetcher_read_in_full():
    known = first_read(page())
    assert not recheck(known, page(), rendered=True).same_region
    fingerprint, known_region = known
    other = analyse(
        page(), URL, None, ("comments",), known_fingerprint=fingerprint, known_region=known_region
    )
    assert not other.same_region


def test_a_page_whose_article_moved_elsewhere_is_read_in_full():
    known = first_read(page())
    moved = page().replace("<main>", "<main><div class='promo'>Subscribe today</div>")
    # The article is now the main element's second child; the old path names the promo.
    assert not recheck(known, moved.replace("<article>", "<section><article>")).same_region


def test_no_region_for_an_article_read_from_the_page_data():
    data = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Storm", '
        '"articleBody": "' + " ".join(BODY * 3) + '"}</script>'
    )
    shell = f"<html><head>{data}</head><body><div id='app'>Loading…</div></body></html>"
    article = extract(shell, URL)
    assert article.source != "html"
    assert region.locate(region.prepare(shell), article, salt="") is None


def test_a_block_repeated_in_a_pull_quote_keeps_both_in_the_region():
    quoted = page().replace(
        "<aside>", f"<aside><blockquote>{BODY[2]}</blockquote>", 1
    )  # the quote sits outside the article
    _, found = first_read(quoted)
    assert found.path == "/html/body/main"  # the region holds both places


def test_a_headline_repeated_around_the_page_does_not_widen_the_region():
    # Breadcrumbs and share links repeat the headline; the digest reads it from the h1,
    # the <title> and the meta tags, wherever else it appears.
    crumbs = page().replace("<nav>", "<nav><span>World › Storm cuts power to thousands</span>", 1)
    _, found = first_read(crumbs)
    assert found.path == "/html/body/main/article"


# -- through the engine ------------------------------------------------------------------


def test_a_check_of_new_chrome_is_unchanged_and_a_later_edit_is_a_version(
    db: Database, settings: Settings, server: LocalServer
):
    server.set("/story", page())
    with db.session() as session:
        [added] = add_stories(
            session, [server.url("/story")], now=datetime.now(UTC), allow_private_networks=True
        )
    with CheckEngine(db, settings) as engine:
        [first] = engine.check_now([added.story_id])
        assert first.version_seq == 1
        with db.session() as session:
            story = session.get(Story, added.story_id)
            stored = story.region_path, story.region_digest
        assert stored[0] == "/html/body/main/article"

        extracting = engine.stage_cpu.totals()["extract"]
        server.set("/story", page(comments=99, ad_id="ad-7"))
        [chrome] = engine.check_now([added.story_id])
        assert str(chrome.outcome) == "unchanged"
        assert engine.stage_cpu.totals()["extract"] == extracting  # not read again

        server.set("/story", page(comments=100, body=[*BODY, "Power is back in most towns."]))
        [edited] = engine.check_now([added.story_id])
        assert edited.version_seq == 2
        assert edited.kinds == ("paragraphs_added",)
    with db.session() as session:
        texts = session.scalars(select(Version.text).order_by(Version.seq)).all()
        story = session.get(Story, added.story_id)
        assert (story.region_path, story.region_digest) != stored  # the new read's region
    assert "Power is back in most towns." in texts[1]


def test_a_parsed_page_is_prepared_from_a_copy():
    """analyse() parses a page once and hands the tree to extraction, the health verdict
    and the region: preparing the region's view (hidden elements dropped) leaves it whole."""
    import lxml.html

    from tracker.core.extract import parse_page

    html = page(article_attrs=' data-x="1"').replace("<main>", "<main><div hidden>Teaser</div>")
    tree = parse_page(html)
    assert tree is not None
    before = lxml.html.tostring(tree)
    prepared = region.prepare(tree)
    assert prepared is not None and prepared is not tree
    assert lxml.html.tostring(prepared) == lxml.html.tostring(region.prepare(html))
    assert lxml.html.tostring(tree) == before and b"Teaser" in before
    assert region.prepare(None) is None


def test_a_full_read_is_the_same_from_one_parse_as_from_three():
    """What analyse() reads from its one parse is what extraction, the region and the health
    verdict read from the HTML each on its own."""
    from tracker.core import health
    from tracker.pipeline.check import region_salt

    html = page()
    analysis = analyse(html, URL, None, ())
    article = extract(html, URL)
    assert analysis.article == article
    assert analysis.health == health.assess(article, html, shown=region.prepare(html))
    salt = region_salt(None, (), rendered=False)
    assert analysis.region == region.locate(region.prepare(html), article, salt=salt)


def test_the_text_after_a_comment_is_shown_text_and_a_comments_own_text_is_not():
    import lxml.html

    from tracker.core.extract import shown_text_nodes

    tree = lxml.html.fromstring(
        "<div>a<!--c-->b<p>p1</p>t<!--x--><!--y-->u<script>s</script>v<!--z-->w</div>"
    )
    assert list(shown_text_nodes(tree)) == ["a", "b", "p1", "t", "u", "v", "w"]
