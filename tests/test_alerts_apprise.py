"""The optional Apprise channel, against a real local receiver (Apprise's json:// service)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alert_support import Rig, WebhookReceiver
from servers import LocalServer

from tracker.store.alert_models import DeliveryStatus

pytest.importorskip("apprise")


def test_an_apprise_channel_delivers_title_and_text(tmp_path: Path, server: LocalServer):
    rig = Rig(tmp_path, f"sqlite:///{tmp_path / 'tracker.db'}", server)
    try:
        receiver = WebhookReceiver(server, "/apprise")
        receiver.answer(500)  # then 200
        target = f"json://127.0.0.1:{server.port}/apprise"
        rig.add_channel("chat", "apprise", target)
        rig.publish(0)
        rig.publish(2)
        assert rig.runner.tick().failed == 1
        rig.clock.advance(minutes=1)
        assert rig.runner.tick().sent == 1
        [delivery] = rig.deliveries()
        assert delivery.status == DeliveryStatus.SENT
        assert [a.ok for a in delivery.attempt_log] == [False, True]
        body = json.loads(receiver.requests[-1].body)
        assert body["title"].startswith("Headline changed:")
        assert "--- v1" in body["message"]
    finally:
        rig.close()
