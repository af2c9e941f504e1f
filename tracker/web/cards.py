"""Share a change: the diff card as a PNG (`/stories/{id}/versions/{seq}/card.png`), its alt
text in the API (`/api/v1/stories/{id}/versions/{seq}/card`), and the "Download image" block
of the diff page.

Drawing a card launches Chromium (about a second of CPU), so the route is a plain function
(FastAPI runs it on its thread pool, off the event loop), draws one card at a time per
process (`RenderGate`), turns away callers beyond a short queue with 503 and Retry-After, and
keeps what it drew on disk (`<home>/cards`, keyed by the card's content and the release).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from tracker.core.card import Card
from tracker.services.cards import (
    CARD_HEIGHT,
    CARD_WIDTH,
    CardUnavailable,
    cache_dir_for,
    card_file_name,
    card_png,
    load_card,
)
from tracker.web import queries
from tracker.web.deps import database, settings_of
from tracker.web.security import RAW_CSP

StoryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The story's id.")]
Seq = Annotated[
    int,
    Path(
        ge=-(2**31), le=2**31 - 1, description="Version number; negative counts back (-1: latest)."
    ),
]

page_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["api"])

# Callers waiting for a drawing at most, beyond the one being drawn; more get 503.
QUEUE_MAX: Final = 3
RETRY_AFTER_SECONDS: Final = 5


class RenderBusy(Exception):
    """Too many cards are waiting to be drawn."""


class RenderGate:
    """One drawing at a time, and a short queue: a burst of requests for new cards costs one
    Chromium at a time, and each waiting caller holds one thread of the pool at most."""

    def __init__(self, queue_max: int = QUEUE_MAX) -> None:
        self._drawing = threading.Lock()
        self._count = threading.Lock()
        self._callers = 0
        self._limit = queue_max + 1

    @property
    def callers(self) -> int:
        """Callers drawing or waiting to draw now."""
        with self._count:
            return self._callers

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._count:
            if self._callers >= self._limit:
                raise RenderBusy
            self._callers += 1
        try:
            with self._drawing:
                yield
        finally:
            with self._count:
                self._callers -= 1


_GATE_LOCK = threading.Lock()


def _gate(request: Request) -> RenderGate:
    """The app's gate (one per app, made on first use)."""
    state = request.app.state
    with _GATE_LOCK:
        gate = getattr(state, "card_gate", None)
        if gate is None:
            gate = state.card_gate = RenderGate()
        return gate


def card_path(story_id: int, seq: int) -> str:
    return f"/stories/{story_id}/versions/{seq}/card.png"


def _load(request: Request, story_id: int, seq: int) -> Card:
    with database(request).read_session() as session:
        story = queries.get_story(session, story_id)
        return load_card(session, story, seq)


@page_router.get("/stories/{story_id}/versions/{seq}/card.png")
def card_image(request: Request, story_id: StoryId, seq: Seq) -> Response:
    """The card of the change that made version `seq`, as a PNG."""
    card = _load(request, story_id, seq)
    settings = settings_of(request)
    try:
        with _gate(request).turn():
            png = card_png(
                card,
                executable=settings.browser_executable,
                cache_dir=cache_dir_for(settings.home),
                story_id=story_id,
            )
    except RenderBusy:
        raise HTTPException(
            503,
            "other cards are being drawn: try again in a few seconds",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    except CardUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    name = f"story-{story_id}-{card_file_name(card)}"
    headers = {
        "Content-Disposition": f'inline; filename="{name}"',
        "Content-Security-Policy": RAW_CSP,
        "Cache-Control": "private, max-age=300",
    }
    return Response(png, media_type="image/png", headers=headers)


class CardOut(BaseModel):
    story_id: int
    url: str
    seq: int = Field(description="The version the change made.")
    changed_at: datetime
    source: str = Field(description="The site's name (og:site_name), or its host.")
    kinds: list[str] = Field(description="The kinds of change, in words, most significant first.")
    alt_text: str = Field(description="The change in words, at most 1,000 characters.")
    image_url: str = Field(description=f"The card as a {CARD_WIDTH}×{CARD_HEIGHT} PNG.")
    width: int = CARD_WIDTH
    height: int = CARD_HEIGHT


def _base_url(request: Request) -> str:
    return (settings_of(request).base_url or str(request.base_url)).rstrip("/")


def card_out(request: Request, story_id: int, card: Card) -> CardOut:
    return CardOut(
        story_id=story_id,
        url=card.url,
        seq=card.seq,
        changed_at=card.changed_at,
        source=card.source,
        kinds=list(card.kinds),
        alt_text=card.alt_text,
        image_url=_base_url(request) + card_path(story_id, card.seq),
    )


@api_router.get(
    "/stories/{story_id}/versions/{seq}/card",
    response_model=CardOut,
    summary="The diff card of a change: alt text and image URL",
    description="The change that made version `seq` (negative counts back), stated in words "
    "for alt text, and where its card image is. 400 for the first version (no change yet).",
)
def get_card(request: Request, story_id: StoryId, seq: Seq) -> CardOut:
    return card_out(request, story_id, _load(request, story_id, seq))


def card_share(request: Request, story_id: int, seq: int) -> dict[str, Any]:
    """What the diff page's "Share this change" block shows: the image's link and file name,
    and the alt text."""
    card = _load(request, story_id, seq)
    return {
        "image_url": card_path(story_id, card.seq),
        "file_name": f"story-{story_id}-{card_file_name(card)}",
        "alt_text": card.alt_text,
        "width": CARD_WIDTH,
        "height": CARD_HEIGHT,
    }
