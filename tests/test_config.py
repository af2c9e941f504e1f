"""Settings: a TOML file plus TRACKER_* environment variables, the environment winning."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.config import Settings, example_toml, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_file_documents_every_setting_as_generated():
    example = (ROOT / "config" / "tracker.example.toml").read_text(encoding="utf-8")
    assert example == example_toml(), (
        "regenerate with: tracker config example > config/tracker.example.toml"
    )
    for name in Settings.model_fields:
        assert f"# {name} = " in example
        assert f"TRACKER_{name.upper()}" in example


def test_defaults_put_sqlite_in_the_home_directory(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "data"))
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'tracker.db'}"
    assert settings.allow_private_networks is False
    assert settings.max_redirects == 5
    assert settings.max_body_bytes == 10 * 1024 * 1024


def test_the_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch):
    home = tmp_path / "data"
    home.mkdir()
    (home / "tracker.toml").write_text(
        'per_host_concurrency = 4\nuser_agent = "from-file"\n', encoding="utf-8"
    )
    monkeypatch.setenv("TRACKER_HOME", str(home))
    monkeypatch.setenv("TRACKER_USER_AGENT", "from-env")
    settings = load_settings()
    assert settings.per_host_concurrency == 4
    assert settings.user_agent == "from-env"


def test_an_explicit_config_path_must_exist(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TRACKER_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match=r"missing\.toml"):
        load_settings()


def test_bad_settings_are_one_clear_line(tmp_path: Path):
    result = CliRunner().invoke(
        main,
        ["list"],
        env={"TRACKER_HOME": str(tmp_path), "TRACKER_PER_HOST_CONCURRENCY": "zero"},
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid settings: per_host_concurrency")
    assert "Traceback" not in result.stderr


def test_a_typo_in_the_settings_file_is_reported(tmp_path: Path, monkeypatch):
    (tmp_path / "tracker.toml").write_text("per_host_concurency = 4\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["list"], env={"TRACKER_HOME": str(tmp_path)})
    assert result.exit_code == 1
    assert "per_host_concurency" in result.stderr


def test_a_proxy_url_is_checked_and_kept_secret(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path))
    env = {"TRACKER_PROXY_URL": "http://desk:s3cret@proxy.internal:3128"}
    shown = CliRunner().invoke(main, ["config", "show"], env=env)
    assert shown.exit_code == 0, shown.stderr
    assert "s3cret" not in shown.stdout
    assert load_settings(proxy_url=env["TRACKER_PROXY_URL"]).proxy_url.get_secret_value() == (
        "http://desk:s3cret@proxy.internal:3128"
    )
    assert load_settings(proxy_url="  ").proxy_url is None

    refused = CliRunner().invoke(main, ["list"], env={"TRACKER_PROXY_URL": "socks5://p:1080"})
    assert refused.exit_code == 1
    assert "proxy_url must look like http://host:port" in refused.stderr


@pytest.mark.parametrize(
    "proxy",
    ["http://desk:s3cret@127.0.0.1:99999", "http://desk:s3#cret@127.0.0.1:3128"],
)
@pytest.mark.parametrize("name", ["proxy_url", "webhook_proxy_url"])
def test_a_proxy_the_fetcher_cannot_use_is_refused_at_start_up(name: str, proxy: str):
    with pytest.raises(ValueError, match=f"{name} must look like http://host:port") as refused:
        load_settings(**{name: proxy})
    assert "s3cret" not in str(refused.value).split("input_value")[0]


def test_config_show_masks_tokens_in_declared_channel_urls(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path))
    (tmp_path / "tracker.toml").write_text(
        "[[channels]]\n"
        'name = "bot"\nkind = "apprise"\nurl = "tgram://123456:AAbottoken/987654"\n'
        "[[channels]]\n"
        'name = "hook"\nkind = "webhook"\nurl = "https://hooks.example.org/in?key=s3cret"\n'
        'secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\n'
    )
    shown = CliRunner().invoke(main, ["config", "show", "--json"])
    assert shown.exit_code == 0, shown.stderr
    for secret in ("AAbottoken", "s3cret", "whsec_MfKQ"):
        assert secret not in shown.stdout
    assert "tgram://***" in shown.stdout
    assert "https://hooks.example.org/in?key=%2A%2A%2A" in shown.stdout


def test_config_show_masks_tokens_in_a_webhook_urls_path(tmp_path: Path, monkeypatch):
    # Slack, Discord and Teams put the secret in the path: the URL is the credential.
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path))
    slack = "https://hooks.slack.com/services/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"
    discord = "https://discord.com/api/webhooks/112233445566778899/aBcD-eFgH_iJkLmNoPqRsTuV"
    (tmp_path / "tracker.toml").write_text(
        "[[channels]]\n"
        f'name = "slack"\nkind = "webhook"\nurl = "{slack}"\nsecret = "{"s" * 32}"\n'
        "[[channels]]\n"
        f'name = "discord"\nkind = "webhook"\nurl = "{discord}"\nsecret = "{"s" * 32}"\n'
    )
    shown = CliRunner().invoke(main, ["config", "show", "--json"])
    assert shown.exit_code == 0, shown.stderr
    for secret in ("T0AB12CD3", "B0EF45GH6", "Xk3vQ9bL2mN8pR4sT6wY1zA5", "112233445566778899"):
        assert secret not in shown.stdout
    assert "aBcD-eFgH_iJkLmNoPqRsTuV" not in shown.stdout
    assert "https://hooks.slack.com/services/***/***/***" in shown.stdout
    assert "https://discord.com/api/webhooks/***/***" in shown.stdout
