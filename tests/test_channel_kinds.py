"""Channel kinds are a registry: a kind's validation, masking and sending live with the kind.

Adding a kind is one module with a registered ChannelKind subclass (and its module name in
KIND_MODULES); the settings file, the CLI, the channels table, the senders and every page
that shows a target ask the registry, never ``if kind == …``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from tracker.notify import apprise as apprise_module
from tracker.notify import kinds as kinds_module
from tracker.notify.kinds import (
    KIND_MODULES,
    TARGET_MASK,
    ChannelError,
    ChannelKind,
    Destination,
    kind_named,
    kinds,
    mask_target,
    register,
)
from tracker.notify.result import SendResult
from tracker.notify.senders import Senders
from tracker.notify.spec import ChannelSettings
from tracker.store.alert_models import Channel
from tracker.store.channels import add_channel, sync_declared

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# For each kind: a target as given, the stored (validated) target, and what it shows.
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "email": ("desk@example.org ,ed@example.org", "desk@example.org, ed@example.org", "same"),
    "webhook": (
        " https://hooks.example.org/in/Xk3vQ9bL2mN8pR4sT6wY?key=s3cret ",
        "https://hooks.example.org/in/Xk3vQ9bL2mN8pR4sT6wY?key=s3cret",
        "https://hooks.example.org/in/***?key=%2A%2A%2A",
    ),
    "apprise": (
        "tgram://123456:AAbottoken/987654",
        "tgram://123456:AAbottoken/987654",
        "tgram://***",
    ),
}


def test_the_kinds_are_the_ones_the_kind_modules_register():
    assert list(kinds()) == ["email", "webhook", "apprise"]
    assert {kind.__module__ for kind in kinds().values()} == set(KIND_MODULES)
    for name, kind in kinds().items():
        assert issubclass(kind, ChannelKind) and kind.name == name
        assert kind_named(name) is kind
        assert kind.target_key in ("to", "url")


def test_every_kind_is_specified_here():
    assert set(EXAMPLES) == set(kinds()), "add the new kind's example to EXAMPLES"


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_kind_validates_and_masks_its_targets(name: str):
    if name == "apprise" and not apprise_module.available():
        pytest.skip("Apprise is not installed")
    kind = kind_named(name)
    given, stored, shown = EXAMPLES[name]
    target, secret = kind.validate(given, SECRET if kind.signed else None)
    assert target == stored
    assert (secret == SECRET) if kind.signed else secret is None
    assert mask_target(name, target) == kind.mask(target) == (target if shown == "same" else shown)
    with pytest.raises(ValueError):
        kind.validate("", None)


def test_a_signed_kind_without_a_secret_gets_a_fresh_one():
    for name, kind in kinds().items():
        if kind.signed:
            _, secret = kind.validate(EXAMPLES[name][1], None)
            assert secret and secret != SECRET


def test_the_settings_file_asks_the_kind_for_to_or_url_and_a_secret():
    email = ChannelSettings(name="desk", kind="email", to=["a@example.org", "b@example.org"])
    assert email.target == "a@example.org, b@example.org"
    hook = ChannelSettings(name="bot", kind="webhook", url="https://x.example/h", secret=SECRET)
    assert hook.target == "https://x.example/h"
    with pytest.raises(ValueError, match="an email channel needs 'to'"):
        ChannelSettings(name="desk", kind="email", url="https://x.example/h")
    with pytest.raises(ValueError, match="an apprise channel needs 'url'"):
        ChannelSettings(name="chat", kind="apprise", to=["a@example.org"])
    with pytest.raises(ValueError, match="a webhook channel needs 'secret'"):
        ChannelSettings(name="bot", kind="webhook", url="https://x.example/h")


def test_an_unknown_kind_is_a_clear_error_naming_the_known_ones():
    message = "unknown channel kind 'pigeon'; known: email, webhook, apprise"
    with pytest.raises(ChannelError) as unknown:
        kind_named("pigeon")
    assert str(unknown.value) == message
    with pytest.raises(ValueError, match=message):
        ChannelSettings(name="coop", kind="pigeon", url="coop://1")


def test_an_unknown_kind_masks_to_nothing_at_all():
    # A row left by a kind since removed: its target may be anything, so nothing is shown.
    assert mask_target("pigeon", "coop://user:s3cret@loft/42") == TARGET_MASK
    assert mask_target("", "") == TARGET_MASK


def test_unknown_kinds_fail_as_recorded_sends_not_crashes():
    destination = Destination(1, "coop", "pigeon", "coop://1", None, "uid", None)
    result = Senders(settings=None).send(destination, [], "key", NOW)
    assert result == SendResult(False, error="unknown channel kind 'pigeon'")


# -- a new kind needs no edits elsewhere ---------------------------------------------------


class Pigeon(ChannelKind):
    """A throwaway kind: carrier pigeons from a numbered loft."""

    name = "pigeon"
    sent: ClassVar[list[tuple[str, int]]] = []

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        if not target.startswith("coop://"):
            raise ValueError(f"a pigeon needs a coop:// address, not {target!r}")
        return target, None

    @classmethod
    def mask(cls, target: str) -> str:
        return "coop://" + TARGET_MASK

    def send(
        self, destination: Destination, alerts: Sequence[Any], key: str, now: datetime
    ) -> SendResult:
        self.sent.append((destination.target, len(alerts)))
        return SendResult(True, response="coo")


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real kinds, in a registry of the test's own: the real one is restored after."""
    monkeypatch.setattr(kinds_module, "_registry", dict(kinds()))
    yield
    Pigeon.sent.clear()


def test_a_registered_kind_is_usable_everywhere_at_once(scratch_registry: None, db: Any):
    assert register(Pigeon) is Pigeon
    assert list(kinds())[-1] == "pigeon" and kind_named("pigeon") is Pigeon
    with db.session() as session:
        added = add_channel(
            session, name="loft", kind="pigeon", target="coop://42", min_kind=None,
            events=["changed"], now=NOW,
        )  # fmt: skip
        with pytest.raises(ChannelError, match="a pigeon needs a coop:// address"):
            add_channel(
                session, name="bad", kind="pigeon", target="https://x", min_kind=None,
                events=["changed"], now=NOW,
            )  # fmt: skip
        declared = ChannelSettings(name="declared", kind="pigeon", url="coop://7")
        assert sync_declared(session, [declared], now=NOW) == ["added declared"]
        destination = Destination.of(added)
    assert mask_target("pigeon", "coop://42") == "coop://***"
    assert Senders(settings=None).send(destination, [], "key", NOW).ok
    assert Pigeon.sent == [("coop://42", 0)]
    with db.session() as session:
        assert session.get(Channel, added.id).kind == "pigeon"


def test_two_kinds_cannot_share_a_name(scratch_registry: None):
    class Impostor(ChannelKind):
        name = "email"

    with pytest.raises(TypeError, match="two channel kinds are called 'email'"):
        register(Impostor)

    class Nameless(ChannelKind):
        pass

    with pytest.raises(TypeError, match="name must be"):
        register(Nameless)
    assert kind_named("email").__name__ == "EmailChannel"


def test_a_mask_that_fails_shows_nothing(scratch_registry: None):
    @register
    class Broken(ChannelKind):
        name = "broken"

        @classmethod
        def mask(cls, target: str) -> str:
            raise RuntimeError(target)

    assert mask_target("broken", "https://user:s3cret@x.example") == TARGET_MASK
