"""Reading a change in a long article: changes-only by default on the diff page (with a
toggle), jump links between changes, byline and date changes in the diff itself, and the
same in the API and `tracker diff --context N`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from test_web_support import insert_story, make_client

from tracker.core.folding import LONG_ARTICLE_PARAGRAPHS
from tracker.store.models import Version

FIGURE_PARAGRAPH = 12  # 1-based: where the death toll is corrected
LATE_PARAGRAPH = 33  # a second, separate change further down


def article(paragraphs: int, toll: str, late: str = "in the morning") -> str:
    lines = [
        f"Paragraph {n} of the report, unchanged from the first version."
        for n in range(1, paragraphs + 1)
    ]
    lines[min(FIGURE_PARAGRAPH, paragraphs) - 1] = f"The death toll rose to {toll}, officials said."
    if paragraphs >= LATE_PARAGRAPH:
        lines[LATE_PARAGRAPH - 1] = f"Rescue teams will resume work {late}."
    return "\n\n".join(lines)


def long_story(db, *, paragraphs: int = 40, fields: tuple[dict, dict] | None = None) -> int:
    story = insert_story(
        db,
        f"https://example.com/quake-{paragraphs}",
        [article(paragraphs, "212"), article(paragraphs, "284", "at dawn")],
        titles=["Earthquake kills 212", "Earthquake kills 284"],
    )
    if fields:
        with db.session() as session:
            versions = session.scalars(
                select(Version).where(Version.story_id == story).order_by(Version.seq)
            )
            for version, values in zip(versions, fields, strict=True):
                for name, value in values.items():
                    setattr(version, name, value)
    return story


BYLINES = (
    {"byline": "Jane Doe", "modified": "2026-12-04T09:00:00+00:00"},
    {"byline": "Jane Doe and John Roe", "modified": "2026-12-04T11:30:00+00:00"},
)


@pytest.fixture
def client(db, settings):
    with make_client(db, settings) as test_client:
        yield test_client


def paragraphs_shown(page: str) -> list[str]:
    return re.findall(r'<p id="p\d+">(.*?)</p>', page)


def test_a_long_article_opens_changes_only_with_folds_linking_the_full_text(client, db):
    story = long_story(db)
    page = client.get(f"/stories/{story}/diff/1/2").text
    # The two changes, each with two paragraphs of context, and three folds.
    assert len(paragraphs_shown(page)) == 10
    assert '<del class="del">212</del><ins class="ins">284</ins>' in page
    full = f"/stories/{story}/diff/1/2?show=all"
    assert f'<a href="{full}#p1">… 9 unchanged paragraphs …</a>' in page
    assert f'<a href="{full}#p15">… 16 unchanged paragraphs …</a>' in page
    assert f'<a href="{full}#p36">… 5 unchanged paragraphs …</a>' in page
    assert "Paragraph 20 of the report" not in page  # folded away
    assert '<strong aria-current="true">Changes only</strong>' in page
    assert f'id="show-all" href="{full}"' in page


def test_the_toggle_shows_the_full_text_with_every_paragraph_anchored(client, db):
    story = long_story(db)
    page = client.get(f"/stories/{story}/diff/1/2", params={"show": "all"}).text
    assert len(paragraphs_shown(page)) == 40
    assert 'id="p15"' in page and "Paragraph 20 of the report" in page  # fold targets exist
    assert 'class="fold"' not in page
    assert '<strong aria-current="true">Full text</strong>' in page
    assert f'id="show-changes" href="/stories/{story}/diff/1/2?show=changes"' in page


def test_a_short_article_opens_whole_and_can_be_folded(client, db):
    story = long_story(db, paragraphs=LONG_ARTICLE_PARAGRAPHS)
    page = client.get(f"/stories/{story}/diff/1/2").text
    assert len(paragraphs_shown(page)) == LONG_ARTICLE_PARAGRAPHS
    assert 'id="show-changes"' in page
    folded = client.get(f"/stories/{story}/diff/1/2", params={"show": "changes"}).text
    assert len(paragraphs_shown(folded)) == 3  # the change at 12 and the two before it
    assert "… 9 unchanged paragraphs …" in folded


def test_side_by_side_folds_the_same_and_keeps_the_mode_in_its_links(client, db):
    story = long_story(db)
    side = client.get(f"/stories/{story}/diff/1/2", params={"view": "side"}).text
    assert len(re.findall(r'<tr id="p\d+" class="(?:equal|changed)">', side)) == 10
    assert '<tr class="fold"><td colspan="2"><a href="' in side
    assert f"/stories/{story}/diff/1/2?view=side&amp;show=all#p1" in side
    assert '<td class="before">The death toll rose to <del class="del">212</del>' in side
    full = client.get(f"/stories/{story}/diff/1/2", params={"view": "side", "show": "all"}).text
    assert len(re.findall(r'<tr id="p\d+"', full)) == 40
    # The layout toggle keeps the chosen reading mode, and the reading toggle the layout.
    assert f'id="view-inline" href="/stories/{story}/diff/1/2?show=all"' in full
    assert f'id="show-changes" href="/stories/{story}/diff/1/2?view=side&amp;show=changes"' in full


def test_each_change_has_an_anchor_and_links_to_the_next_and_previous(client, db):
    story = long_story(db)
    for params in ({}, {"show": "all"}, {"view": "side"}):
        page = client.get(f"/stories/{story}/diff/1/2", params=params).text
        assert 'id="first-change" href="#change-1"' in page
        first = page.index('id="change-1"')
        second = page.index('id="change-2"')
        assert first < page.index("death toll rose") < second < page.index("at dawn")
        assert 'href="#change-2" rel="next">Next change ↓</a>' in page
        assert 'href="#change-1" rel="prev">↑ Previous change</a>' in page
        assert "Change 2 of 2" in page and 'id="change-3"' not in page


def test_the_picker_keeps_the_reading_mode(client, db):
    story = long_story(db)
    picked = client.get(
        f"/stories/{story}/diff",
        params={"from": 1, "to": 2, "view": "side", "show": "all"},
        follow_redirects=False,
    )
    assert picked.headers["location"] == f"/stories/{story}/diff/1/2?view=side&show=all"
    assert client.get(f"/stories/{story}/diff/1/2", params={"show": "bogus"}).status_code == 400


def test_the_pickers_name_each_version_by_date_and_kinds(client, db):
    story = long_story(db)
    page = client.get(f"/stories/{story}/diff/1/2").text
    options = re.findall(r'<option value="(\d+)" ?(selected)?>([^<]*)</option>', page)
    # Newest first, in each of the two pickers; version 1 chosen in the first, 2 in the other.
    assert [(seq, chosen != "") for seq, chosen, _ in options] == [
        ("2", False),
        ("1", True),
        ("2", True),
        ("1", False),
    ]
    labels = {seq: label for seq, _, label in options}
    assert re.fullmatch(r"v2 · \d{4}-\d\d-\d\d \d\d:\d\d UTC · text edited", labels["2"])
    assert re.fullmatch(r"v1 · \d{4}-\d\d-\d\d \d\d:\d\d UTC · first version", labels["1"])


def test_byline_and_date_changes_are_lines_of_the_diff_page(client, db):
    story = long_story(db, fields=BYLINES)
    inline = client.get(f"/stories/{story}/diff/1/2").text
    assert (
        '<p class="line-change">Byline: Jane Doe<ins class="ins"> and John Roe</ins></p>' in inline
    )
    assert (
        '<p class="line-change">Updated: <del class="del">2026-12-04T09:00:00+00:00</del>'
        '<ins class="ins">2026-12-04T11:30:00+00:00</ins></p>' in inline
    )
    assert "Published:" not in inline  # unchanged fields are not lines
    side = client.get(f"/stories/{story}/diff/1/2", params={"view": "side"}).text
    assert (
        '<tr class="changed line-change"><td class="before">Byline: Jane Doe</td>'
        '<td class="after">Byline: Jane Doe<ins class="ins"> and John Roe</ins></td></tr>'
    ) in side
    no_fields = client.get(f"/stories/{long_story(db, paragraphs=5)}/diff/1/2").text
    assert "line-change" not in no_fields


def test_the_api_diff_carries_the_byline_and_date_changes(client, db):
    story = long_story(db, fields=BYLINES)
    data = client.get(f"/api/v1/stories/{story}/diff").json()
    byline, updated = data["fields"]
    assert byline["field"] == "byline" and byline["label"] == "Byline"
    assert (byline["before"], byline["after"]) == ("Jane Doe", "Jane Doe and John Roe")
    assert {"op": "insert", "text": " and John Roe"} in byline["diff"]["ops"]
    assert updated["label"] == "Updated"
    assert [op["op"] for op in updated["diff"]["ops"]] == ["delete", "insert"]
    text = client.get(f"/api/v1/stories/{story}/diff", params={"format": "text"}).text
    assert "Byline: Jane Doe{+ and John Roe+}\n" in text
    html = client.get(f"/api/v1/stories/{story}/diff", params={"format": "html"}).text
    assert '<p class="line-change">Byline: Jane Doe<ins class="ins">' in html
    # The headline's diff is inline HTML inside its <h1>, not a <div> in a heading.
    assert '<h1>Earthquake kills <del class="del">212</del><ins class="ins">284</ins></h1>' in html
    plain = client.get(f"/api/v1/stories/{long_story(db, paragraphs=5)}/diff").json()
    assert plain["fields"] == []


def test_cli_diff_context_folds_the_text_diff(db, tmp_path, database_url):
    from conftest import cli_runner

    story = long_story(db, fields=BYLINES)
    run = cli_runner(tmp_path / "home", database_url)
    folded = run("diff", str(story), "--context", "1", "--no-color").stdout
    assert "… 10 unchanged paragraphs …" in folded
    assert "The death toll rose to [-212-]{+284+}, officials said." in folded
    assert "Paragraph 11 of the report" in folded and "Paragraph 10 of" not in folded
    assert "… 18 unchanged paragraphs …" in folded
    assert folded.rstrip().endswith("… 6 unchanged paragraphs …")
    assert "Byline: Jane Doe{+ and John Roe+}\n" in folded
    changes_alone = run("diff", str(story), "--context", "0", "--no-color").stdout
    assert "Paragraph" not in changes_alone.split("\n\n", 1)[1]
    whole = run("diff", str(story), "--no-color").stdout
    assert "Paragraph 20 of the report" in whole and "unchanged paragraphs" not in whole
    coloured = run("diff", str(story), "--context", "1", "--color").stdout
    assert "\x1b[9;31m212\x1b[0m" in coloured and "unchanged paragraphs" in coloured
    html = run("diff", str(story), "--context", "1", "--format", "html").stdout
    assert '<p class="fold">… 10 unchanged paragraphs …</p>' in html
    unified = run("diff", str(story), "--context", "0", "--format", "unified").stdout
    assert "Paragraph" not in unified
    refused = run("diff", str(story), "--context", "1", "--json", ok=False)
    assert refused.exit_code != 0 and "--context" in refused.stderr
    negative = run("diff", str(story), "--context", "-1", ok=False)
    assert negative.exit_code == 2 and "-1" in negative.stderr
    data = __import__("json").loads(run("diff", str(story), "--json").stdout)
    assert data["fields"][0]["after"] == "Jane Doe and John Roe"
