"""docs/configuration.md is generated from the settings model and must not drift from it."""

from __future__ import annotations

from tracker.config import Settings
from tracker.docs_gen import DOC_PATH, render, sections


def test_committed_configuration_reference_is_the_generated_one():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `python -m tracker.docs_gen --write`"
    )


def test_every_setting_is_documented_once_with_its_environment_variable():
    documented = [name for _, names in sections() for name in names]
    assert sorted(documented) == sorted(Settings.model_fields)
    text = render()
    for name, field in Settings.model_fields.items():
        assert text.count(f"| `TRACKER_{name.upper()}` |") == 1
        assert field.description, f"setting {name} has no description"


def test_sections_follow_the_settings_source():
    titles = [title for title, _ in sections()]
    assert titles[0] == "storage" and "alerts (see docs/alerts.md)" in titles
