"""The ``tracker`` command.

Each command group lives in its own module and lists its commands in ``COMMANDS``;
:data:`COMMAND_MODULES` below is the one place they are registered, with the names of
their commands, so that a command's module is imported only when that command runs (or
for ``tracker --help``). ``tracker --help`` lists the commands in alphabetical order.
Shared helpers (the application context, error handling, JSON output) are in
:mod:`tracker.cli._app`.

Errors are one readable line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

from tracker.cli._app import main, run

__all__ = ["COMMAND_MODULES", "main", "run"]

# module (in tracker.cli) -> the names of the commands in its COMMANDS list
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "stories": ("add", "list", "pause", "resume", "remove"),
    "checks": ("check", "checks", "events"),
    "versions": ("history", "show", "diff"),
    "daemon": ("run", "serve", "worker", "demo"),
    "admin": ("config", "db"),
    "alerts": ("channel", "deliveries"),
    "discovery": ("feed", "import", "export", "reextract"),
    "story_settings": ("set",),
    "doctor": ("doctor",),
    "card": ("card",),
    "changes": ("changes",),
    "search": ("search",),
    "evidence": ("verify", "timestamp"),
    "archive_status": ("archive-status",),
    "variants": ("variants",),
}

for _module, _names in COMMAND_MODULES.items():
    main.register_lazily(f"tracker.cli.{_module}", _names)
