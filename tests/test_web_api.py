"""The JSON API (/api/v1): every endpoint, and bad input answered 4xx with a clear message."""

from __future__ import annotations

import pytest
from test_web_support import insert_story, make_client, track_demo_story

API = "/api/v1"


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


@pytest.fixture
def story_id(db, settings, server) -> int:
    return track_demo_story(db, settings, server)


def test_stories_are_listed_filtered_and_paginated(client, db):
    ids = [
        insert_story(db, f"https://example.com/{n}", [f"text {n}"], tags=("a",) if n % 2 else ())
        for n in range(5)
    ]
    insert_story(db, "https://example.com/paused", ["x"], status="paused")
    insert_story(db, "https://example.com/dev", ["x"], developing=True)

    first = client.get(f"{API}/stories", params={"limit": 2}).json()
    assert first["total"] == 7
    assert len(first["items"]) == 2
    assert first["next_offset"] == 2
    seen = [s["id"] for s in first["items"]]
    offset = first["next_offset"]
    while offset is not None:
        page = client.get(f"{API}/stories", params={"limit": 2, "offset": offset}).json()
        seen += [s["id"] for s in page["items"]]
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == 7

    tagged = client.get(f"{API}/stories", params={"tag": "a"}).json()
    assert sorted(s["id"] for s in tagged["items"]) == [ids[1], ids[3]]
    paused = client.get(f"{API}/stories", params={"status": "paused"}).json()["items"]
    assert [s["url"] for s in paused] == ["https://example.com/paused"]
    developing = client.get(f"{API}/stories", params={"developing": "true"}).json()["items"]
    assert [s["url"] for s in developing] == ["https://example.com/dev"]
    searched = client.get(f"{API}/stories", params={"q": "example.com/3"}).json()["items"]
    assert [s["id"] for s in searched] == [ids[3]]
    by_url = client.get(f"{API}/stories", params={"url": "https://example.com/4"}).json()
    assert [s["id"] for s in by_url["items"]] == [ids[4]]
    by_versions = client.get(f"{API}/stories", params={"sort": "next_check"})
    assert by_versions.status_code == 200


def test_add_get_pause_resume_and_delete_a_story(client, server):
    url = server.url("/story")
    response = client.post(f"{API}/stories", json={"urls": [url], "tags": ["world"]})
    assert response.status_code == 201
    [added] = response.json()
    assert added["created"] is True and added["url"] == url

    again = client.post(f"{API}/stories", json={"urls": [url], "tags": ["more"]}).json()
    assert again == [{"id": added["id"], "url": url, "created": False}]

    story = client.get(f"{API}/stories/{added['id']}").json()
    assert story["status"] == "active"
    assert story["tags"] == ["more", "world"]
    assert story["versions"] == 0

    paused = client.patch(f"{API}/stories/{added['id']}", json={"status": "paused"})
    assert paused.json()["status"] == "paused"
    resumed = client.patch(f"{API}/stories/{added['id']}", json={"status": "active"})
    assert resumed.json()["status"] == "active"
    assert resumed.json()["next_check_at"] is not None

    assert client.delete(f"{API}/stories/{added['id']}").status_code == 204
    assert client.get(f"{API}/stories/{added['id']}").status_code == 404


def test_check_now_makes_a_version(client, server):
    from tracker.demo.site import STAGES, render_page

    server.set("/live", render_page(STAGES[0]))
    [added] = client.post(f"{API}/stories", json={"urls": [server.url("/live")]}).json()
    report = client.post(f"{API}/stories/{added['id']}/check").json()
    assert report["outcome"] == "changed"
    assert report["version"] == 1
    assert report["kinds"] == ["first"]
    assert "promise_made" in report["events"]


def test_versions_one_version_and_raw_capture(client, story_id):
    listing = client.get(f"{API}/stories/{story_id}/versions").json()
    assert listing["total"] == 5
    assert [v["seq"] for v in listing["items"]] == [5, 4, 3, 2, 1]
    assert "text" not in listing["items"][0]
    oldest = client.get(f"{API}/stories/{story_id}/versions", params={"order": "oldest"})
    assert [v["seq"] for v in oldest.json()["items"]] == [1, 2, 3, 4, 5]
    paged = client.get(f"{API}/stories/{story_id}/versions", params={"limit": 2, "offset": 4})
    assert [v["seq"] for v in paged.json()["items"]] == [1]
    assert paged.json()["next_offset"] is None

    latest = client.get(f"{API}/stories/{story_id}/versions/-1").json()
    assert latest["seq"] == 5
    assert "which lasted seven hours" in latest["text"]
    assert "Most read" not in latest["text"]
    first = client.get(f"{API}/stories/{story_id}/versions/1").json()
    assert first["kinds"] == ["first"]
    assert first["text"].endswith("check back for an update.")

    raw = client.get(f"{API}/stories/{story_id}/versions/1/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in raw.headers["content-security-policy"]
    assert "<title>" in raw.text and "Most read" in raw.text


def test_diffs_in_every_format(client, story_id):
    latest = client.get(f"{API}/stories/{story_id}/diff").json()
    assert (latest["from"], latest["to"]) == (4, 5)
    assert latest["kinds"] == ["text_edited"]
    changed = [(o["op"], o["text"].strip()) for o in latest["diff"]["ops"] if o["op"] != "equal"]
    assert ("delete", "four") in changed and ("insert", "seven") in changed

    headline = client.get(f"{API}/stories/{story_id}/diff", params={"to": 3}).json()
    assert (headline["from"], headline["to"]) == (2, 3)
    assert headline["title_diff"] is not None
    assert headline["title_after"] == 'Crocker: Talks With Iran "Direct and Serious"'

    span = client.get(f"{API}/stories/{story_id}/diff", params={"from": 1, "to": 5}).json()
    assert span["kinds"] is None  # kinds describe consecutive versions only
    assert span["diff"]["stats"]["words_added"] > 0

    html = client.get(f"{API}/stories/{story_id}/diff", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert '<del class="del">four</del>' in html.text
    side = client.get(f"{API}/stories/{story_id}/diff", params={"format": "side-by-side"})
    assert "<table" in side.text
    text = client.get(f"{API}/stories/{story_id}/diff", params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain")
    assert "[-four-]{+seven+}" in text.text
    unified = client.get(f"{API}/stories/{story_id}/diff", params={"format": "unified"}).text
    assert unified.startswith("---") and "+" in unified


def test_checks_and_events_logs(client, story_id, db, settings, server):
    checks = client.get(f"{API}/checks").json()
    assert checks["total"] == 5
    assert {c["outcome"] for c in checks["items"]} == {"changed"}
    assert client.get(f"{API}/checks", params={"errors": "true"}).json()["total"] == 0

    server.set("/news/us-iran-talks", "gone", status=404)
    from test_web_support import check_now

    check_now(db, settings, story_id)
    errors = client.get(f"{API}/checks", params={"errors": "true", "story_id": story_id}).json()
    assert errors["total"] == 1
    assert errors["items"][0]["http_status"] == 404

    events = client.get(f"{API}/events").json()
    kinds = [e["kind"] for e in events["items"]]
    assert "promise_made" in kinds and "promise_fulfilled" in kinds
    only = client.get(f"{API}/events", params={"story_id": story_id, "limit": 1}).json()
    assert len(only["items"]) == 1 and only["next_offset"] == 1


BAD_REQUESTS = [
    ("get", "/stories/999", None, 404, "no story 999"),
    ("get", "/stories/0", None, 422, None),
    ("get", "/stories/99999999999999999999", None, 422, None),
    ("get", "/stories/abc", None, 422, None),
    ("patch", "/stories/999", {"status": "paused"}, 404, "no story 999"),
    ("delete", "/stories/999", None, 404, "no story 999"),
    ("post", "/stories/999/check", None, 404, "no story 999"),
    ("get", "/stories/999/versions", None, 404, "no story 999"),
    ("get", "/stories/999/diff", None, 404, "no story 999"),
    ("get", "/checks?story_id=999", None, 404, "no story 999"),
    ("get", "/events?story_id=999", None, 404, "no story 999"),
    ("post", "/stories", {"urls": ["ftp://example.com/x"]}, 400, "only http and https"),
    ("post", "/stories", {"urls": ["http://exa mple.com/"]}, 400, "not a valid host"),
    ("post", "/stories", {"urls": ["not a url"]}, 400, "no scheme"),
    ("post", "/stories", {"urls": []}, 422, None),
    ("post", "/stories", {"urls": ["https://example.com/\x00"]}, 422, "NUL"),
    ("post", "/stories", {"urls": ["https://example.com/"], "selector": "p[["}, 400, None),
    ("post", "/stories", {"nothing": 1}, 422, None),
    ("get", "/stories?limit=0", None, 422, None),
    ("get", "/stories?limit=100000", None, 422, None),
    ("get", "/stories?offset=-1", None, 422, None),
    ("get", "/stories?sort=random", None, 422, None),
    ("get", "/stories?q=%00", None, 422, "NUL"),
    ("get", "/stories?status=sleeping", None, 422, None),
]


def test_bad_requests_are_4xx_with_a_clear_message(client):
    for method, path, body, status, message in BAD_REQUESTS:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(client, method)(API + path, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"] == "application/json"
        if message:
            assert message in response.text, (method, path, response.text)


def test_version_ranges_that_do_not_exist_are_400(client, story_id, db):
    for params, message in [
        ({"to": 9}, "has no version 9"),
        ({"from": 0, "to": 2}, "has no version 0"),
        ({"from": 7}, "has no version 7"),
        ({"to": 1}, "nothing to diff"),
        ({"to": -9}, "has no version -9"),
    ]:
        response = client.get(f"{API}/stories/{story_id}/diff", params=params)
        assert response.status_code == 400, (params, response.text)
        assert message in response.json()["detail"]
    assert client.get(f"{API}/stories/{story_id}/versions/6").status_code == 400
    assert client.get(f"{API}/stories/{story_id}/diff", params={"format": "pdf"}).status_code == 422

    empty = insert_story(db, "https://example.com/empty", [])
    response = client.get(f"{API}/stories/{empty}/diff")
    assert response.status_code == 400
    assert "no versions yet" in response.json()["detail"]
    no_capture = client.get(f"{API}/stories/{empty}/versions/1/raw")
    assert no_capture.status_code == 400


def test_private_addresses_are_refused_unless_allowed(db, settings):
    strict = settings.model_copy(update={"allow_private_networks": False})
    with make_client(db, strict) as strict_client:
        response = strict_client.post(f"{API}/stories", json={"urls": ["http://127.0.0.1:9/x"]})
    assert response.status_code == 400
    assert "loopback" in response.json()["detail"]


def test_the_openapi_document_describes_every_endpoint(client):
    document = client.get(f"{API}/openapi.json").json()
    paths = document["paths"]
    assert set(paths) >= {
        f"{API}/stories",
        f"{API}/stories/{{story_id}}",
        f"{API}/stories/{{story_id}}/check",
        f"{API}/stories/{{story_id}}/versions",
        f"{API}/stories/{{story_id}}/versions/{{seq}}",
        f"{API}/stories/{{story_id}}/versions/{{seq}}/raw",
        f"{API}/stories/{{story_id}}/diff",
        f"{API}/checks",
        f"{API}/events",
    }
    assert set(paths[f"{API}/stories/{{story_id}}"]) == {"get", "patch", "delete"}
    assert not any(path.startswith("/stories") for path in paths)  # pages are not API


# -- a story's own settings (PATCH) ---------------------------------------------------------------


def weather_page(weather: str, closing: str = "The talks will resume next week.") -> str:
    return (
        "<html><head><title>Talks resume in Baghdad</title></head><body><article>"
        "<h1>Talks resume in Baghdad</h1>"
        "<p>Delegations from both countries met for four hours on Monday in the Iraqi capital, "
        "officials said, describing the atmosphere as tense but businesslike.</p>"
        f"<p>Today's weather in Baghdad: {weather}.</p>"
        "<p>Ambassador Crocker said the sides agreed to set up a subcommittee on security "
        f"questions, which is expected to meet again before the end of the month. {closing}</p>"
        "</article></body></html>"
    )


def test_an_ignore_pattern_stops_a_line_from_making_versions(client, server):
    server.set("/talks", weather_page("sunny"))
    [added] = client.post(f"{API}/stories", json={"urls": [server.url("/talks")]}).json()
    story = f"{API}/stories/{added['id']}"
    assert client.post(f"{story}/check").json()["version"] == 1
    server.set("/talks", weather_page("cloudy"))
    assert client.post(f"{story}/check").json()["version"] == 2  # the line counts, so far

    patched = client.patch(story, json={"ignore_patterns": ["^Today's weather in "]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"]["ignore_patterns"] == ["^Today's weather in "]
    assert patched.json()["versions"] == 2  # the settings change itself made no version
    server.set("/talks", weather_page("rainy"))
    assert client.post(f"{story}/check").json()["outcome"] == "unchanged"
    server.set("/talks", weather_page("windy", closing="The talks resume on Tuesday."))
    assert client.post(f"{story}/check").json()["version"] == 3  # real edits still count

    cleared = client.patch(story, json={"ignore_patterns": []}).json()
    assert cleared["settings"]["ignore_patterns"] == []


def test_a_fixed_interval_reschedules_from_the_last_check(client, server):
    from datetime import datetime, timedelta

    server.set("/talks", weather_page("sunny"))
    [added] = client.post(f"{API}/stories", json={"urls": [server.url("/talks")]}).json()
    story = f"{API}/stories/{added['id']}"
    client.post(f"{story}/check")
    patched = client.patch(story, json={"interval": "45m"}).json()
    assert patched["settings"]["interval"] == "45 min"
    assert patched["settings"]["robots"] == "default"
    checked = datetime.fromisoformat(patched["last_checked_at"])
    assert datetime.fromisoformat(patched["next_check_at"]) - checked == timedelta(minutes=45)

    bounded = client.patch(story, json={"interval": "auto", "max_interval": "2h"}).json()
    assert bounded["settings"]["interval"] is None
    assert bounded["settings"]["max_interval"] == "2 h"
    robots = client.patch(story, json={"robots": "ignore"}).json()
    assert robots["settings"]["robots"] == "ignore"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"interval": "5 parsecs"}, 400, "interval: invalid duration"),
        ({"min_interval": "2h", "max_interval": "1h"}, 400, "min_interval is larger than"),
        ({"ignore_patterns": ["(unclosed"]}, 400, "(unclosed"),
        ({"selector": "div[["}, 400, "invalid CSS selector"),
        ({"selector": "div.no-such-body", "interval": "5m"}, 400, "has no article text"),
        ({"robots": "sometimes"}, 422, "robots"),
        # A refused setting takes the status change sent with it down too.
        ({"status": "paused", "ignore_patterns": ["^(\\w+\\s?)*$"]}, 400, "repeat inside"),
        ({"status": "paused", "max_interval": "30000d"}, 400, "max_interval: at most"),
    ],
)
def test_bad_story_settings_are_refused_and_change_nothing(client, server, body, status, message):
    server.set("/talks", weather_page("sunny"))
    [added] = client.post(f"{API}/stories", json={"urls": [server.url("/talks")]}).json()
    story = f"{API}/stories/{added['id']}"
    client.post(f"{story}/check")
    before = client.get(story).json()
    response = client.patch(story, json=body)
    assert response.status_code == status
    assert message in response.text
    assert client.get(story).json() == before
