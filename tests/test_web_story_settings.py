"""A story's own settings on its page: shown, changed with a form, refused with the reason.

The form goes through `configure_story`, like `tracker set` and PATCH /api/v1/stories/{id}.
"""

from __future__ import annotations

import re

import pytest
from test_web_support import csrf_token, insert_story, make_client, submit, track_demo_story

from tracker.store.models import Story


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


@pytest.fixture
def story_id(db, settings, server) -> int:
    """A story with real captures, so a new selector is tried on the latest one."""
    return track_demo_story(db, settings, server, stages=2)


def save(client, story: int, **fields: str):
    page = f"/stories/{story}"
    return submit(client, f"{page}/settings", fields, page=page)


def api_settings(client, story: int) -> dict:
    response = client.get(f"/api/v1/stories/{story}")
    assert response.status_code == 200
    return response.json()["settings"]


def stored(db, story: int) -> tuple:
    """Everything the settings form may change, as the database has it."""
    with db.session() as session:
        row = session.get(Story, story)
        assert row is not None
        return (
            row.fixed_interval_seconds,
            row.min_interval_seconds,
            row.max_interval_seconds,
            row.respect_robots_txt,
            list(row.ignore_patterns or []),
            row.selector,
            row.last_fingerprint,
            row.next_check_at,
        )


def settings_list(page: str) -> str:
    match = re.search(r'<dl class="facts" id="story-settings">(.*?)</dl>', page, re.S)
    assert match, "no settings list on the page"
    return match.group(1)


def test_the_story_page_shows_its_own_settings_and_the_global_ones(client, db):
    plain = insert_story(db, "https://example.com/plain", ["text"])
    shown = settings_list(client.get(f"/stories/{plain}").text)
    assert shown.count("global setting") == 7
    assert "adaptive schedule" in shown and "automatic extraction" in shown
    assert "global setting</span> (respect)" in shown  # the test settings respect robots.txt

    own = insert_story(
        db,
        "https://example.com/own",
        ["text"],
        fixed_interval_seconds=600,
        max_interval_seconds=7200,
        respect_robots_txt=False,
        ignore_patterns=["^Updated", r"\d+ comments"],
        selector="article .body",
        render="browser",
    )
    page = client.get(f"/stories/{own}").text
    shown = settings_list(page)
    assert re.search(r'id="setting-interval">10 min<', shown)
    assert re.search(r'id="setting-max-interval">2 h<', shown)
    assert re.search(r'id="setting-robots">ignore<', shown)
    assert "<code>^Updated</code>" in shown and r"<code>\d+ comments</code>" in shown
    assert "<code>article .body</code>" in shown
    assert re.search(r'id="setting-render">browser<', shown)
    assert shown.count("global setting") == 1  # the minimum interval alone
    # The form starts from the story's values: the list and selector as they are, durations
    # blank (blank keeps them) with the current value as a hint.
    assert 'placeholder="10 min"' in page
    assert '<option value="ignore" selected>' in page
    assert ">^Updated\n\\d+ comments</textarea>" in page
    assert 'value="article .body"' in page


def test_a_valid_form_changes_the_settings_and_says_what_changed(client, story_id):
    saved = save(
        client,
        story_id,
        interval="10m",
        max_interval="1h",
        min_interval="",
        robots="ignore",
        ignore_patterns="^Updated \r\n\r\n^Share this\r\n",
        selector="",
        render="browser",
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/stories/{story_id}"
    assert api_settings(client, story_id) == {
        "interval": "10 min",
        "min_interval": None,
        "max_interval": "1 h",
        "robots": "ignore",
        "ignore_patterns": ["^Updated ", "^Share this"],  # as typed; blank lines skipped
        "selector": None,
        "render": "browser",
    }

    page = client.get(f"/stories/{story_id}").text
    notice = re.search(r'id="settings-notice">(.*?)</div>', page, re.S)
    assert notice, "no notice after saving"
    assert "interval: - → 10 min" in notice.group(1)
    assert "max_interval: - → 1 h" in notice.group(1)
    assert "robots: default → ignore" in notice.group(1)
    assert "render: default → browser" in notice.group(1)
    assert "min_interval" not in notice.group(1)  # unchanged settings are not listed
    assert 'id="settings-notice"' not in client.get(f"/stories/{story_id}").text  # once

    # Back to the global settings: 'auto' for a duration, an emptied box for the list.
    back = save(
        client,
        story_id,
        interval="auto",
        robots="default",
        ignore_patterns="",
        selector="",
        render="default",
    )
    assert back.status_code == 303
    assert api_settings(client, story_id) == {
        "interval": None,
        "min_interval": None,
        "max_interval": "1 h",  # blank: kept
        "robots": "default",
        "ignore_patterns": [],
        "selector": None,
        "render": "default",
    }
    notice = client.get(f"/stories/{story_id}").text
    assert "interval: 10 min → -" in notice
    assert "ignore_patterns: [&#39;^Updated &#39;, &#39;^Share this&#39;] → -" in notice


def test_saving_the_form_as_shown_changes_nothing(client, db):
    story = insert_story(
        db,
        "https://example.com/s",
        ["text"],
        min_interval_seconds=300,
        respect_robots_txt=True,
        ignore_patterns=["^Updated"],
        selector="main",
    )
    before = stored(db, story)
    saved = save(
        client,
        story,
        interval="",
        min_interval="",
        max_interval="",
        robots="respect",
        ignore_patterns="^Updated",
        selector="main",
    )
    assert saved.status_code == 303
    assert stored(db, story) == before
    assert "nothing changed" in client.get(f"/stories/{story}").text


def test_a_new_selector_is_tried_on_the_latest_capture(client, story_id):
    saved = save(client, story_id, selector="article", ignore_patterns="", robots="default")
    assert saved.status_code == 303
    assert api_settings(client, story_id)["selector"] == "article"
    assert "selector: - → article" in client.get(f"/stories/{story_id}").text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"interval": "soon"}, "invalid duration &#39;soon&#39;"),
        ({"min_interval": "2h", "max_interval": "30m"}, "min_interval is larger than max_interval"),
        ({"ignore_patterns": "^fine\n(unclosed"}, "(unclosed"),
        ({"selector": "p[[["}, "invalid CSS selector"),
        ({"selector": "#nothing-like-this"}, "has no article text"),
        ({"ignore_patterns": "x" * 501}, "at most 500 characters each"),
    ],
)
def test_invalid_input_is_refused_with_the_reason_and_changes_nothing(
    client, db, story_id, fields, message
):
    before = stored(db, story_id)
    form = {"robots": "ignore", "interval": "5m", "ignore_patterns": "", "selector": ""}
    form.update(fields)
    refused = save(client, story_id, **form)
    assert refused.status_code == 400
    error = re.search(r'id="settings-error">(.*?)</p>', refused.text, re.S)
    assert error, "no error next to the form"
    assert message in error.group(1)
    assert stored(db, story_id) == before
    # The form is shown again, open, with what was typed.
    assert '<details class="settings" open>' in refused.text
    assert '<option value="ignore" selected>' in refused.text
    for name in ("interval", "min_interval", "max_interval", "selector"):
        if name in fields:
            assert f'name="{name}" value="{fields[name]}"' in refused.text
    if "ignore_patterns" in fields:
        assert f">{fields['ignore_patterns']}</textarea>" in refused.text


def test_the_settings_form_needs_the_csrf_token(client, db):
    story = insert_story(db, "https://example.com/s", ["text"])
    before = stored(db, story)
    client.get(f"/stories/{story}")  # the browser has its CSRF cookie
    path = f"/stories/{story}/settings"
    missing = client.post(path, data={"interval": "5m"}, follow_redirects=False)
    assert missing.status_code == 403
    forged = client.post(
        path, data={"csrf_token": "0" * 64, "interval": "5m"}, follow_redirects=False
    )
    assert forged.status_code == 403
    cross_site = client.post(
        path,
        data={"csrf_token": csrf_token(client, f"/stories/{story}"), "interval": "5m"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    assert stored(db, story) == before


def test_an_unknown_story_is_a_404(client):
    token = csrf_token(client, "/add")
    response = client.post(
        "/stories/4242/settings",
        data={"csrf_token": token, "interval": "5m"},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert "no story 4242" in response.text


HOSTILE_PATTERN = "<script>alert(1)</script>"
HOSTILE_SELECTOR = "a[title='\"><img src=x onerror=alert(2)>']"


def _assert_inert(page: str) -> None:
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert '"><img' not in page


def test_hostile_patterns_and_selectors_are_shown_escaped(client, db):
    story = insert_story(db, "https://example.com/hostile", ["text"])  # no capture to try
    saved = save(
        client,
        story,
        ignore_patterns=HOSTILE_PATTERN,
        selector=HOSTILE_SELECTOR,
        robots="default",
    )
    assert saved.status_code == 303
    assert api_settings(client, story)["selector"] == HOSTILE_SELECTOR  # stored as typed

    page = client.get(f"/stories/{story}").text  # the notice, the list and the form
    _assert_inert(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in settings_list(page)
    assert "&lt;img src=x onerror=alert(2)&gt;" in settings_list(page)
    assert "ignore_patterns: - → [&#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;]" in page
    _assert_inert(client.get(f"/stories/{story}").text)  # without the notice

    refused = save(client, story, interval='"><script>alert(3)</script>', selector="p[[<b>")
    assert refused.status_code == 400
    _assert_inert(refused.text)
    assert "<b>" not in refused.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in refused.text


def test_the_notice_fits_a_cookie_and_a_garbled_one_is_ignored(client, db):
    from tracker.web.pages import NOTICE_COOKIE, _encode_notice, _read_notice

    lines = [f"ignore_patterns: - → [{'x' * 500!r}]"] + [f"line {n}" for n in range(60)]
    cookie = _encode_notice(lines)
    assert len(cookie) < 4000  # browsers drop cookies over 4 KB
    shown = _read_notice(cookie)
    assert shown is not None and len(shown) == 11
    assert len(shown[0]) == 200 and shown[0].endswith("…")
    assert shown[-1] == "… and 51 more"

    story = insert_story(db, "https://example.com/s", ["text"])
    for garbled in ("%%%", "bm90IGpzb24=", "eyJhIjogMX0="):  # not base64, not JSON, not a list
        assert _read_notice(garbled) is None
        client.cookies.set(NOTICE_COOKIE, garbled, path=f"/stories/{story}")
        page = client.get(f"/stories/{story}")
        assert page.status_code == 200 and 'id="settings-notice"' not in page.text
        client.cookies.clear()
