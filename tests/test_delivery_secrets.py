"""Issue 13, finding 4: a channel's secrets never show in a delivery's errors or replies.

The class: a webhook URL carries its credential in path segments (Slack, Discord), query
values (``?token=``, ``?key=&sig=``) or userinfo (``user:pass@host``); an Apprise URL in
every part. Each fails for real against a receiver on 127.0.0.1 (connection refused, a 500
whose body echoes the URL and the Authorization header, a redirect to a URL with the token,
a TLS error); ``tracker deliveries --json``, the web /deliveries pages and the API must not
show the secret, and neither may rows stored before errors were masked when recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from alert_support import Rig, free_port
from conftest import cli_runner
from servers import Exchange, LocalServer
from sqlalchemy import select
from test_web_support import make_client

from tracker.notify import apprise as apprise_module
from tracker.notify.kinds import redactor
from tracker.store.alert_models import Channel, Delivery, DeliveryAttempt, DeliveryStatus

SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="

# name: (path and query, userinfo, the strings that must never show)
SHAPES = {
    "slack path tokens": (
        "/services/T0A1B2C3D/B0E4F5G6H/XxYyZz0123456789AbCdEfGh",
        None,
        ["T0A1B2C3D", "B0E4F5G6H", "XxYyZz0123456789AbCdEfGh"],
    ),
    "token in the query": ("/hook?token=s3cr3t-T0ken-value", None, ["s3cr3t-T0ken-value"]),
    "key and signature": (
        "/api/notify?key=AKIAKEYVALUE9&sig=c2lnbmF0dXJlX3ZhbHVl",
        None,
        ["AKIAKEYVALUE9", "c2lnbmF0dXJlX3ZhbHVl"],
    ),
    "basic auth": ("/hook", "hookuser:hunter2-Pass", ["hunter2-Pass", "hookuser"]),
    "discord id and token": (
        "/api/webhooks/123456789012345678/AbCdEfGh-IjKlMnOp_QrStUvWxYz0123456789",
        None,
        ["123456789012345678", "AbCdEfGh-IjKlMnOp_QrStUvWxYz0123456789"],
    ),
}
FAILURES = ["connection refused", "500 echoing the URL", "redirect to the token", "TLS error"]


def with_userinfo(url: str, userinfo: str | None) -> str:
    return url.replace("://", f"://{userinfo}@", 1) if userinfo else url


def failing_target(server: LocalServer, failure: str, path: str, userinfo: str | None) -> str:
    route = path.split("?")[0]
    if failure == "connection refused":
        return with_userinfo(f"http://127.0.0.1:{free_port()}{path}", userinfo)
    if failure == "TLS error":  # https to a plain-HTTP server
        return with_userinfo(f"https://127.0.0.1:{server.port}{path}", userinfo)
    target = with_userinfo(server.url(path), userinfo)

    def echo(exchange: Exchange) -> None:
        auth = exchange.request.headers.get("authorization", "")
        body = f"no hook at {exchange.request.path} ({target}); {auth}"
        exchange.send(500, {"Content-Type": "text/plain"}, body)

    def redirect(exchange: Exchange) -> None:
        moved = target + ("&" if "?" in target else "?") + "moved=1"
        exchange.send(302, {"Location": moved, "Content-Type": "text/plain"}, f"see {moved}")

    server.set_handler(route, echo if failure == "500 echoing the URL" else redirect)
    return target


@pytest.fixture
def rig(tmp_path: Path, database_url: str, server: LocalServer):
    rig = Rig(tmp_path, database_url, server, webhook_timeout=3.0)
    yield rig
    rig.close()


def shown_everywhere(
    rig: Rig, tmp_path: Path, database_url: str, *, stored: bool = True
) -> list[str]:
    """Every place a delivery's error is shown: the CLI's --json and text, the web pages,
    the API's list and detail; and the stored rows themselves."""
    run = cli_runner(tmp_path / "home", database_url)
    outputs = [run("deliveries", "--json").stdout, run("deliveries").stdout]
    with make_client(rig.db, rig.settings) as client:
        items = client.get("/api/v1/deliveries").json()["items"]
        outputs.append(json.dumps(items))
        outputs.append(client.get("/deliveries").text)
        for item in items:
            outputs.append(client.get(f"/api/v1/deliveries/{item['id']}").text)
            outputs.append(client.get(f"/deliveries/{item['id']}").text)
    for delivery in rig.deliveries() if stored else ():
        outputs.append(delivery.last_error or "")
        outputs += [f"{a.error} {a.response}" for a in delivery.attempt_log]
    return outputs


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_failing_webhook_never_shows_its_secret(
    rig: Rig, server: LocalServer, tmp_path, database_url, shape: str, failure: str
):
    path, userinfo, secrets = SHAPES[shape]
    target = failing_target(server, failure, path, userinfo)
    rig.add_channel("hook", "webhook", target, secret=SECRET)
    rig.publish(0)
    rig.publish(1)
    assert rig.runner.tick().failed == 1
    [delivery] = rig.deliveries()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error
    # Still useful: the error says what went wrong, and where (host and port are shown).
    assert "127.0.0.1" in delivery.last_error or "HTTP" in delivery.last_error
    if failure == "500 echoing the URL":
        assert "HTTP 500" in delivery.last_error
    for output in shown_everywhere(rig, tmp_path, database_url):
        assert SECRET not in output
        for secret in secrets:
            assert secret not in output, (secret, output[:2000])


def test_rows_stored_before_masking_are_masked_when_shown(
    rig: Rig, server: LocalServer, tmp_path, database_url
):
    hook = "https://alice:pw-0f-alice@hooks.example/services/T0A1B2C3D/B0E4F5G6H/TokEn0123456789xyz?sig=Sig-Value-42"
    telegram = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321"
    secrets = ["pw-0f-alice", "T0A1B2C3D", "TokEn0123456789xyz", "Sig-Value-42"]
    rig.add_channel("hook", "webhook", hook, secret=SECRET)
    if apprise_module.available():
        rig.add_channel("chat", "apprise", telegram)
        secrets += [
            "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        ]
    rig.publish(0)
    rig.publish(1)
    raw = {
        "webhook": "ConnectionError: HTTPSConnectionPool(host='hooks.example', port=443): Max "
        "retries exceeded with url: /services/T0A1B2C3D/B0E4F5G6H/TokEn0123456789xyz"
        f"?sig=Sig-Value-42 ({hook}) {SECRET}",
        "apprise": "Telegram: https://api.telegram.org/bot123456789:"
        f"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage failed; {telegram}",
    }
    with rig.db.session() as session:  # as an older version stored them: unmasked
        for delivery in session.scalars(select(Delivery)):
            delivery.status = DeliveryStatus.FAILED
            delivery.attempts = 1
            text = raw[delivery.channel.kind]
            delivery.last_error = f"FAILED ({text})"
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    number=1,
                    started_at=rig.clock(),
                    duration_ms=5,
                    ok=False,
                    response=f"echo: {text}",
                    error=text,
                    worker="old",
                )
            )
        kinds = set(session.scalars(select(Channel.kind)))
    assert "webhook" in kinds
    outputs = shown_everywhere(rig, tmp_path, database_url, stored=False)
    assert any("hooks.example" in output for output in outputs)  # masked, not erased
    for output in outputs:
        assert SECRET not in output
        for secret in secrets:
            assert secret not in output, (secret, output[:2000])


@pytest.mark.skipif(not apprise_module.available(), reason="Apprise is not installed")
def test_a_failing_apprise_url_never_shows_its_tokens(
    rig: Rig, server: LocalServer, tmp_path, database_url
):
    server.set_handler("/apprise", lambda exchange: exchange.send(500, {}, exchange.request.path))
    target = f"json://appuser:Apprise-Secret-99@127.0.0.1:{server.port}/apprise?token=Tok-55-abc"
    rig.add_channel("chat", "apprise", target)
    rig.publish(0)
    rig.publish(1)
    assert rig.runner.tick().failed == 1
    for output in shown_everywhere(rig, tmp_path, database_url):
        for secret in ("Apprise-Secret-99", "Tok-55-abc", "appuser"):
            assert secret not in output, (secret, output[:2000])


def test_the_redactor_masks_every_shape_and_keeps_the_rest_readable():
    settings = SimpleNamespace(smtp_password="smtp-Pa55word", webhook_proxy_url=None)
    redact = redactor("email", "desk@example.org", None, settings)
    assert redact("535 auth failed for smtp-Pa55word") == "535 auth failed for ***"
    assert redact("550 no such user desk@example.org") == "550 no such user desk@example.org"
    hook = redactor("webhook", "https://h.example/services/T0A1B2C3D/B0E4/XyZ0123456789abcdef?v=1")
    text = hook(
        "HTTPSConnectionPool(host='h.example', port=443): Max retries exceeded with url: "
        "/services/T0A1B2C3D/B0E4/XyZ0123456789abcdef?v=1 (Caused by SSLError(...)); HTTP 500"
    )
    assert text == (
        "HTTPSConnectionPool(host='h.example', port=443): Max retries exceeded with url: "
        "/services/***/B0E4/***?v=*** (Caused by SSLError(...)); HTTP 500"
    )
    chat = redactor("apprise", "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321")
    assert chat("sent to tgram://123456789:AAH.../987654321 and 987654321") == (
        "sent to tgram://*** and ***"
    )
    # A kind since removed: all of its target is secret.
    assert redactor("pigeon", "coop://loft-key-77/42")("coop://loft-key-77/42 x") == "coop://*** x"
