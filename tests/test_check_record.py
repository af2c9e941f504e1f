"""What one check records, in the cases the end-to-end tests do not reach."""

from __future__ import annotations

from datetime import UTC, datetime

from servers import LocalServer
from sqlalchemy import select, update

from tracker.config import Settings
from tracker.db import Database
from tracker.demo_story import STAGES, render_page
from tracker.engine import CheckEngine
from tracker.models import Story, Version
from tracker.stories import add_stories


def test_new_fingerprint_rules_alone_make_no_version(
    db: Database, settings: Settings, server: LocalServer
):
    """After an upgrade changes how fingerprints are computed, the first check sees a new
    fingerprint for an article that did not change: it adopts it instead of storing a
    version with an empty diff (and alerting on it)."""
    server.set("/story", render_page(STAGES[0]))
    with db.session() as session:
        [added] = add_stories(
            session, [server.url("/story")], now=datetime.now(UTC), allow_private_networks=True
        )
    with CheckEngine(db, settings) as engine:
        [first] = engine.check_now([added.story_id])
        assert first.version_seq == 1
        real = _fingerprint(db, added.story_id)
        with db.session() as session:  # what the previous release's rules made of the page
            session.execute(update(Story).values(last_fingerprint="0" * 64))
        [after_upgrade] = engine.check_now([added.story_id])
        assert str(after_upgrade.outcome) == "unchanged"
        assert _fingerprint(db, added.story_id) == real

        server.set("/story", render_page(STAGES[1]))  # and a real change still counts
        [changed] = engine.check_now([added.story_id])
        assert changed.version_seq == 2
    with db.session() as session:
        assert session.scalars(select(Version.seq)).all() == [1, 2]


def _fingerprint(db: Database, story_id: int) -> str | None:
    with db.session() as session:
        return session.get(Story, story_id).last_fingerprint
