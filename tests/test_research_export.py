"""Sentence-level edits, their types, and the research export (Parquet and CSV).

The alignment and the edit types are pure and specified first; the export is then made from
versions stored by real checks of pages on a local server, on SQLite and PostgreSQL, and
read back with pyarrow and the csv module.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import cli_runner
from servers import LocalServer

from tracker.config import Settings
from tracker.core.edit_types import EditTypes, _names, edit_types, is_silent_correction
from tracker.core.sentences import Operation, SentenceEdit, align, split_sentences
from tracker.pipeline.engine import CheckEngine
from tracker.services.research_export import EDIT_COLUMNS, VERSION_COLUMNS
from tracker.services.stories import add_stories
from tracker.store.db import Database

# -- sentences and their alignment ------------------------------------------------------------


def test_sentences_respect_abbreviations_quotes_and_paragraphs():
    text = (
        'Dr. Smith of St. Mary\'s said "we are overwhelmed." The U.S. sent aid.\n\n'
        "A new paragraph starts here! Does it end? Yes."
    )
    assert split_sentences(text) == [
        'Dr. Smith of St. Mary\'s said "we are overwhelmed."',
        "The U.S. sent aid.",
        "A new paragraph starts here!",
        "Does it end?",
        "Yes.",
    ]
    assert split_sentences("") == []


def ops(edits: list[SentenceEdit]) -> list[tuple[str, str | None, str | None]]:
    return [(e.operation.value, e.before, e.after) for e in edits]


def test_identical_versions_have_no_edits():
    assert align(["A one.", "B two."], ["A one.", "B two."]) == []


def test_added_removed_and_changed_sentences():
    before = [
        "The river rose overnight.",
        "Twelve people died, officials said.",
        "Roads were closed.",
    ]
    after = [
        "The river rose overnight.",
        "Fourteen people died, officials said on Tuesday.",
        "The army was called in.",
    ]
    assert ops(align(before, after)) == [
        (
            "changed",
            "Twelve people died, officials said.",
            "Fourteen people died, officials said on Tuesday.",
        ),
        # a removal sits where it stood: after the new place of the sentence before it
        ("removed", "Roads were closed.", None),
        ("added", None, "The army was called in."),
    ]


def test_a_sentence_that_moved_is_moved_not_removed_and_added():
    before = ["First.", "Second sentence here.", "Third one.", "Fourth and last."]
    after = ["Fourth and last.", "First.", "Second sentence here.", "Third one."]
    edits = align(before, after)
    assert ops(edits) == [("moved", "Fourth and last.", "Fourth and last.")]
    assert (edits[0].before_index, edits[0].after_index, edits[0].similarity) == (3, 0, 1.0)


def test_repeated_sentences_are_matched_one_to_one():
    before = ["Breaking.", "Story text.", "Breaking."]
    after = ["Breaking.", "Story text."]
    assert ops(align(before, after)) == [("removed", "Breaking.", None)]


def test_dissimilar_sentences_are_an_addition_and_a_removal_not_a_change():
    edits = align(["The mayor resigned."], ["Storms are expected tonight across the region."])
    assert [e.operation for e in edits] == [Operation.REMOVED, Operation.ADDED]


# -- edit types ------------------------------------------------------------------------------


def typed(before: str | None, after: str | None) -> EditTypes:
    [edit] = align([before] if before else [], [after] if after else [])
    return edit_types(edit)


def test_a_changed_figure_is_named_with_its_old_and_new_values():
    result = typed("The death toll rose to 12 on Monday.", "The death toll rose to 14 on Monday.")
    assert result.types == ("number_changed",)
    assert result.numbers == (("12", "14"),)
    assert typed(
        "Damage reached 1,200,000 dollars.", "Damage reached 1,500,000 dollars."
    ).numbers == (("1,200,000", "1,500,000"),)


def test_quotes_added_removed_and_changed():
    assert (
        "quote_changed"
        in typed(
            'The minister said "we will rebuild every home" on Monday.',
            'The minister said "we will rebuild some homes" on Monday.',
        ).types
    )
    assert typed(None, '"It was terrifying," said one resident.').types[0] == "quote_added"
    assert "quote_removed" in typed('"It was terrifying," said one resident.', None).types


def test_names_added_and_removed():
    result = typed(
        "The statement was issued by the council on Monday.",
        "The statement was issued by the council and Jane Doe on Monday.",
    )
    assert "name_added" in result.types
    assert (
        "name_removed"
        in typed(
            "Officials including John Smith declined to comment.",
            "Officials declined to comment.",
        ).types
    )


def test_the_first_word_of_each_sentence_inside_a_quote_is_not_a_name():
    quoted = (
        '"Justice has been served. My hope is that the family can heal. Seeing this was hard,"'
        " said Nealy Cox, and I’m told the court agreed."
    )
    removed = typed(quoted, None)
    assert "name_removed" in removed.types
    assert _names(quoted) == {"Nealy Cox"}
    # An abbreviation's full stop ends no sentence: "Mr. Smith" is still a name.
    assert _names("The statement, read by Mr. Smith on the steps, was short.") == {"Smith"}


def test_a_correction_note_and_plain_wording():
    note = typed(None, "Correction: an earlier version of this story misstated the toll.")
    assert note.primary == "correction_note"
    assert typed(
        "Residents were told to leave quickly.", "Residents were told to leave at once."
    ).types == ("wording",)


def test_a_fact_revised_without_a_note_is_a_silent_correction():
    def edit(before: str | None, after: str | None) -> tuple[SentenceEdit, EditTypes]:
        [one] = align([before] if before else [], [after] if after else [])
        return one, edit_types(one)

    figure = edit("The toll was 12.", "The toll was 14.")
    note = edit(None, "Correction: an earlier version of this story misstated the toll.")
    wording = edit("Residents were told to leave quickly.", "Residents were told to leave at once.")
    news = edit(None, '"It was terrifying," said Maria Lopez, a resident.')
    assert is_silent_correction([figure])
    assert not is_silent_correction([figure, note])
    assert not is_silent_correction([wording])
    assert not is_silent_correction([news])  # a new quote is news, not a correction


# -- the export -------------------------------------------------------------------------------

STAGES = [
    ["The river rose overnight.", "At least 12 people died, officials said.", "Roads were closed."],
    [
        "The river rose overnight.",
        "At least 14 people died, officials said.",
        "Roads were closed.",
        '"It was terrifying," said Maria Lopez, a resident.',
    ],
    [
        '"It was terrifying," said Maria Lopez, a resident.',
        "The river rose overnight.",
        "At least 14 people died, officials said.",
        "Correction: an earlier version of this story misstated the number of deaths.",
    ],
]


def page(sentences: list[str]) -> str:
    body = "".join(
        f"<p>{s} This paragraph is long enough to be read as text.</p>" for s in sentences
    )
    return (
        "<html><head><title>Floods</title></head><body>"
        f"<article><h1>Floods</h1>{body}</article></body></html>"
    )


@pytest.fixture
def history(db: Database, settings: Settings, server: LocalServer) -> str:
    with db.session() as session:
        [added] = add_stories(
            session, [server.url("/floods")], now=datetime.now(UTC), allow_private_networks=True
        )
    with CheckEngine(db, settings) as engine:
        for sentences in STAGES:
            server.set("/floods", page(sentences))
            [report] = engine.check_now([added.story_id])
            assert report.outcome == "changed", report
    return server.url("/floods")


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_the_research_export_has_a_row_per_version_and_per_sentence_edit(
    history: str, database_url: str, tmp_path: Path, file_format: str
):
    cli = cli_runner(tmp_path / "home", database_url)
    out = tmp_path / "research"
    result = cli("export", "--format", file_format, "-o", str(out))
    assert "exported 1 stories: 3 versions and" in result.stderr

    if file_format == "parquet":
        versions = pq.read_table(out / "versions.parquet").to_pylist()
        edits = pq.read_table(out / "edits.parquet").to_pylist()
        assert pq.read_schema(out / "edits.parquet").names == [name for name, _ in EDIT_COLUMNS]
        assert versions[0]["captured_at"].tzinfo is not None
    else:
        with (out / "versions.csv").open(encoding="utf-8", newline="") as handle:
            versions = list(csv.DictReader(handle))
        with (out / "edits.csv").open(encoding="utf-8", newline="") as handle:
            edits = list(csv.DictReader(handle))
        assert list(versions[0]) == [name for name, _ in VERSION_COLUMNS]
        for row in edits:
            row["edit_types"] = json.loads(row["edit_types"])
            row["numbers_before"] = json.loads(row["numbers_before"])
            row["numbers_after"] = json.loads(row["numbers_after"])
            row["to_seq"] = int(row["to_seq"])
        for row in versions:
            row["silent_correction"] = row["silent_correction"] == "True"

    assert [str(v["seq"]) for v in versions] == ["1", "2", "3"]
    assert all(v["url"] == history for v in versions)

    second = [e for e in edits if e["to_seq"] == 2]
    figure = next(e for e in second if e["operation"] == "changed")
    assert figure["sentence_before"].startswith("At least 12 people died")
    assert figure["sentence_after"].startswith("At least 14 people died")
    assert (figure["edit_type"], figure["numbers_before"], figure["numbers_after"]) == (
        "number_changed",
        ["12"],
        ["14"],
    )
    quote = next(e for e in second if e["operation"] == "added")
    assert quote["edit_types"][:2] == ["quote_added", "name_added"]
    # Version 2 changed a figure without a note; version 3 added the note.
    assert [v["silent_correction"] for v in versions] == [False, True, False]

    third = {e["operation"] for e in edits if e["to_seq"] == 3}
    assert third == {"moved", "added", "removed"}
    note = next(e for e in edits if e["to_seq"] == 3 and e["operation"] == "added")
    assert note["edit_type"] == "correction_note"


def test_the_export_refuses_a_missing_or_file_output(
    history: str, database_url: str, tmp_path: Path
):
    cli = cli_runner(tmp_path / "home", database_url)
    missing = cli("export", "--format", "parquet", ok=False)
    assert missing.exit_code != 0 and "give -o DIRECTORY" in missing.output
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    refused = cli("export", "--format", "csv", "-o", str(a_file), ok=False)
    assert refused.exit_code != 0 and "is a file" in refused.output


def test_a_name_moving_to_another_sentence_is_not_a_name_added_or_removed():
    before = ["Jane Doe chairs the committee.", "The committee met on Monday."]
    after = ["The committee met on Monday with its chair, Jane Doe, presiding."]
    old, new = " ".join(before), " ".join(after)
    found = {
        t
        for edit in align(before, after)
        for t in edit_types(edit, before_text=old, after_text=new).types
    }
    assert "name_added" not in found and "name_removed" not in found
    without_context = {t for edit in align(before, after) for t in edit_types(edit).types}
    assert {"name_added", "name_removed"} <= without_context
