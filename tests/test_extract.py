"""extract(): the article of a page -- headline, byline, dates, body -- and nothing else."""

from __future__ import annotations

import pytest

from tracker.extract import Article, extract, validate_selector

PARAGRAPHS = [
    "The city council voted 7 to 2 on Tuesday to approve next year's budget after a long debate.",
    "Opponents said the plan would raise property taxes by 4 percent for most homeowners.",
    "The mayor, who proposed the budget in September, is expected to sign it within days.",
    "Council members will meet again in January to review spending on roads and schools.",
]


def page(
    *,
    h1: str = "Council approves budget after long debate",
    og_title: str | None = "Council approves budget after long debate",
    title: str | None = "Council approves budget after long debate | Springfield News",
    body: str | None = None,
    head_extra: str = "",
    lang: str = "en",
) -> str:
    body = body if body is not None else "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    og = f'<meta property="og:title" content="{og_title}">' if og_title else ""
    title_tag = f"<title>{title}</title>" if title else ""
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{title_tag}{og}
<meta property="og:site_name" content="Springfield News">
<meta name="author" content="Ann Lee">
<meta property="article:published_time" content="2019-11-20T10:42:00Z">
<meta property="article:modified_time" content="2019-11-21T08:00:00Z">
<link rel="canonical" href="/news/council-budget">{head_extra}</head>
<body><header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article><h1>{h1}</h1><div class="article-body">{body}</div></article>
<aside class="most-read"><h2>Most read</h2><ul>
<li><a href="/a">Storm knocks out power to thousands across the region</a></li>
<li><a href="/b">Star quarterback out for season with knee injury</a></li>
<li><a href="/c">How to watch tonight's meteor shower</a></li></ul></aside></main>
<footer><p>© 2019 Springfield News. All rights reserved.</p></footer></body></html>"""


def test_extracts_body_headline_and_metadata() -> None:
    article = extract(page(), "https://news.example/news/council-budget?utm=x")
    assert article.text == "\n\n".join(PARAGRAPHS)
    assert article.title == "Council approves budget after long debate"
    assert article.byline == "Ann Lee"
    assert article.published == "2019-11-20T10:42:00Z"
    assert article.modified == "2019-11-21T08:00:00Z"
    assert article.canonical_url == "https://news.example/news/council-budget"
    assert article.lang == "en"


def test_sidebars_navigation_and_footer_are_not_in_the_body() -> None:
    text = extract(page()).text
    for chrome in ("Most read", "Storm knocks out power", "Home", "All rights reserved"):
        assert chrome not in text


def test_site_name_is_stripped_from_the_page_title() -> None:
    article = extract(page(h1="", og_title=None))
    assert article.title == "Council approves budget after long debate"


def test_visible_headline_wins_and_other_headlines_are_kept() -> None:
    article = extract(page(og_title="Budget approved: what it means for your taxes"))
    assert article.title == "Council approves budget after long debate"
    assert article.headlines == (
        "Council approves budget after long debate",
        "Budget approved: what it means for your taxes",
    )


def test_a_rewritten_visible_headline_is_read_even_when_meta_titles_lag() -> None:
    article = extract(page(h1="Mayor vetoes budget hours after council vote"))
    assert article.title == "Mayor vetoes budget hours after council vote"


def test_a_logo_h1_is_not_taken_for_the_headline() -> None:
    html = page().replace("<header>", "<header><h1>Springfield News</h1>", 1)
    assert extract(html).title == "Council approves budget after long debate"


def test_a_headline_in_an_h2_is_read_when_the_h1_is_the_logo() -> None:
    html = page(h1="Springfield News").replace(
        '<div class="article-body">',
        '<h2>Council approves budget after long debate</h2><div class="article-body">',
        1,
    )
    html = html.replace(
        "Council approves budget after long debate</h2>",
        "Council passes budget after long debate</h2>",
    )
    assert extract(html).title == "Council passes budget after long debate"


def test_an_h1_in_a_form_wrapping_the_whole_page_is_the_headline() -> None:
    html = page(h1="Mayor vetoes budget hours after council vote")
    html = html.replace("<body>", "<body><form id='aspnetForm'>").replace(
        "</body>", "</form></body>"
    )
    assert extract(html).title == "Mayor vetoes budget hours after council vote"
    search = page().replace("<header>", "<header><form><h1>Search the archive now</h1></form>")
    assert extract(search).title == "Council approves budget after long debate"


def test_every_copy_of_the_headline_is_read() -> None:
    html = page().replace("<header>", "<header><h1>Council approves budget after a debate</h1>", 1)
    assert "Council approves budget after a debate" in extract(html).headlines


def test_the_part_of_the_page_title_before_the_site_name_is_headline() -> None:
    article = extract(
        page(h1="", og_title=None, title="Dare to Play 3 / October pack – Games Site")
    )
    assert article.title == "Dare to Play 3 / October pack"


def test_paragraphs_of_the_body_container_left_out_by_trafilatura_are_read() -> None:
    tweet = (
        '<div class="social-embed"><blockquote class="twitter-tweet"><p lang="en">Meth. We are'
        " on it. The state spent nearly half a million dollars on this campaign."
        ' pic.twitter.com/3BDnrvkoms</p>&mdash; Jane (@jane) <a href="https://twitter.com/x">'
        "November 18, 2019</a></blockquote></div>"
    )
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2]) + tweet
    body += "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2:])
    text = extract(page(body=body)).text
    assert "pic.twitter.com/3BDnrvkoms" in text
    assert text.index(PARAGRAPHS[1]) < text.index("pic.twitter.com") < text.index(PARAGRAPHS[2])


def test_a_note_after_the_body_wrapper_is_read() -> None:
    note = "Correction: An earlier version of this story misstated the vote. It was 7 to 2."
    body = (
        '<div class="grid"><div class="body">'
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + f"</div><div class='rail'></div></div><p><em>{note}</em></p>"
    )
    assert extract(page(body=body)).text.split("\n\n")[-1] == note


def test_hidden_text_is_not_part_of_the_body() -> None:
    body = (
        f"<p>{PARAGRAPHS[0]}<span class='hovercard' hidden>12,345 followers</span></p>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:])
        + "<div style='display: none'>Screen-reader promo text that nobody sees on the page.</div>"
    )
    text = extract(page(body=body)).text
    assert "followers" not in text
    assert "promo" not in text
    assert PARAGRAPHS[0] in text


def test_link_text_is_plain_text_in_the_body_and_remembered_per_block() -> None:
    body = f'<p>{PARAGRAPHS[0]} <a href="/report">Read the full report</a> here.</p>' + "".join(
        f"<p>{p}</p>" for p in PARAGRAPHS[1:]
    )
    article = extract(page(body=body))
    assert "Read the full report here." in article.text
    assert "](" not in article.text
    assert article.blocks[0].links == ("Read the full report",)


def test_a_body_split_into_sibling_containers_is_read_whole() -> None:
    more = [
        "In a separate vote, the council extended library hours on weekends across the city.",
        "Residents can comment on the plan at a public hearing scheduled for next month.",
    ]
    body = (
        '<div class="body-part">' + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</div>"
        '<div class="ad"><span>Advertisement</span></div>'
        '<div class="body-part">' + "".join(f"<p>{p}</p>" for p in more) + "</div>"
    )
    text = extract(page(body=body)).text
    assert text.split("\n\n")[-2:] == more


def test_selector_overrides_extraction() -> None:
    html = page(body='<p class="lede">Only this.</p><p>Not this one, though it is long prose.</p>')
    article = extract(html, selector="p.lede")
    assert article.text == "Only this."
    assert article.title == "Council approves budget after long debate"


def test_selector_matching_nothing_gives_no_article() -> None:
    assert extract(page(), selector="div.nope").text == ""


def test_invalid_selector_is_reported_by_validate_and_gives_no_article() -> None:
    with pytest.raises(ValueError, match="invalid CSS selector"):
        validate_selector("p[[")
    assert extract(page(), selector="p[[").text == ""


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<html><head><script>var x = 1;</script></head></html>",
        "<html><body><script>" + "x" * 100_000 + "</script></body></html>",
    ],
    ids=["empty", "blank", "script-only", "huge-script"],
)
def test_a_page_without_article_gives_empty_text(html: str) -> None:
    assert extract(html, "https://news.example/x").text == ""


@pytest.mark.parametrize(
    "html",
    [
        "not html at all",
        "<div>" * 10_000 + "deep" + "</div>" * 10_000,
        "<div>" * 10_000 + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</div>" * 10_000,
        '<p title="' + "a" * 2_000_000 + '">huge attribute</p>',
        "<html><body>\x00\x01\x02<p>\udcff broken surrogate</p></body></html>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>",
        "<html><body><table><tr><td><p>unclosed <b><i>tags</table>",
        "<html><body>" + "<p>para</p>" * 5_000 + "</body></html>",
    ],
    ids=[
        "plain-text",
        "deep-nesting",
        "deep-nesting-with-article",
        "huge-attribute",
        "control-chars",
        "xml-declaration",
        "unclosed-tags",
        "many-elements",
    ],
)
def test_hostile_pages_never_raise(html: str) -> None:
    article = extract(html, "https://news.example/x")
    assert isinstance(article, Article)
    assert isinstance(article.text, str)


def test_link_markup_never_leaks_into_the_text() -> None:
    article = extract("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert "](" not in article.text


def test_text_is_normalised() -> None:
    nbsp, zwsp = "\u00a0", "\u200b"
    body = "".join(f"<p>{p.replace(' ', nbsp, 2)}{zwsp}</p>" for p in PARAGRAPHS)
    body = body.replace("7 to 2", f"7{nbsp}to{nbsp}2").replace("council", f"coun{zwsp}cil")
    assert extract(page(body=body)).text == "\n\n".join(PARAGRAPHS)
