"""Short items stay clean: a story of one to three paragraphs is stored as its paragraphs.

Each fixture in tests/fixtures/short_items/ is a small page of one markup family, written the
way such templates render a short story, with the furniture that changes between two loads as
`{placeholders}`: relative times, counters, the modified time and rotating related links.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.core.extract import Article, extract
from tracker.core.normalize import fingerprint

FIXTURES = Path(__file__).parent / "fixtures" / "short_items"

# One load of a page, and a later one: every bit of furniture has moved, no word of the story.
FIRST_LOAD = {
    "modified": "2024-03-02T09:40:00Z",
    "ago": "17 minutes ago",
    "comments": "800",
    "views": "1,234",
    "followers": "12.4K",
    "r1": "storm-power",
    "related1": "Storm knocks out power to thousands",
    "r2": "council-budget",
    "related2": "Council approves new budget",
    "popular1": "Fire crews called to barn blaze",
    "popular2": "School board elects chair",
}
LATER_LOAD = {
    "modified": "2024-03-02T11:05:00Z",
    "ago": "2 hours ago",
    "comments": "1,024",
    "views": "3,871",
    "followers": "12.5K",
    "r1": "parade-route",
    "related1": "Parade route announced for Saturday",
    "r2": "library-hours",
    "related2": "Library extends weekend hours",
    "popular1": "Road work on Route 9 begins Monday",
    "popular2": "Fire crews called to barn blaze",
}

EXPECTED = {
    # A generic <article>: a <time> "Updated ... ago" and a share bar with a comment count
    # around two paragraphs split by a double <br> (the first one a heading's tail).
    "generic_time_share": [
        "A water main broke under Elm Street early on Saturday, flooding two blocks and closing"
        " the road between Fifth and Ninth avenues.",
        "Crews expect repairs to take until Monday evening, the city's water department said."
        " Residents nearby may notice low pressure.",
    ],
    # One paragraph: trafilatura's fallback gave the whole <article> as one run-on paragraph.
    "generic_one_paragraph": [
        "Power was restored to about 3,000 homes in the North End on Sunday night, the utility"
        " said.",
    ],
    # The stamp, the counter and a "Read more:" link inside the very div of the text.
    "generic_article_div": [
        "The Cedar River bridge reopened to traffic on Friday afternoon after engineers finished"
        " a two-day safety inspection.",
        "The state transportation department said the bridge was found to be sound, and that a"
        " weight limit for trucks will stay in place.",
    ],
    # A table-layout local paper: the story's cell is split by <br><br>, an ad sits between two
    # paragraphs, and the next cell is a "Most Popular" list; a view counter under the title.
    "table_layout_brbr": [
        "The Millbrook volunteer fire department raised $12,000 at its annual pancake breakfast"
        " on Sunday, chief Tom Harlan said.",
        "The money will go toward a new set of rescue tools, which the department has been"
        " saving for since 2021.",
        "More than 400 people attended, and volunteers served about 1,100 pancakes, Harlan said.",
    ],
    # A div of text split by double breaks, with an ad slot between two paragraphs.
    "div_brbr_ad": [
        "The municipal pool on Park Road will open on May 25, two weeks earlier than usual, after"
        " repairs to its filter system finished ahead of schedule.",
        "Season passes go on sale at town hall on May 1 and cost $80 for adults and $45 for"
        " children.",
    ],
    # WordPress-like: entry meta (posted on, updated, by, comments), a share box, related posts.
    "wordpress": [
        "The Lakeside Public Library board on Monday named Priya Natarajan, the assistant"
        " director in Fairview, as its new director.",
        "Natarajan replaces Gordon Blake, who retired in January after 22 years. She starts on"
        " May 1.",
    ],
    # BBC-like text-block divs: a byline block with time and Share/Save, a links block between.
    "bbc_text_blocks": [
        "A rail line between Ashby and Carrow has been closed after a landslip near a tunnel"
        " entrance.",
        "Network Rail said engineers were assessing the slope and the line was expected to stay"
        " shut until at least Thursday.",
        "Replacement buses are running between the two stations every half an hour.",
    ],
    # An in-body ad slot ("Advertisement" and an iframe), then the paragraph after it.
    "inbody_ad": [
        "Three school bus routes in the Oakdale district will change on March 11, the district"
        " announced on Wednesday.",
        "Parents of affected students will receive letters with the new pickup times by the"
        " end of the week.",
    ],
    # A newsletter box between the paragraphs, an author bio with a follower count after them.
    "newsletter_bio": [
        "The county commission on Tuesday postponed its vote on a new downtown stadium until"
        " June, saying it needs more time to study the financing.",
        "Commissioner Lena Ruiz said the team's request for $300 million in public money was"
        ' "far larger than anything this county has done."',
    ],
}

# Words of the furniture of the fixtures that no stored paragraph may contain.
CHROME_WORDS = [
    "ago",
    "comments",
    "Comments",
    "views",
    "Views",
    "followers",
    "Share",
    "Advertisement",
    "Read more",
    "Related",
    "Most Popular",
    "newsletter",
    "Sign up",
    "min read",
    "covers county government",
    "Posted",
    "Storm knocks out power",
    "Fire crews called",
    "Weather",
    "|",
]


def render(name: str, fill: dict[str, str], edit: tuple[str, str] | None = None) -> str:
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    for key, value in fill.items():
        html = html.replace(f"{{{key}}}", value)
    if edit is not None:
        assert edit[0] in html
        html = html.replace(edit[0], edit[1], 1)
    return html


def read(name: str, fill: dict[str, str] = FIRST_LOAD, **kwargs: tuple[str, str]) -> Article:
    return extract(render(name, fill, kwargs.get("edit")), f"https://news.example/{name}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_short_story_is_stored_as_its_paragraphs_and_nothing_else(name: str) -> None:
    article = read(name)
    assert article.text.split("\n\n") == EXPECTED[name]
    assert [block.text for block in article.blocks] == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_furniture_inside_the_article_is_neither_stored_nor_in_the_blocks(name: str) -> None:
    article = read(name)
    stored = [article.text, *(block.text for block in article.blocks)]
    for chrome in CHROME_WORDS:
        assert not any(chrome in text for text in stored), chrome


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_later_load_with_other_furniture_is_the_same_version(name: str) -> None:
    first, later = read(name), read(name, LATER_LOAD)
    assert later.text == first.text
    assert later.blocks == first.blocks
    assert fingerprint(later) == fingerprint(first)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_one_word_edit_of_any_paragraph_changes_the_fingerprint(name: str) -> None:
    before = read(name)
    for paragraph in EXPECTED[name]:
        word = paragraph.split()[2]
        edited = paragraph.replace(f" {word} ", " another ", 1)
        # The source splits no paragraph across lines, so the phrase is there as stored.
        phrase = " ".join(paragraph.split()[1:4]).replace("'", "&#39;")
        source = render(name, FIRST_LOAD)
        if phrase not in source:
            phrase = " ".join(paragraph.split()[1:4])
        after = read(name, edit=(phrase, phrase.replace(f" {word} ", " another ", 1)))
        assert edited in after.text.split("\n\n"), (paragraph, after.text)
        assert fingerprint(after) != fingerprint(before)


@pytest.mark.parametrize("name", ["generic_time_share", "wordpress", "newsletter_bio"])
def test_a_republish_that_only_moves_the_modified_time_is_not_a_change(name: str) -> None:
    """The CMS re-publishes: `dateModified`, `article:modified_time` and the "Updated" stamp
    move, nothing else does. The fingerprint, which decides whether a version is made, and the
    stored body stay the same; only `Article.modified` says when the page claims it changed."""
    fill = {**FIRST_LOAD, "modified": "2024-03-02T12:30:00Z", "ago": "1 minute ago"}
    first, republished = read(name), read(name, fill)
    assert republished.modified != first.modified
    assert republished.text == first.text
    assert fingerprint(republished) == fingerprint(first)


def test_a_layout_table_is_read_as_paragraphs_not_as_a_pipe_table() -> None:
    article = read("table_layout_brbr")
    assert all(block.kind != "row" for block in article.blocks)
    assert "|" not in article.text
    # The headline is the bold line the story opens with, not the title with the site's name.
    assert article.title == "Fire hall fundraiser raises $12,000"


def test_a_data_table_in_a_story_stays_a_table() -> None:
    rows = "".join(
        f"<tr><td>{name}</td><td>{votes}</td></tr>"
        for name, votes in [("Ann Lee", "4,120"), ("Bo Chan", "3,877"), ("Cy Diaz", "1,002")]
    )
    html = f"""<html><head><title>Results are in</title></head><body><article>
<h1>Results are in</h1>
<p>The county released the unofficial results of Tuesday's council race on Wednesday night.</p>
<table><tr><th>Candidate</th><th>Votes</th></tr>{rows}</table>
<p>Lee will be sworn in next month, the county clerk said in a statement on Wednesday.</p>
</article></body></html>"""
    article = extract(html)
    assert "| Ann Lee | 4,120 |" in article.text.split("\n\n")


def test_the_paragraph_after_an_in_body_ad_is_kept_whatever_the_ad_says() -> None:
    for label in ("Advertisement", "Sponsored", "Story continues below advertisement"):
        html = render("div_brbr_ad", FIRST_LOAD).replace(">Advertisement<", f">{label}<")
        assert extract(html).text.split("\n\n") == EXPECTED["div_brbr_ad"]


def test_a_time_inside_a_sentence_is_the_writers() -> None:
    html = """<html><head><title>Fire out</title></head><body><article><h1>Fire out</h1>
<p>Firefighters put out the blaze on Maple Avenue <time datetime="2024-03-02">an hour ago</time>,
a spokesman said on Saturday.</p>
<p>No one was hurt, and the cause of the fire is under investigation, the spokesman said.</p>
</article></body></html>"""
    assert "an hour ago" in extract(html).text


def test_a_short_closing_line_before_a_related_link_is_the_storys() -> None:
    html = """<html><head><title>Power cut</title></head><body><article><h1>Power cut</h1>
<div class="entry-content"><p>Crews would work through the night, the utility company said.</p>
<p>More to follow.</p>
<p><strong>READ MORE:</strong> <a href="/nurses">Nurses begin 4-day strike over pay</a></p>
</div></article></body></html>"""
    assert extract(html).text.split("\n\n")[-1] == "More to follow."


@pytest.mark.parametrize(
    ("shown", "byline"),
    [
        ("Jane Whitfield 5", "Jane Whitfield"),
        ("Sofia Marquez 5", "Sofia Marquez"),  # not "Mar(ch)"
        ("Ann Lee 5,120 followers", "Ann Lee"),
        ("Ann Lee · 12k followers", "Ann Lee"),
        ("Ann Lee, 2 comments", "Ann Lee"),
        ("By Ann Lee and Bo Chen", "By Ann Lee and Bo Chen"),
        ("By Ann Lee, Dec 4 2026", "By Ann Lee, Dec 4 2026"),  # a date stays whole
    ],
)
def test_a_byline_never_carries_a_ticking_counter(shown: str, byline: str):
    from tracker.core.extract import _clean_byline

    assert _clean_byline(shown) == byline


def _article_page(inner: str) -> str:
    return (
        "<html><head><title>Storm hits coast</title></head><body><main><article>"
        "<h1>Storm hits coast</h1>"
        "<p>The storm reached the northern coast early on Tuesday, bringing heavy rain to "
        "towns that had been evacuated overnight, officials said.</p>"
        f"{inner}"
        "<p>Emergency services said 14 people had been taken to hospital with minor injuries "
        "and that power had been cut to about 30,000 homes.</p>"
        "</article></main></body></html>"
    )


@pytest.mark.parametrize(
    "furniture",
    [
        # Another story's headline under a label, ending like a sentence.
        '<p><strong>READ MORE:</strong> <a href="/q">Quiz: how well do you know the news?</a></p>',
        '<p>Related: <a href="/w">What we know so far?</a></p>',
        # A list of links whose one question-shaped item reads like a sentence.
        '<div><h2>More on this story</h2><ul><li><a href="/a">Council sets new budget</a></li>'
        '<li><a href="/b">Who will pay for the repairs?</a></li></ul></div>',
        # An appeal for money, with a counter that ticks.
        '<div class="contributions__epic"><p>810,412 readers supported our journalism this '
        'year. Will you join them?</p><a href="/support">Support us</a></div>',
        # A photo caption: in or out by the extractor's whim, so never kept.
        '<figure><img src="/a.jpg" alt=""><figcaption>The scene earlier today. (Staff photo)'
        "</figcaption></figure>",
    ],
)
def test_in_article_furniture_that_reads_like_a_sentence_stays_out(furniture: str):
    from tracker.core.extract import extract

    article = extract(_article_page(furniture), "http://127.0.0.1/storm")
    assert article.text.split("\n\n") == [
        "The storm reached the northern coast early on Tuesday, bringing heavy rain to towns "
        "that had been evacuated overnight, officials said.",
        "Emergency services said 14 people had been taken to hospital with minor injuries and "
        "that power had been cut to about 30,000 homes.",
    ]


def test_a_credit_line_shown_on_the_page_is_the_byline_when_metadata_names_none():
    from tracker.core.extract import extract

    page = _article_page("").replace(
        "<h1>Storm hits coast</h1>",
        "<h1>Storm hits coast</h1><div><span>By Ann Lee and Bo Chen</span>"
        "<span>Local news reporters</span></div>",
    )
    assert extract(page, "http://127.0.0.1/storm").byline == "Ann Lee and Bo Chen"
