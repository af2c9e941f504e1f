"""``tracker channel …`` and ``tracker deliveries`` through the CLI, and the daemon killed
with SIGKILL between storing a version and sending its alert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alert_support import WebhookReceiver, free_port, smtp_receiver
from click.testing import CliRunner, Result
from conftest import make_settings
from servers import LocalServer
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook
from test_alerts_webhook import VALIDATOR

from tracker.cli import main
from tracker.demo.site import STAGES, render_page
from tracker.notify.webhook import new_secret
from tracker.store.alert_models import Delivery, DeliveryStatus
from tracker.store.db import Database


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_PER_HOST_MIN_DELAY": "0",
        "TRACKER_EXTRACT_PROCESSES": "0",
        "TRACKER_SMTP_HOST": "127.0.0.1",
        "TRACKER_SMTP_TIMEOUT": "5",
        "TRACKER_WEBHOOK_TIMEOUT": "5",
    }


@pytest.fixture
def cli(env: dict[str, str]):
    runner = CliRunner()

    def run(*args: str, ok: bool = True, **extra_env: str) -> Result:
        result = runner.invoke(main, list(args), env={**env, **extra_env}, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    return run


def test_channels_are_added_listed_tested_and_removed(cli, server: LocalServer):
    receiver = WebhookReceiver(server)
    added = cli("channel", "add", "hook", "webhook", receiver.url, "--tag", "iraq").stdout
    secret = added.splitlines()[-1].strip()
    assert secret.startswith("whsec_")

    tested = cli("channel", "test", "hook").stdout
    assert "result:      delivered" in tested
    assert "HTTP status: 200 receiver says 200" in tested
    [request] = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "story.test"

    receiver.answer(404)
    failed = cli("channel", "test", "hook", ok=False)
    assert failed.exit_code == 1
    assert "HTTP status: 404" in failed.stdout
    assert "error:       HTTP 404" in failed.stdout
    assert failed.stderr.startswith("error: the test alert to hook was not delivered")

    [listed] = json.loads(cli("channel", "list", "--json").stdout)
    assert listed["name"] == "hook" and listed["tags"] == ["iraq"]
    assert listed["min_kind"] == "text_edited"
    assert "secret" not in json.dumps(listed) and secret not in cli("channel", "list").stdout

    duplicate = cli("channel", "add", "hook", "email", "a@example.org", ok=False)
    assert "exists already" in duplicate.stderr
    bad = cli("channel", "add", "mail", "email", "not-an-address", ok=False)
    assert "not an email address" in bad.stderr
    assert cli("channel", "remove", "hook").stdout.strip() == "removed channel hook"
    assert "no channel named 'hook'" in cli("channel", "test", "hook", ok=False).stderr


def test_a_webhook_test_alert_links_to_the_web_ui_as_documented(cli, server: LocalServer):
    receiver = WebhookReceiver(server)
    secret = cli("channel", "add", "hook", "webhook", receiver.url).stdout.splitlines()[-1]
    base = {"TRACKER_BASE_URL": "https://tracker.example/"}

    def payload(request) -> dict:
        data = Webhook(secret.strip()).verify(request.body, request.headers)
        VALIDATOR.validate(data)  # docs/webhook-payload.schema.json
        return data["data"]

    # Nothing tracked: a sample story, linked to the web UI's story list.
    tested = cli("channel", "test", "hook", **base).stdout
    assert "(a sample story)" in tested and "note:" not in tested
    sample = payload(receiver.requests[-1])
    assert sample["links"]["story"] == "https://tracker.example/"
    assert sample["trigger"] == "test"

    # A tracked story with two versions: the test alert is about it and links to its page
    # and to its latest change.
    url = server.url("/news/story")
    for stage in (0, 1):
        server.set("/news/story", render_page(STAGES[stage], stage))
        if stage == 0:
            cli("add", url)
        cli("check", url)
    [story] = json.loads(cli("list", "--json").stdout)
    tested = cli("channel", "test", "hook", **base).stdout
    assert f"about:       {url}\n" in tested
    real = payload(receiver.requests[-1])
    assert real["story"]["url"] == url == real["links"]["original"]
    assert real["links"]["story"] == f"https://tracker.example/stories/{story['id']}"
    assert real["links"]["diff"] == f"https://tracker.example/stories/{story['id']}/diff/1/2"

    # Without base_url there is no web UI to link to, as in every alert; the test says so.
    tested = cli("channel", "test", "hook").stdout
    assert "note:        base_url is not set" in tested
    assert payload(receiver.requests[-1])["links"]["story"] is None


def test_an_email_channel_test_prints_the_smtp_reply(cli):
    with smtp_receiver() as smtp:
        cli("channel", "add", "desk", "email", "desk@example.org")
        out = cli("channel", "test", "desk", TRACKER_SMTP_PORT=str(smtp.port)).stdout
    assert "SMTP reply:  250 2.0.0 Ok: queued as TEST123" in out
    [message] = smtp.messages
    assert message["Subject"].startswith("Headline changed: Test alert")
    down = cli("channel", "test", "desk", ok=False, TRACKER_SMTP_PORT=str(free_port()))
    assert "error:       cannot connect to 127.0.0.1" in down.stdout


def test_channels_declared_in_the_settings_file_are_synced(cli, env, tmp_path: Path):
    config = tmp_path / "tracker.toml"
    secret = new_secret()
    config.write_text(
        "[[channels]]\n"
        'name = "ops"\nkind = "webhook"\nurl = "https://hooks.example/tracker"\n'
        f'secret = "{secret}"\nevents = ["story_gone", "checks_failing"]\n',
        encoding="utf-8",
    )
    [ops] = json.loads(cli("channel", "list", "--json", TRACKER_CONFIG=str(config)).stdout)
    assert (ops["name"], ops["source"], ops["events"]) == (
        "ops",
        "settings",
        ["story_gone", "checks_failing"],
    )
    refused = cli("channel", "remove", "ops", ok=False, TRACKER_CONFIG=str(config))
    assert "declared in the settings file" in refused.stderr
    config.write_text("", encoding="utf-8")  # gone from the file: gone from the table
    assert json.loads(cli("channel", "list", "--json", TRACKER_CONFIG=str(config)).stdout) == []


def test_deliveries_lists_each_attempt(cli, server: LocalServer):
    receiver = WebhookReceiver(server)
    receiver.answer(500)
    url = server.url("/story")
    cli("channel", "add", "hook", "webhook", receiver.url, "--event", "new")
    server.set("/story", render_page(STAGES[0]))
    cli("add", url)
    cli("check", url)
    assert cli("deliveries").stdout.count("pending") == 1
    # `tracker check` does not send (the daemon's delivery tick does); --send sends now.
    assert cli("deliveries", "--send").stdout.startswith("sent 0, failed 1, dead 0")
    failed = cli("deliveries", "--failed").stdout
    assert "failed  hook" in failed and "v1 new" in failed
    assert "#1" in failed and "500 receiver says 500" in failed
    [row] = json.loads(cli("deliveries", "--json").stdout)
    assert row["attempt_log"][0]["status_code"] == 500


@pytest.mark.slow
def test_a_daemon_killed_after_storing_a_version_sends_its_alert_once_after_restart(
    tmp_path: Path, database_url: str, server: LocalServer
):
    secret = new_secret()
    receiver = WebhookReceiver(server)
    server.set("/story", render_page(STAGES[0]))
    env = {
        **os.environ,
        "TRACKER_HOME": str(tmp_path / "home"),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_ALLOW_PRIVATE_NETWORKS": "1",
        "TRACKER_EXTRACT_PROCESSES": "0",
        "TRACKER_DISPATCH_INTERVAL": "0.2",
    }
    tracker = [sys.executable, "-m", "tracker"]
    setup = CliRunner(env={k: v for k, v in env.items() if k.startswith("TRACKER_")})
    for args in (
        ["channel", "add", "hook", "webhook", receiver.url, "--secret", secret, "--event", "new"],
        ["add", server.url("/story")],
    ):
        assert setup.invoke(main, args).exit_code == 0
    db = Database(make_settings(tmp_path / "home", database_url))

    def owed() -> list[Delivery]:
        with db.session() as session:
            return list(session.scalars(select(Delivery)))

    # First run: the delivery tick is an hour away, so the daemon stores the version (and,
    # in the same transaction, the delivery) and is killed before it can send anything.
    first = subprocess.Popen(
        [*tracker, "run", "--no-web"],
        env={**env, "TRACKER_DELIVERY_INTERVAL": "3600"},
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not owed() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    [delivery] = owed()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    assert receiver.requests == []

    second = subprocess.Popen(
        [*tracker, "run", "--no-web"],
        env={**env, "TRACKER_DELIVERY_INTERVAL": "0.2"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while owed()[0].status != DeliveryStatus.SENT and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # a few more delivery ticks: nothing more may go out
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=30)
    finally:
        if second.poll() is None:
            second.kill()
    [delivery] = owed()
    assert delivery.status == DeliveryStatus.SENT
    [request] = receiver.requests
    assert request.headers["webhook-id"] == delivery.idempotency_key
    assert Webhook(secret).verify(request.body, request.headers)["data"]["version"]["seq"] == 1
    db.dispose()
