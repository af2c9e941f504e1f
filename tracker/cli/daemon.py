"""Long-running commands: `run` (the daemon), `worker`, `serve`, `demo`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tracker.config import Settings

if TYPE_CHECKING:
    pass


from tracker.cli._app import AppContext, CLIError, friendly_errors, pass_app

# -- the daemon -------------------------------------------------------------------------


def _run_daemon(app: AppContext, *, web: bool, log_format: str | None) -> None:
    import os
    import signal
    import threading

    from tracker.cli._logging import configure_logging
    from tracker.pipeline.memory import limit_malloc_arenas
    from tracker.services.daemon import Daemon

    settings = app.settings
    configure_logging(log_format or settings.log_format)
    limit_malloc_arenas()  # before the thread pools and extraction processes start
    daemon = Daemon(app.db, settings)
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop_requested.is_set():
            # A second signal: the operator wants out now. Leases expire by themselves.
            os._exit(128 + signum)
        click.echo(
            f"{signal.Signals(signum).name}: finishing in-flight checks "
            "(send it again to exit at once)",
            err=True,
        )
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    web_server = _start_web(app, settings) if web else None
    daemon.start()
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        if web_server is not None:
            web_server.should_exit = True
        daemon.stop()


def _start_web(app: AppContext, settings: Settings) -> Any:
    from tracker.web import WebConfigError, start_in_thread

    try:
        return start_in_thread(app.db, settings)
    except (WebConfigError, OSError) as exc:
        raise CLIError(f"web UI: {exc} (or run with --no-web)") from exc


@click.command()
@click.option("--no-web", is_flag=True, help="Leave out the web UI.")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log line format.")
@pass_app
@friendly_errors
def run(app: AppContext, no_web: bool, log_format: str | None) -> None:
    """Run the daemon: check every story when due (and serve the web UI)."""
    _run_daemon(app, web=not no_web, log_format=log_format)


@click.command()
@click.option("--host", help="Address to bind (default: the web_host setting).")
@click.option("--port", type=int, help="Port (default: the web_port setting).")
@pass_app
@friendly_errors
def serve(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the web UI, JSON API and feeds only (no checking; see `tracker run`)."""
    from tracker.web import WebConfigError, make_server

    updates = {k: v for k, v in (("web_host", host), ("web_port", port)) if v is not None}
    settings = app.settings.model_copy(update=updates)
    try:
        server = make_server(app.db, settings)
    except WebConfigError as exc:
        raise CLIError(str(exc)) from exc
    _check_port_free(settings.web_host, settings.web_port)
    click.echo(f"serving on http://{settings.web_host}:{settings.web_port}/", err=True)
    server.run()


def _check_port_free(host: str, port: int) -> None:
    """Fail with one line before announcing "serving on …" when the port is taken (uvicorn
    would log its own ERROR line and exit 3 after the announcement)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CLIError(f"cannot serve on {host}:{port}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            raise CLIError(
                f"cannot serve on {host}:{port}: {exc.strerror or exc} "
                "(another `tracker serve` or `tracker run`? choose another --port)"
            ) from exc


@click.command()
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log line format.")
@pass_app
@friendly_errors
def worker(app: AppContext, log_format: str | None) -> None:
    """Run a worker without the web UI (start several against one PostgreSQL)."""
    _run_daemon(app, web=False, log_format=log_format)


@click.command()
@click.option("--step", default=5.0, show_default=True, help="Seconds between story updates.")
@click.option("--interval", default=1.5, show_default=True, help="Seconds between checks.")
@pass_app
@friendly_errors
def demo(app: AppContext, step: float, interval: float) -> None:
    """Watch the tracker follow a developing story served locally (no internet needed)."""
    from tracker.demo.run import run_demo

    if step <= interval:
        raise CLIError("--step must be longer than --interval, or changes are missed")
    versions = run_demo(app.settings, step=step, interval=interval)
    if versions == 0:
        raise CLIError("the demo stored no versions; see the messages above")


COMMANDS = [run, serve, worker, demo]
