"""The diff card of a change, shared by `tracker card`, the web's "Download image" and the API.

`load_card` reads the change that made a version from the database and builds the `Card`
(tracker.core.card: the excerpt and the alt text); `card_png` draws it to a 1200×675 PNG in
headless Chromium (tracker.net.html_image), through a cache on disk: a card is drawn once
per distinct content and release, since each drawing costs a browser launch (~1 s).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Final

import jinja2
from sqlalchemy.orm import Session

from tracker import __version__
from tracker.core.card import Card, CardFacts, build_card, site_name
from tracker.net.browser import BrowserUnavailableError
from tracker.net.charset import decode_html, parse_content_type
from tracker.net.html_image import DOCUMENT_CSP, RenderError, html_to_png
from tracker.services.stories import StoryError, get_version
from tracker.store.captures import load_body
from tracker.store.models import Capture, Story, Version

__all__ = [
    "CARD_HEIGHT",
    "CARD_WIDTH",
    "CardUnavailable",
    "card_file_name",
    "card_html",
    "card_png",
    "load_card",
]

CARD_WIDTH: Final = 1200
CARD_HEIGHT: Final = 675
# Cards kept on disk at most; the least recently written go first.
CACHE_MAX_FILES: Final = 500
CACHE_DIR_NAME: Final = "cards"


class CardUnavailable(Exception):
    """The card cannot be drawn here (no Chromium, or it failed); the message says why and
    what to install."""


def card_facts(session: Session, story: Story, seq: int | None) -> CardFacts:
    """The change that made version `seq` (the latest when None; negative counts back).

    Raises StoryError for a version that does not exist or is the first one (a card shows a
    change; the first version has none)."""
    after = get_version(session, story, seq)
    if after.seq == 1:
        raise StoryError(
            f"{story.url} version 1 is the first version: a card shows a change, and nothing "
            "has changed yet" + ("" if story.version_count == 1 else "; pick a later version")
        )
    before = get_version(session, story, after.seq - 1)
    return CardFacts(
        url=story.url,
        seq=after.seq,
        changed_at=after.captured_at,
        kinds=tuple(after.kinds or ()),
        title_before=before.title,
        title_after=after.title,
        text_before=before.text,
        text_after=after.text,
        site_name=_site_name(session, after),
        byline_before=before.byline,
        byline_after=after.byline,
        headlines_before=tuple(before.headlines or ()),
        headlines_after=tuple(after.headlines or ()),
    )


def _site_name(session: Session, version: Version) -> str | None:
    """The page's og:site_name, read from the version's raw capture (None when the capture
    is not kept or names no site: the card then shows the host)."""
    if version.capture_sha256 is None:
        return None
    body = load_body(session, version.capture_sha256)
    capture = session.get(Capture, version.capture_sha256)
    if body is None or capture is None:
        return None
    _, charset = parse_content_type((capture.headers or {}).get("content-type"))
    html, _ = decode_html(body, charset)
    return site_name(html)


def load_card(session: Session, story: Story, seq: int | None) -> Card:
    """The card of the change that made version `seq`; see `card_facts` for errors."""
    return build_card(card_facts(session, story, seq))


@functools.cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.services", "templates"),
        autoescape=True,  # every value is page text
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("card.html")


def card_html(card: Card) -> str:
    """The card as one self-contained HTML document (inline CSS, no scripts, no URLs)."""
    changed_headline = card.headline_before is not None
    return _template().render(
        card=card,
        csp=DOCUMENT_CSP,
        width=CARD_WIDTH,
        height=CARD_HEIGHT,
        # A changed headline takes two lines (old and new), so the type is a little smaller
        # and the excerpt shorter; a headline that stayed has room to be read.
        headline_size=44 if changed_headline else 52,
        headline_lines=2 if changed_headline or card.excerpt else 4,
        excerpt_lines=5 if changed_headline else 7,
    )


def card_file_name(card: Card) -> str:
    """A name for the PNG: `story-host-v5.png`, safe on any file system."""
    host = "".join(c if c.isalnum() or c in ".-" else "-" for c in card.domain)[:60]
    return f"{host or 'story'}-v{card.seq}.png"


def _cache_key(html: str) -> str:
    # The document says everything the image shows; the release covers the renderer.
    return hashlib.sha256(f"{__version__}\0{html}".encode()).hexdigest()[:32]


def card_png(
    card: Card,
    *,
    executable: str | None = None,
    cache_dir: Path | None = None,
    story_id: int | None = None,
) -> bytes:
    """The card as a 1200×675 PNG, from `cache_dir` when it was drawn before.

    Raises CardUnavailable when Chromium is missing or fails."""
    html = card_html(card)
    cached: Path | None = None
    if cache_dir is not None:
        prefix = f"story-{story_id}-" if story_id is not None else ""
        cached = cache_dir / f"{prefix}v{card.seq}-{_cache_key(html)}.png"
        try:
            return cached.read_bytes()
        except OSError:
            pass  # not drawn yet (or unreadable): draw it
    try:
        png = html_to_png(html, width=CARD_WIDTH, height=CARD_HEIGHT, executable=executable).png
    except (BrowserUnavailableError, RenderError) as exc:
        raise CardUnavailable(f"cannot draw the card image: {exc}") from exc
    if cached is not None:
        _store(cached, png)
    return png


def _store(path: Path, png: bytes) -> None:
    """Write atomically (a reader never sees half a file), then keep the cache bounded.
    A cache that cannot be written is no reason to fail the drawing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as tmp:
            tmp.write(png)
        os.replace(tmp.name, path)
        files = sorted(path.parent.glob("*.png"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - CACHE_MAX_FILES)]:
            old.unlink(missing_ok=True)
    except OSError:
        return


def cache_dir_for(home: Path) -> Path:
    """Where drawn cards are kept: `<home>/cards`."""
    return home.expanduser() / CACHE_DIR_NAME
