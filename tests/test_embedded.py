"""Articles pages carry as data (JSON-LD, Next.js, Nuxt, Redux/Apollo state, Fusion).

An app shell sends a nav and an empty mount point, and its article as data for the browser to
render. The tracker reads that data, and says where the text came from (`Article.source`).
"""

from __future__ import annotations

import json

import pytest

from tracker.core.embedded import MAX_SCRIPT_CHARS, embedded_article, embedded_articles
from tracker.core.extract import extract

HEADLINE = "Floodwaters rise as river breaches levee south of the city"
PARAGRAPHS = [
    "Emergency crews evacuated two neighbourhoods on Tuesday night after the river broke "
    "through a levee that engineers had warned was failing.",
    "About 1,200 residents spent the night in school gyms, the county said, and officials "
    "expect the water to keep rising until Thursday.",
    "The governor declared a state of emergency and asked for federal help, saying the damage "
    "to roads and homes would run into the tens of millions.",
    "Forecasters said more rain was on the way, with up to three inches expected over the "
    "weekend in the hills north of the city.",
]
BODY_WORDS = " ".join(PARAGRAPHS).split()

NAV = """<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/politics">Politics</a></li></ul></nav></header>"""


def shell(*, head: str = "", scripts: str = "", mount: str = '<div id="__next"></div>') -> str:
    """A JavaScript app's page as served: a nav, an empty mount point, the data in scripts."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>The Daily Planet</title><meta name="viewport" content="width=device-width">
<link rel="preload" href="/_next/static/chunks/main-3f9a.js" as="script">{head}</head>
<body>{NAV}{mount}{scripts}
<script src="/_next/static/chunks/main-3f9a.js" defer></script></body></html>"""


def script(json_text: str, **attrs: str) -> str:
    attributes = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attrs.items())
    return f"<script{attributes}>{json_text}</script>"


def next_data() -> dict:
    """__NEXT_DATA__ of a news site: the article's body as rich-text blocks, and teasers."""
    blocks: list[dict] = [
        {
            "type": "paragraph",
            "children": [
                {"text": "Emergency crews evacuated two neighbourhoods on Tuesday night "},
                {"text": "after the ", "marks": ["italic"]},
                {
                    "type": "link",
                    "url": "/tags/river",
                    "children": [{"text": "river broke through a levee"}],
                },
                {"text": " that engineers had warned was failing."},
            ],
        },
        {"type": "image", "src": "/img/levee.jpg", "caption": "The breach, seen from the air."},
        *({"type": "paragraph", "children": [{"text": p}]} for p in PARAGRAPHS[1:3]),
        {"type": "ad-slot", "id": "mid-article"},
        {"type": "paragraph", "children": [{"text": PARAGRAPHS[3]}]},
    ]
    return {
        "props": {
            "pageProps": {
                "article": {
                    "id": "a-1029",
                    "slug": "floodwaters-rise",
                    "headline": HEADLINE,
                    "authors": [{"name": "Maria Ortiz"}, {"name": "Dan Cho"}],
                    "publishedAt": "2024-03-05T21:40:00Z",
                    "updatedAt": "2024-03-06T07:15:00Z",
                    "body": blocks,
                },
                "mostRead": [
                    {"headline": "Council approves budget", "url": "/a/1", "summary": "Vote 7-2"},
                    {"headline": "Storm knocks out power", "url": "/a/2", "summary": "Thousands"},
                ],
            }
        },
        "page": "/news/[slug]",
        "buildId": "k2Jd9",
    }


def next_shell() -> str:
    data = json.dumps(next_data())
    return shell(scripts=script(data, id="__NEXT_DATA__", type="application/json"))


def test_next_js_shell_article_comes_from_next_data() -> None:
    article = extract(next_shell(), "https://planet.example/news/floodwaters-rise")
    assert article.source == "next-data"
    assert article.text == "\n\n".join(PARAGRAPHS)  # link text kept, image and ad left out
    assert article.title == HEADLINE  # the shell has no visible headline; the data's comes first
    assert "The Daily Planet" in article.headlines  # the page's own title is still watched
    assert article.byline == "Maria Ortiz, Dan Cho"
    assert article.published == "2024-03-05T21:40:00Z"
    assert article.modified == "2024-03-06T07:15:00Z"
    for nav in ("Home", "World", "Politics"):
        assert nav not in article.text


def test_a_shell_logo_h1_does_not_take_the_data_headline_s_place() -> None:
    data = json.dumps(next_data())
    page = shell(
        mount='<div id="__next"><h1 class="logo">The Daily Planet</h1></div>',
        scripts=script(data, id="__NEXT_DATA__", type="application/json"),
    )
    article = extract(page)
    assert article.source == "next-data"
    assert article.title == HEADLINE
    assert "The Daily Planet" in article.headlines


def test_next_data_is_read_as_plain_text_paragraphs() -> None:
    found = embedded_article(next_shell())
    assert found is not None
    assert found.source == "next-data"
    assert found.headline == HEADLINE
    assert found.paragraphs == tuple(PARAGRAPHS)
    assert found.live_entries == ()


def test_json_ld_article_body_of_a_shell_is_the_article() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "The Daily Planet", "url": "https://planet.example/"},
            {
                "@type": "NewsArticle",
                "headline": HEADLINE,
                "author": {"@type": "Person", "name": "Maria Ortiz"},
                "datePublished": "2024-03-05T21:40:00Z",
                # Text with entities, as CMSs export it; paragraphs one per line.
                "articleBody": "\n".join(PARAGRAPHS).replace("1,200", "1,200 (AT&amp;T says)"),
            },
        ],
    }
    page = shell(
        head=script(json.dumps(ld), type="application/ld+json"), mount='<div id="root"></div>'
    )
    article = extract(page)
    assert article.source == "json-ld"
    assert article.title == HEADLINE
    assert article.byline == "Maria Ortiz"
    assert article.published == "2024-03-05T21:40:00Z"
    assert "1,200 (AT&T says) residents" in article.text  # entities decoded
    assert len(article.text.split("\n\n")) == 4


def test_fusion_global_content_text_elements_are_the_article() -> None:
    content = {
        "_id": "E3QT4WQV",
        "type": "story",
        "headlines": {"basic": HEADLINE},
        "credits": {"by": [{"type": "author", "name": "Maria Ortiz"}]},
        "display_date": "2024-03-05T21:40:00Z",
        "last_updated_date": "2024-03-06T07:15:00Z",
        "content_elements": [
            {
                "type": "text",
                "content": PARAGRAPHS[0].replace("levee", '<a href="/levee">levee</a>'),
            },
            {"type": "image", "url": "https://img.example/1.jpg", "caption": "The breach."},
            {"type": "text", "content": PARAGRAPHS[1].replace("school gyms", "school&nbsp;gyms")},
            {"type": "raw_html", "content": "<div class='newsletter'>Sign up now</div>"},
            *({"type": "text", "content": p} for p in PARAGRAPHS[2:]),
        ],
    }
    code = (
        "window.Fusion=window.Fusion||{};Fusion.arcSite='planet';Fusion.deployment='117';"
        f"Fusion.globalContent={json.dumps(content)};Fusion.globalContentConfig={{}};"
    )
    article = extract(
        shell(scripts=f"<script>{code}</script>", mount='<div id="fusion-app"></div>')
    )
    assert article.source == "fusion"
    assert article.text == "\n\n".join(PARAGRAPHS)  # tags stripped, &nbsp; a space, no embeds
    assert article.byline == "Maria Ortiz"
    assert article.published == "2024-03-05T21:40:00Z"
    assert article.modified == "2024-03-06T07:15:00Z"


def test_redux_initial_state_article_is_found_anywhere_in_the_state() -> None:
    state = {
        "router": {"location": {"pathname": "/news/floodwaters-rise"}},
        "nav": {"title": "Sections", "items": [{"title": "World", "url": "/world"}]},
        "articles": {
            "byId": {
                "a-1029": {
                    "title": HEADLINE,
                    "author": "Maria Ortiz",
                    "date": "2024-03-05T21:40:00Z",
                    "content": "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
                }
            }
        },
    }
    code = f"window.__INITIAL_STATE__ = {json.dumps(state)};\nwindow.__ENV__ = 'prod';"
    article = extract(shell(scripts=f"<script>{code}</script>", mount='<div id="app"></div>'))
    assert article.source == "initial-state"
    assert article.text == "\n\n".join(PARAGRAPHS)
    assert article.title == HEADLINE


def test_apollo_state_references_are_followed() -> None:
    state = {
        "ROOT_QUERY": {'article({"slug":"floodwaters-rise"})': {"__ref": "Article:1029"}},
        "Article:1029": {
            "__typename": "Article",
            "title": HEADLINE,
            "body": {"__ref": "RichText:77"},
        },
        "RichText:77": {
            "__typename": "RichText",
            "html": "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
        },
    }
    code = f"window.__APOLLO_STATE__={json.dumps(state)};"
    found = embedded_article(shell(scripts=f"<script>{code}</script>"))
    assert found is not None
    assert found.source == "apollo-state"
    assert found.paragraphs == tuple(PARAGRAPHS)


def test_nuxt_2_state_is_read_when_it_is_json() -> None:
    payload = {
        "layout": "default",
        "data": [{"story": {"title": HEADLINE, "body": "\n\n".join(PARAGRAPHS)}}],
        "state": {"menu": {"open": False}},
        "serverRendered": True,
    }
    page = shell(
        scripts=f"<script>window.__NUXT__={json.dumps(payload)}</script>",
        mount='<div id="__nuxt"></div>',
    )
    article = extract(page)
    assert article.source == "nuxt"
    assert article.text == "\n\n".join(PARAGRAPHS)


def test_nuxt_3_payload_is_unflattened() -> None:
    # devalue's format: one array, every object's values are indexes into it.
    payload = [
        ["ShallowReactive", 1],
        {"data": 2, "state": 7},
        ["ShallowReactive", 3],
        {"story-floodwaters-rise": 4},
        {"title": 5, "body": 6, "publishedAt": 9},
        HEADLINE,
        "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
        ["Reactive", 8],
        {},
        ["Date", "2024-03-05T21:40:00Z"],
    ]
    page = shell(
        scripts=script(json.dumps(payload), type="application/json", id="__NUXT_DATA__"),
        mount='<div id="__nuxt"></div>',
    )
    article = extract(page)
    assert article.source == "nuxt"
    assert article.text == "\n\n".join(PARAGRAPHS)
    assert article.published == "2024-03-05T21:40:00Z"


LIVE_UPDATES = [
    ("Levee breach widens", "2024-03-06T09:10:00Z", "The gap in the levee is now 40 metres wide."),
    ("Second neighbourhood evacuated", "2024-03-06T08:05:00Z", "Police went door to door."),
    ("River at record level", "2024-03-06T07:00:00Z", "The gauge read 9.2 metres at dawn."),
]


def live_blog() -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": "Live: flooding south of the city",
        "coverageStartTime": "2024-03-05T21:00:00Z",
        "datePublished": "2024-03-05T21:00:00Z",
        "dateModified": "2024-03-06T09:10:00Z",
        "liveBlogUpdate": [
            {
                "@type": "BlogPosting",
                "headline": headline,
                "datePublished": published,
                "articleBody": f"{text} Officials urged residents to stay away from the river "
                "banks and to follow the county's alerts for further evacuation orders.",
            }
            for headline, published, text in LIVE_UPDATES
        ],
    }


def test_live_blog_updates_are_entries_in_order_with_their_times() -> None:
    page = shell(head=script(json.dumps(live_blog()), type="application/ld+json"))
    found = embedded_article(page)
    assert found is not None
    assert found.source == "json-ld"
    assert found.headline == "Live: flooding south of the city"
    assert [(e.headline, e.published) for e in found.live_entries] == [
        (headline, published) for headline, published, _ in LIVE_UPDATES
    ]
    assert found.live_entries[0].paragraphs[0].startswith("The gap in the levee")
    assert found.modified == "2024-03-06T09:10:00Z"


def test_a_live_blog_shell_keeps_each_update_headline_as_a_heading() -> None:
    article = extract(shell(head=script(json.dumps(live_blog()), type="application/ld+json")))
    assert article.source == "json-ld"
    heads = [block.text for block in article.blocks if block.kind == "head"]
    # Each heading carries its update's time too (a live blog is read as entries: see
    # tests/test_liveblog.py).
    assert heads == [f"{time[11:16]} · {headline}" for headline, time, _ in LIVE_UPDATES]


def server_rendered(ld_body: str) -> str:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": HEADLINE}
    ld["articleBody"] = ld_body
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{HEADLINE}</title>
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body>{NAV}<main><article><h1>{HEADLINE}</h1><div class="story-body">{body}</div></article></main>
<footer><p>© 2024 The Daily Planet</p></footer></body></html>"""


def test_a_server_rendered_article_with_json_ld_keeps_the_html_extraction() -> None:
    article = extract(server_rendered("\n\n".join(PARAGRAPHS)))
    assert article.source == "html"
    assert article.text == "\n\n".join(PARAGRAPHS)


def test_json_ld_longer_than_a_shown_article_does_not_replace_it() -> None:
    # The data's body is a different, longer text (a transcript, the next story): the page
    # shows its own article, so the page's article is the one tracked.
    other = " ".join(f"Unrelated sentence number {n} about something else." for n in range(80))
    assert extract(server_rendered(other)).source == "html"


def test_a_page_showing_only_a_teaser_reads_the_rest_from_the_data() -> None:
    # Paywalls and partial server rendering show the first paragraph and carry the whole story.
    teaser = f"<main><h1>{HEADLINE}</h1><p>{PARAGRAPHS[0]}</p></main>"
    data = json.dumps(next_data())
    page = shell(mount=teaser, scripts=script(data, id="__NEXT_DATA__", type="application/json"))
    article = extract(page)
    assert article.source == "next-data"
    assert article.text == "\n\n".join(PARAGRAPHS)


def test_a_selector_is_never_overridden_by_the_data() -> None:
    article = extract(next_shell(), selector="nav")
    assert article.source == "selector"
    assert PARAGRAPHS[0] not in article.text


def test_a_shell_without_data_keeps_what_the_html_gave() -> None:
    article = extract(shell())
    assert article.source == "html"
    assert embedded_article(shell()) is None


def test_a_teaser_is_not_an_article() -> None:
    state = {"article": {"title": HEADLINE, "body": "Crews evacuated two neighbourhoods."}}
    page = shell(scripts=f"<script>window.__INITIAL_STATE__={json.dumps(state)};</script>")
    assert embedded_article(page) is None


# --- hostile input -------------------------------------------------------------------------


def article_state(body: str) -> str:
    return json.dumps({"article": {"title": HEADLINE, "body": body}})


HOSTILE = {
    "huge script": script(
        json.dumps({"@type": "NewsArticle", "headline": "x", "articleBody": "word " * 1_000_000}),
        type="application/ld+json",
    ),
    "deeply nested JSON": script("[" * 200_000 + "]" * 200_000, id="__NEXT_DATA__"),
    "deeply nested object": script('{"a":' * 50_000 + "1" + "}" * 50_000, id="__NEXT_DATA__"),
    "unbalanced braces": '<script>window.__INITIAL_STATE__ = {"article": {"title": 1};</script>',
    "unclosed string": '<script>window.__INITIAL_STATE__ = {"article": "never closed</script>',
    "only opening braces": "<script>window.__INITIAL_STATE__ = " + "{" * 300_000 + "</script>",
    "invalid JSON": script(
        '{"@type": "NewsArticle", "articleBody": "a", }', type="application/ld+json"
    ),
    "a JavaScript literal": "<script>window.__INITIAL_STATE__ = {article: {title: 'x'}};</script>",
    "a Nuxt 2 function": (
        "<script>window.__NUXT__=(function(a,b){return {data:[a]}}(1,2));</script>"
    ),
    "control characters": script(
        '{"@type": "NewsArticle",\x00\x01 "articleBody": "\x1f\x02', type="application/ld+json"
    ),
    "a devalue cycle": script('[[0], {"a": 0}]', id="__NUXT_DATA__", type="application/json"),
    "a devalue fan-out": script(
        json.dumps([[i + 1] * 8 for i in range(60)] + ["leaf"]),
        id="__NUXT_DATA__",
        type="application/json",
    ),
    "JSON.parse of junk": '<script>window.__INITIAL_STATE__ = JSON.parse("{\\"a\\":");</script>',
    "numbers and nulls": script("[1, null, true, 2.5e308, -0]", id="__NEXT_DATA__"),
    "binary junk": script('\x00\xff\ufffe{["' * 10_000, type="application/ld+json"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_data_never_raises_and_gives_no_article(name: str) -> None:
    page = shell(scripts=HOSTILE[name])
    assert embedded_article(page) is None
    assert embedded_articles(page) == ()


# Extracting a 5 MB page takes trafilatura seconds; the size cap is tested above.
@pytest.mark.parametrize("name", [name for name in HOSTILE if name != "huge script"])
def test_extraction_of_a_page_with_hostile_data_keeps_the_html(name: str) -> None:
    assert extract(shell(scripts=HOSTILE[name])).source == "html"


def test_the_size_cap_is_what_skips_the_huge_script() -> None:
    assert len(HOSTILE["huge script"]) > MAX_SCRIPT_CHARS
    small = script(
        json.dumps({"@type": "NewsArticle", "headline": "x", "articleBody": "word " * 1_000}),
        type="application/ld+json",
    )
    assert embedded_article(shell(scripts=small)) is not None


def test_control_characters_inside_an_article_are_dropped() -> None:
    ld = json.dumps(
        {"@type": "NewsArticle", "headline": HEADLINE, "articleBody": "\n".join(PARAGRAPHS)}
    )
    ld = ld.replace("Emergency", "Emer\x00gency\x07")
    found = embedded_article(shell(head=script(ld, type="application/ld+json")))
    assert found is not None
    assert found.paragraphs[0].startswith("Emergency crews")


@pytest.mark.parametrize("page", ["", "   ", "<html>", "not html at all", "\x00\x00"])
def test_pages_without_scripts_give_no_article(page: str) -> None:
    assert embedded_article(page) is None
