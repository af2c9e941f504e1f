"""The ``tracker`` command.

Each command group lives in its own module and lists its commands in ``COMMANDS``;
:data:`COMMAND_MODULES` below is the one place they are registered, in the order
``tracker --help`` shows them. Shared helpers (the application context, error handling,
JSON output) are in :mod:`tracker.cli._app`.

Errors are one readable line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import inspect

import click

from tracker.cli._app import main

__all__ = ["COMMAND_MODULES", "main"]

COMMAND_MODULES = (
    "stories",  # add, list, pause, resume, remove
    "checks",  # check, checks, events
    "versions",  # history, show, diff
    "daemon",  # run, serve, worker, demo
    "admin",  # config, db
    "alerts",  # channel, deliveries
    "discovery",  # feed, import, export, reextract
    "story_settings",  # set
    "doctor",  # doctor
)


def _register(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"tracker.cli.{name}")
        for command in module.COMMANDS:
            group.add_command(command)


def _whole_first_sentences(group: click.Group) -> None:
    """Command lists show each command's whole first sentence, wrapped, instead of click's
    cut to the terminal width ("Track one or more stories (checked at once by the daemon
    or..."), which hid what half the commands do."""
    for command in group.commands.values():
        if not command.short_help and command.help:
            paragraph = inspect.cleandoc(command.help).split("\n\n")[0].replace("\n", " ")
            end = paragraph.find(". ")
            command.short_help = paragraph if end == -1 else paragraph[: end + 1]
        if isinstance(command, click.Group):
            _whole_first_sentences(command)


_register(main)
_whole_first_sentences(main)
