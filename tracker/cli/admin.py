"""Settings and database maintenance: `config`, `db`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    pass


from tracker.cli._app import AppContext, friendly_errors, json_out, pass_app

# -- settings ---------------------------------------------------------------------------


@click.group()
def config() -> None:
    """Settings: see the effective values or the documented example file."""


MASK = "**********"  # what pydantic shows for a SecretStr


def redact(value: Any, key: str = "") -> Any:
    """Settings as they may be shown: values of keys naming a token, secret or password
    masked, and the password in any URL (a database URL) replaced by the mask."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if value and any(word in key.lower() for word in ("token", "secret", "password")):
        return MASK
    if isinstance(value, str) and "://" in value and "@" in value:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(value)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
    return value


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@friendly_errors
def config_show(app: AppContext, as_json: bool) -> None:
    """The effective settings (file + environment + defaults); tokens, secrets and
    passwords are masked, so the output can be pasted into a bug report."""
    data = app.settings.model_dump(mode="json")
    data["effective_database_url"] = app.settings.effective_database_url
    from tracker.notify.kinds import mask_target

    for declared in data.get("channels") or []:
        if declared.get("url"):  # Apprise URLs carry tokens in every part
            declared["url"] = mask_target(declared["kind"], declared["url"])
    data = redact(data)
    if as_json:
        json_out(data)
        return
    for name, value in data.items():
        click.echo(f"{name} = {value!r}")


@config.command("example")
def config_example() -> None:
    """Print config/tracker.example.toml (every setting, documented)."""
    from tracker.config import example_toml

    click.echo(example_toml(), nl=False)


# -- database ---------------------------------------------------------------------------


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_app
@friendly_errors
def db_upgrade(app: AppContext) -> None:
    """Apply pending schema migrations (also done automatically on start)."""
    from tracker.store.db import current_revision, head_revision

    database = app.db  # opening the database upgrades it
    click.echo(
        f"database at revision {current_revision(database.engine)} "
        f"(head {head_revision(database.engine)})"
    )


from tracker.cli.discovery import vacuum_command  # noqa: E402  (a sibling group's command)

db.add_command(vacuum_command)

COMMANDS = [config, db]
