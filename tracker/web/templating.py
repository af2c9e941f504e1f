"""Jinja2 set-up: autoescaping everywhere, and the few helpers the templates use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from tracker.core.kinds import kind_label
from tracker.core.lifecycle import LIFECYCLE_EVENTS
from tracker.core.liveness import next_check_text
from tracker.core.timefmt import relative_time
from tracker.core.words import counted
from tracker.web.security import CSRF_FIELD, Guard
from tracker.web.status import daemon_checking


def timestamp(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def make_templates(directory: Path, guard: Guard) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    env = templates.env
    env.autoescape = True  # every template, whatever its extension: page text is hostile
    env.filters["ago"] = relative_time
    env.filters["timestamp"] = timestamp
    env.filters["kind_label"] = kind_label
    env.filters["counted"] = counted

    def csrf_field(request: Request) -> Markup:
        token = guard.csrf_token(request.state.csrf_cookie)
        return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')

    def feed_url(path: str) -> str:
        key = guard.feed_key
        return f"{path}?{urlencode({'key': key})}" if key else path

    def with_query(request: Request, **changes: object) -> str:
        params = dict(request.query_params)
        for name, value in changes.items():
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = str(value)
        query = urlencode(params)
        return request.url.path + (f"?{query}" if query else "")

    def next_check(request: Request, value: datetime | None, now: datetime) -> str:
        """A story's next check in words: "overdue: no daemon is checking" when it is due
        and no worker is running."""
        return next_check_text(value, now, checking=daemon_checking(request) is not False)

    def signed_in(request: Request) -> bool:
        """Whether this reader may follow the app's links (no token set, or a session)."""
        return not guard.required or guard.has_session(request)

    env.globals.update(
        daemon_checking=daemon_checking,
        next_check=next_check,
        signed_in=signed_in,
        csrf_field=csrf_field,
        feed_url=feed_url,
        with_query=with_query,
        auth_required=guard.required,
        # Lifecycle events read as their detail ("Unpublished: the page answered 404").
        lifecycle_events=LIFECYCLE_EVENTS,
    )
    return templates
