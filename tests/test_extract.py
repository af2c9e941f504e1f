"""extract(): the article of a page -- headline, byline, dates, body -- and nothing else."""

from __future__ import annotations

import pytest

from tracker.core.extract import Article, extract, validate_selector

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


# --- body parts trafilatura drops or cuts ------------------------------------------------------


def test_a_paragraph_broken_over_source_lines_is_one_block() -> None:
    # Templates put each link on a line of its own; a reader sees one paragraph.
    last = (
        "<p>Home Depot shares are up about 40% this year, easily outpacing the\n"
        '    <a href="/quote/DJIA">Dow Jones Industrial Average</a>\n   and\n'
        '    <a href="/quote/SPX">S&amp;P 500</a>\n   over the same span.</p>'
    )
    article = extract(page(body="".join(f"<p>{p}</p>" for p in PARAGRAPHS) + last))
    expected = (
        "Home Depot shares are up about 40% this year, easily outpacing the"
        " Dow Jones Industrial Average and S&P 500 over the same span."
    )
    assert article.text.split("\n\n")[-1] == expected
    assert article.blocks[-1].links == ("Dow Jones Industrial Average", "S&P 500")


def test_a_summary_above_the_body_is_read() -> None:
    # Cut down from a corpus page (rt.com) where trafilatura reads only the inner text container.
    summary = (
        "Three people have died during protests in Bolivia against the self-declared “interim”"
        " government that ousted Evo Morales, after violent clashes erupted between the socialist"
        " leader’s supporters and security forces."
    )
    html = (
        '<html><head><title>x</title></head><body><main><div class="article ">'
        '<h1 class="article__heading"> ‘He died in my hands’: 3 pro-Morales demonstrators killed'
        " in clashes with Bolivia’s police &amp; soldiers near barricaded fuel plant </h1>"
        '<div class="article__summary summary "> Three people have died during protests '
        "in Bolivia against the self-declared “interim” government that ousted Evo "
        "Morales, after violent clashes erupted between the socialist leader’s supporters "
        'and security forces. </div><div class="article__text text "><p>In addition to '
        "the three fatalities at a fuel plant on Tuesday, Bolivia’s public defender’s "
        "office said another 30 people had been injured in the skirmishes, but added the "
        "exact circumstances of the deaths and injuries remained unclear.</p><p>Public "
        "Ombudsman Nadia Cruz’s office said the deaths were caused by gunshot wounds and "
        "called on the <em>“interim”</em> government to withdraw military units from all "
        'policing operations in order to reduce the violence.</p><a class="read-more-big" '
        'href="/news/473735-bolivia-crackdown-socialists-journalists-sedition/"> <span '
        'class="read-more-big__container"> <span class="read-more-big__content"> <span '
        'class="read-more-big__subtitle">Also on rt.com</span> <span '
        'class="read-more-big__title">Journalists &amp; politicians from Morales’ party '
        "threatened with sedition arrests as Bolivia purges socialist elements</span> "
        "</span>  </span> </a><p>An Associated Press journalist in the area also reported "
        "hearing gunfire near the fuel facility in Senkata, which protesters have tried "
        "to block over the last five days in an attempt to shut down operations, as well "
        "as seeing a military helicopter flying over the plant.</p><p>A doctor on the "
        "scene told Ruptly that he tried to save one of the wounded demonstrators, but "
        "failed to do so.</p><p><em>“It’s a shame to see a comrade die in this way, "
        "because he died in my hands. Seeing it was a shot in the heart, how sad to see "
        "something like that,”</em> the doctor said.</p><p><strong><em>Like this story? "
        "Share it with a friend!</em></strong></p><p></p></div></div> "
        "</main></body></html>"
    )
    assert extract(html).text.split("\n\n")[0] == summary


def test_a_prose_block_among_the_paragraphs_is_read_but_not_teaser_cards() -> None:
    # Cut down from a corpus page (politifact.com) whose questions are divs trafilatura drops.
    teaser = "Former governor speaks with a business owner during a campaign stop on Tuesday."
    html = (
        "<html><head><title>x</title></head><body><main><article>"
        "<h1>PolitiFact guide to tariffs</h1>"
        '<div class="article__text"> <p>Breaking with decades of United States policy '
        "favoring free trade, President Donald Trump has pursued an agenda favoring "
        'tariffs as weapons in a widening trade war. </p> <p>"We talk about it all the '
        'time, but under this administration, the great betrayal is over," Trump <a>said '
        'at a rally in Monroe, La.,</a> on Nov. 6, 2019. "America is no longer for sale. '
        "Thanks to my tariffs, we're taking in billions and billions of dollars from a "
        'country that never gave us 10 cents, China."</p> <p>Backers of tariffs say that '
        "they help American companies become more competitive with their foreign "
        "counterparts. As those companies prosper, the thinking goes, they can hire more "
        "workers and pay their employees better. Those workers, in turn, would have more "
        "money to spend, and that helps spread those dollars around the economy more "
        "broadly.</p> <p>Tariffs have also strengthened the United States’ leverage after "
        "massive job losses from China trade in recent decades, said Scott Paul, who "
        "heads the Alliance for American Manufacturing, a group that has applauded some "
        "of Trump’s tariff decisions.</p> <p>Most mainstream economists, however, argue "
        "that consumers are the primary victims of tariffs. Tariffs on consumer products "
        "hit customers directly, while tariffs on raw materials can produce delays or "
        "price spikes that spiral across the economy, interrupting complex and "
        "time-sensitive supply chains. Any slowdown in the supply chain could mean "
        'layoffs for producers and a hit to the broader U.S. economy.</p> <p>"As a '
        'general matter, import tariffs are a tax," said Lawrence White, a professor at '
        'New York University’s Stern School of Business. "Tariffs, like any tax, '
        "generally introduce an inefficiency and makes the two sides of the trading "
        'relationship poorer — not richer."</p> <p>Studies have shown that lower-income '
        "Americans tend to purchase a larger fraction of their income on goods. That "
        "means they could feel the pinch worse than more affluent Americans do.</p> "
        "<p>The situation can worsen if other countries raise trade barriers against the "
        "United States, thus hurting U.S. companies that export to the rest of the world. "
        '</p> <div class="pf_subheadline">Who pays the cost of a tariff?</div> <p>When '
        "the United States slaps tariffs on goods, it <a>isn’t foreign exporters</a> that "
        "make the payment. The importers do, and they’re usually U.S. companies.</p> "
        '<p>"If the U.S. imposes a tariff on Chinese televisions, the duty is paid to '
        "U.S. Customs and Border Protection at the border by a U.S. broker representing a "
        'U.S. importer — say, Costco," Howard Gleckman, a senior fellow at the Urban '
        'Institute-Brookings Institution Tax Policy Center, <a>has written</a>. "The '
        'Chinese government pays nothing."</p> <p>Customs and Border Protection typically '
        "requires payment within 10 days of their shipments clearing customs, <a>Reuters "
        "reported</a>. Companies that don’t pay their amount by that date are sent a new "
        "bill.</p> </div> "
        f'<div class="promo"><div class="promo-text">{teaser}</div></div>'
        "</article></main></body></html>"
    )
    text = extract(html).text
    assert "\n\nWho pays the cost of a tariff?\n\n" in text
    assert teaser not in text


def test_a_video_title_over_its_caption_is_read_but_not_a_box_heading() -> None:
    video = (
        '<div class="video"><div class="caption"><h4><a href="/v/1">Top entertainment'
        " headlines for Nov. 19</a></h4><p>The top entertainment and celebrity headlines for"
        " Nov. 19 are here. Check out what is clicking today.</p></div></div>"
    )
    box = (
        '<div class="related"><h4>Related</h4><a href="/b"><h5>Court blocks controversial'
        " voting law</h5></a></div>"
    )
    body = video + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2]) + box
    body += "".join(f"<p>{p}</p>" for p in PARAGRAPHS[2:])
    article = extract(page(body=body))
    assert "Top entertainment headlines for Nov. 19" in article.text
    assert "Related" not in article.text
    assert "voting law" not in article.text


def test_an_overlong_canonical_link_is_ignored() -> None:
    """A canonical URL longer than any stored URL is junk (and would not fit the column)."""
    page = (
        '<html><head><title>Talks resume in Baghdad</title><link rel="canonical" '
        f'href="https://example.com/a?{"x" * 3000}"></head><body><article>'
        "<h1>Talks resume in Baghdad</h1><p>Delegations met for four hours on Monday in the "
        "capital, officials said, describing the mood as tense but businesslike.</p>"
        "</article></body></html>"
    )
    article = extract(page, "https://example.com/a")
    assert article.canonical_url is None
    assert "Delegations met" in article.text


def test_a_parsed_page_reads_as_its_html_and_is_left_as_it_was() -> None:
    """One parse serves every reader of a page (tracker.pipeline.check.analyse): extraction
    reads a copy of the tree it is handed, so the health verdict and the region can read the
    page as it was parsed."""
    import lxml.html

    from tracker.core.extract import parse_page

    html = page(head_extra='<script type="application/ld+json">{"@type": "NewsArticle"}</script>')
    html = html.replace("<main>", "<main><div hidden><p>Hidden teaser text here.</p></div>")
    tree = parse_page(html)
    assert tree is not None
    before = lxml.html.tostring(tree)
    assert extract(tree, "https://example.com/news/x") == extract(
        html, "https://example.com/news/x"
    )
    assert lxml.html.tostring(tree) == before
