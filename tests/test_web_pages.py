"""The HTML pages: what a reader sees, the forms, and hostile page text rendered inert."""

from __future__ import annotations

import re

import pytest
from test_web_support import insert_story, make_client, submit, track_demo_story

HOSTILE = (
    'Breaking <script>window.__pwned=1</script> news "><img src=x onerror=alert(1)> '
    "\" onmouseover=alert(2) x=\" <a href='javascript:alert(3)'>link</a>"
)


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


@pytest.fixture
def story_id(db, settings, server) -> int:
    return track_demo_story(db, settings, server)


def test_every_response_carries_a_strict_content_security_policy(client):
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    # Same-origin script files only (the diff page's keys): no inline code, eval or hosts.
    assert directives["script-src"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script" not in response.text


def test_the_story_list_shows_status_badges_versions_and_filters(client, db):
    insert_story(db, "https://example.com/a", ["one", "two"], tags=("world",), developing=True)
    insert_story(db, "https://example.com/b", ["x"], status="paused")
    page = client.get("/").text
    assert "https://example.com/a" in page and "https://example.com/b" in page
    assert 'class="badge developing"' in page
    assert "status-paused" in page

    tagged = client.get("/", params={"tag": "world"}).text
    assert "https://example.com/a" in tagged and "https://example.com/b" not in tagged
    assert "/feeds/tags/world.atom" in tagged
    paused = client.get("/", params={"status": "paused"}).text
    assert "https://example.com/b" in paused and "https://example.com/a" not in paused
    developing = client.get("/", params={"developing": "true"}).text
    assert "https://example.com/a" in developing and "https://example.com/b" not in developing
    assert "match these filters" in client.get("/", params={"q": "nothing-like-it"}).text


def test_the_story_list_paginates(client, db):
    for n in range(55):
        insert_story(db, f"https://example.com/{n}", [])
    first = client.get("/").text
    assert "1–50 of 55" in first
    second = client.get("/", params={"offset": 50}).text
    assert "51–55 of 55" in second
    assert len(re.findall(r'class="story-link"', second)) == 5


def test_the_story_page_has_timeline_chart_promise_and_checks(client, story_id):
    page = client.get(f"/stories/{story_id}").text
    assert page.count('<li id="v') == 5
    assert "<svg" in page and 'class="added"' in page
    assert "text edited" in page and "headline" in page
    assert f'href="/stories/{story_id}/diff/4/5"' in page
    assert "Promise" in page and "fulfilled" in page
    assert "changed" in page  # the recent checks table


def test_the_diff_page_inline_and_side_by_side_with_navigation(client, story_id):
    inline = client.get(f"/stories/{story_id}/diff/4/5")
    assert inline.status_code == 200
    assert '<del class="del">four</del>' in inline.text
    assert '<ins class="ins">seven</ins>' in inline.text
    assert 'id="view-side"' in inline.text
    assert f'href="/stories/{story_id}/diff/3/4"' in inline.text  # previous change
    assert 'id="next-diff"' not in inline.text  # 5 is the latest

    side = client.get(f"/stories/{story_id}/diff/4/5", params={"view": "side"}).text
    assert 'class="diff diff-side-by-side"' in side
    assert "Version 4" in side and "Version 5" in side

    headline = client.get(f"/stories/{story_id}/diff/2/3").text
    assert "Headline:" in headline and "<del" in headline
    assert 'id="next-diff"' in headline and 'id="prev-diff"' in headline

    picked = client.get(
        f"/stories/{story_id}/diff", params={"from": 1, "to": 5}, follow_redirects=False
    )
    assert picked.status_code == 303
    assert picked.headers["location"] == f"/stories/{story_id}/diff/1/5"


def test_bad_diff_ranges_and_unknown_stories_are_friendly_pages(client, story_id):
    missing = client.get("/stories/12345")
    assert missing.status_code == 404
    assert "no story 12345" in missing.text and "<html" in missing.text
    bad = client.get(f"/stories/{story_id}/diff/1/9")
    assert bad.status_code == 400
    assert "has no version 9" in bad.text
    assert client.get(f"/stories/{story_id}/diff/x/2").status_code == 400
    assert client.get("/", params={"offset": -5}).status_code == 400


def test_the_version_page_shows_clean_text_and_links_the_raw_capture(client, story_id):
    page = client.get(f"/stories/{story_id}/versions/1").text
    assert "check back for an update." in page
    assert "Most read" not in page
    assert f"/stories/{story_id}/versions/1/raw" in page
    raw = client.get(f"/stories/{story_id}/versions/1/raw")
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert raw.headers["content-security-policy"].startswith("sandbox")
    download = client.get(f"/stories/{story_id}/versions/1/raw", params={"download": "true"})
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/octet-stream"


def test_hostile_article_text_is_escaped_everywhere(client, db):
    story = insert_story(
        db,
        "https://example.com/hostile",
        [HOSTILE, HOSTILE + " more <b>bold</b>"],
        titles=["<script>alert(1)</script>", 'Title" onmouseover="alert(1)'],
        promise_text="<img src=x onerror=alert(1)>",
        promise_state="pending",
        last_error="<script>alert('error')</script>",
    )
    pages = [
        client.get("/").text,
        client.get(f"/stories/{story}").text,
        client.get(f"/stories/{story}/versions/1").text,
        client.get(f"/stories/{story}/versions/2").text,
        client.get(f"/stories/{story}/diff/1/2").text,
        client.get(f"/stories/{story}/diff/1/2", params={"view": "side"}).text,
    ]
    our_script = '<script src="/static/diff-keys.js" defer></script>'  # the diff page's keys
    for page in pages:
        assert "<script" not in page.replace(our_script, "")
        assert "<img" not in page
        assert "<b>" not in page
        assert 'onmouseover="alert' not in page
        assert "href='javascript" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in pages[2]


def test_add_form_tracks_a_story_and_reports_bad_urls(client, server):
    created = submit(client, "/add", {"urls": server.url("/new"), "tags": "world, iraq"})
    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/stories/\d+", location)
    page = client.get(location).text
    assert server.url("/new") in page and ">iraq<" in page

    bad = submit(client, "/add", {"urls": "ftp://example.com/file"})
    assert bad.status_code == 400
    assert "only http and https" in bad.text
    assert "ftp://example.com/file" in bad.text  # the form keeps what was typed


def test_pause_resume_and_remove_through_forms(client, db):
    story = insert_story(db, "https://example.com/s", ["text"])
    page = f"/stories/{story}"
    assert submit(client, f"{page}/pause", page=page).status_code == 303
    assert "status-paused" in client.get(page).text
    assert submit(client, f"{page}/resume", page=page).status_code == 303
    assert "status-active" in client.get(page).text
    assert "cannot be undone" in client.get(f"{page}/remove").text
    assert submit(client, f"{page}/remove", page=page).headers["location"] == "/"
    assert client.get(page).status_code == 404


def test_forms_without_a_valid_csrf_token_are_refused(client, db):
    story = insert_story(db, "https://example.com/s", ["text"])
    client.get("/")  # the browser has its CSRF cookie
    missing = client.post(f"/stories/{story}/pause", data={}, follow_redirects=False)
    assert missing.status_code == 403
    forged = client.post(
        f"/stories/{story}/remove", data={"csrf_token": "0" * 64}, follow_redirects=False
    )
    assert forged.status_code == 403
    cross_site = client.post(
        f"/stories/{story}/remove",
        data={"csrf_token": "x"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    assert client.get(f"/stories/{story}").status_code == 200  # still there


def test_checks_log_lists_errors(client, db, settings, server, story_id):
    from test_web_support import check_now

    server.set("/news/us-iran-talks", "gone", status=404)
    check_now(db, settings, story_id)
    everything = client.get("/checks").text
    assert everything.count("outcome-changed") == 5
    errors = client.get("/checks", params={"errors": "true"}).text
    assert "outcome-error" in errors and "outcome-changed" not in errors
    assert "404" in errors
    assert client.get("/events").status_code == 200
    assert "promise made" in client.get("/events").text
