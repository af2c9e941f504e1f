"""docker-compose.yml and the Dockerfile: valid against the Compose Specification schema and
wired the way docs/operations.md says (no Docker engine runs here, so this is static)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from tracker.cli import main
from tracker.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).parent / "fixtures" / "compose-spec" / "compose_spec.json"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} with nothing set: the default ("" for ${VAR:?…})."""
    return re.sub(r"\$\{[A-Z_]+(?::-([^}]*)|:\?[^}]*)?\}", lambda m: m.group(1) or "x", value)


def test_compose_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_check_would_catch_a_mistake(compose):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["postgres"]["healthcheck"]["retrys"] = 3
    assert not jsonschema.Draft201909Validator(schema).is_valid(broken)


def test_services_are_the_ones_the_operations_guide_describes(compose):
    services = compose["services"]
    assert {"postgres", "migrate", "tracker", "worker", "mailpit"} <= set(services)
    postgres = services["postgres"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "8025:8025" in services["mailpit"]["ports"]


def test_migrations_run_once_before_the_daemon_and_workers_start(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("tracker", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"


def test_workers_can_be_scaled(compose):
    worker = compose["services"]["worker"]
    # A fixed container name or host port would make --scale worker=N fail.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"] == ["worker"]
    assert worker["healthcheck"] == {"disable": True}  # no web UI in a worker
    url = worker["environment"]["TRACKER_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:" in url


def test_commands_are_real_tracker_commands(compose):
    for name, service in compose["services"].items():
        if service.get("image", "").startswith("tracker") or "build" in service:
            command = service["command"]
            group = main
            for word in command:
                assert word in group.commands, f"{name}: no command {word!r}"  # type: ignore[attr-defined]
                group = group.commands[word]  # type: ignore[attr-defined]


def test_every_environment_variable_is_a_setting_and_parses(compose, monkeypatch):
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        tracker_vars = {k: v for k, v in environment.items() if k.startswith("TRACKER_")}
        if not tracker_vars:
            continue
        for key in tracker_vars:
            # Unknown TRACKER_* variables are silently ignored by pydantic-settings.
            assert key.removeprefix("TRACKER_").lower() in Settings.model_fields, f"{name}: {key}"
        for key, value in tracker_vars.items():
            monkeypatch.setenv(key, interpolate(str(value)))
        settings = Settings()
        assert settings.effective_database_url.startswith("postgresql+psycopg://")
        for key in tracker_vars:
            monkeypatch.delenv(key)
        if name == "tracker":
            assert settings.web_host == "0.0.0.0" and settings.web_token
            assert [c.name for c in settings.channels] == ["desk"]
            assert settings.smtp_host == "mailpit"


def test_dockerfile_is_slim_non_root_and_health_checked(dockerfile):
    froms = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert froms and all(image.endswith("-slim") for image in froms)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    healthcheck = re.search(r"^HEALTHCHECK .*?CMD (.*)$", dockerfile, re.MULTILINE | re.DOTALL)
    assert healthcheck and "/healthz" in healthcheck.group(1)
    # The image is useless without the Alembic scripts (the schema is upgraded on start).
    assert "_migrations" in dockerfile


def test_dockerignore_keeps_secrets_and_bulk_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "tracker-data", "tests"):
        assert entry in ignored
