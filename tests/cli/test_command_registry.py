"""Commands are registered once, by name, in COMMAND_MODULES, and imported on first use."""

from __future__ import annotations

import importlib
import re

from click.testing import CliRunner

from tracker.cli import COMMAND_MODULES, main


def registered_names() -> set[str]:
    return {name for names in COMMAND_MODULES.values() for name in names}


def test_the_registry_names_exactly_the_commands_each_module_defines() -> None:
    for module, names in COMMAND_MODULES.items():
        defined = importlib.import_module(f"tracker.cli.{module}").COMMANDS
        assert sorted(command.name for command in defined) == sorted(names), module
    assert set(main.commands) == registered_names()


def test_help_lists_every_command_with_its_whole_first_sentence() -> None:
    listed = CliRunner().invoke(main, ["--help"]).stdout.split("Commands:")[1]
    # "  name  First sentence…", continuation lines indented further.
    assert set(re.findall(r"^  (\S+)", listed, re.MULTILINE)) == registered_names()
    assert "Track stories (URLs, or a file of them)." in listed
