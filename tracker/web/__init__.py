"""The web UI, JSON API (/api/v1) and Atom feeds, served by uvicorn.

``create_app(db, settings)`` builds the FastAPI app; ``start_in_thread(db, settings)``
serves it from a daemon thread (``tracker run``) and returns the ``uvicorn.Server``:
set its ``should_exit = True`` to stop it.
"""

from __future__ import annotations

import threading
import time

import uvicorn

from tracker.config import Settings
from tracker.store.db import Database
from tracker.web.app import create_app
from tracker.web.security import WebConfigError

__all__ = ["WebConfigError", "create_app", "make_server", "start_in_thread"]


def make_server(db: Database, settings: Settings) -> uvicorn.Server:
    """A configured uvicorn server for the app (not started)."""
    app = create_app(db, settings)
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    return uvicorn.Server(config)


def start_in_thread(db: Database, settings: Settings, *, wait: float = 10.0) -> uvicorn.Server:
    """Serve the web UI from a daemon thread; returns once it listens (or `wait` passes).

    Raises WebConfigError for an unsafe configuration, and OSError when the port cannot be
    bound (rather than failing silently in the thread).
    """
    server = make_server(db, settings)
    # uvicorn installs signal handlers only in the main thread; the daemon owns those.
    # (Older uvicorn; newer releases skip signal handling off the main thread themselves.)
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run()
        except BaseException as exc:  # noqa: BLE001 -- reported to the starting thread
            failure.append(exc)

    thread = threading.Thread(target=serve, name="web", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        if failure and not isinstance(failure[0], SystemExit):
            raise failure[0]
        raise OSError(
            f"the web UI could not listen on {settings.web_host}:{settings.web_port} "
            "(is the port in use?)"
        )
    return server
