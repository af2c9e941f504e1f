"""Migration 0012 back-fills what the changes page reads for versions stored before it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from tracker.store.db import Database, alembic_config, upgrade


def test_upgrading_to_0012_backfills_excerpts_headlines_and_kind_rows(db: Database):
    config = alembic_config(db.engine)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    when = "2026-12-04 10:00:00"
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO stories (id, url, title, status, added_by, added_at, first_seen_at, "
                "developing, promise_state, consecutive_failures, consecutive_gone, "
                "version_count, ignore_patterns) VALUES (1, 'https://example.com/a', 'New', "
                "'active', 'user', :when, :when, false, 'none', 0, 0, 3, '[]')"
            ),
            {"when": when},
        )
        for seq, title, body, kinds in (
            (1, "Old", "Ten people were hurt. Roads closed.", '["first"]'),
            (2, "Old", "Twelve people were hurt. Roads closed.", '["text_edited"]'),
            (3, "New", "Twelve people were hurt. Roads closed.", '["headline", "minor"]'),
        ):
            connection.execute(
                text(
                    "INSERT INTO versions (story_id, seq, captured_at, fingerprint, title, "
                    "headlines, text, kinds, words_added, words_removed, chars_added, "
                    "chars_removed, diff_coarse) VALUES (1, :seq, :when, :print, :title, '[]', "
                    ":body, :kinds, 0, 0, 0, 0, false)"
                ),
                {
                    "seq": seq,
                    "when": when,
                    "print": str(seq),
                    "title": title,
                    "body": body,
                    "kinds": kinds,
                },
            )
    upgrade(db.engine)
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT seq, previous_title, excerpt FROM versions ORDER BY seq")
        ).all()
        kinds = connection.execute(
            text(
                "SELECT v.seq, k.kind FROM version_kinds k JOIN versions v ON v.id = k.version_id "
                "ORDER BY v.seq, k.kind"
            )
        ).all()

    def stored(value):
        import json

        return json.loads(value) if isinstance(value, str) else value

    assert [(seq, previous) for seq, previous, _ in rows] == [(1, None), (2, None), (3, "Old")]
    assert [stored(excerpt) for _, _, excerpt in rows] == [
        [["=", "Ten people were hurt."]],
        [["-", "Ten"], ["+", "Twelve"], ["=", " people were hurt."]],
        None,  # only the headline changed
    ]
    assert kinds == [(1, "first"), (2, "text_edited"), (3, "headline"), (3, "minor")]
