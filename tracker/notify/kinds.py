"""Channel kinds: the registry of ways to send alerts (email, webhook, apprise).

A kind is one class, living in its own module with the code that talks to its service:
it validates a target (and secret), masks a target for display, and sends alerts. It also
states the few facts the settings file and the CLI need (does the settings file give it
``to`` or ``url``, must it have a signing secret). Nothing outside the kind's module asks
``if kind == "webhook"``: everything else looks the kind up here.

Adding a kind is one new module with a :class:`ChannelKind` subclass decorated with
:func:`register`, plus its module name in :data:`KIND_MODULES`. The kind modules are
loaded on first use, so importing this module (as ``tracker.notify.spec`` and through it
``tracker.config`` do) costs nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeVar

from tracker.notify.redact import Redactor, pieces, url_secrets
from tracker.notify.result import SendResult

if TYPE_CHECKING:
    from datetime import datetime

    from tracker.notify.payload import Alert
    from tracker.store.alert_models import Channel

# The modules that define (and register) the kinds, loaded by :func:`kinds` on first use.
KIND_MODULES: Final = (
    "tracker.notify.email",
    "tracker.notify.webhook",
    "tracker.notify.apprise",
)

TARGET_MASK: Final = "***"
# A kind's name is stored in ``channels.kind`` (16 characters) and typed on the command line.
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,15}")


class ChannelError(Exception):
    """A channel cannot be added, found or used; the message says why."""


@dataclass(frozen=True)
class Destination:
    """A channel row detached from its session: what a sender needs."""

    id: int
    name: str
    kind: str
    target: str
    secret: str | None
    uid: str
    digest_seconds: int | None

    @classmethod
    def of(cls, channel: Channel) -> Destination:
        return cls(
            id=channel.id,
            name=channel.name,
            kind=channel.kind,
            target=channel.target,
            secret=channel.secret,
            uid=channel.uid,
            digest_seconds=channel.digest_seconds,
        )


class ChannelKind:
    """One way of sending alerts. Instances are shared by the delivery threads."""

    name: ClassVar[str]
    # Which settings-file key holds the target: "to", a list of recipients (the CLI takes
    # several and the target is them joined with ", "), or "url", exactly one URL.
    target_key: ClassVar[Literal["to", "url"]] = "url"
    # Signs with a per-channel secret: the settings file must give one, and `tracker
    # channel add` generates one when none is given (and shows it once).
    signed: ClassVar[bool] = False
    # What `tracker channel test` calls the service's answer.
    reply_label: ClassVar[str] = "reply"

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        """The normalised (target, secret); ValueError saying what is wrong."""
        raise NotImplementedError

    @classmethod
    def mask(cls, target: str) -> str:
        """What the target may show in lists, pages and ``config show``: no password, token
        or query value it carries. By default nothing at all."""
        return TARGET_MASK

    @classmethod
    def secrets(cls, target: str) -> list[str]:
        """The parts of ``target`` that :meth:`mask` hides, which no recorded error or reply
        may show either (see :mod:`tracker.notify.redact`). By default all of it."""
        return pieces(target)

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


K = TypeVar("K", bound=type[ChannelKind])

_registry: dict[str, type[ChannelKind]] = {}
_loaded = False


def register(kind_class: K) -> K:
    """Class decorator: make ``kind_class`` the kind called ``kind_class.name``."""
    name = getattr(kind_class, "name", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TypeError(
            f"{kind_class.__qualname__}.name must be 1-16 lowercase letters, digits or _, "
            f"not {name!r}"
        )
    known = _registry.get(name)
    if known is not None and (known.__module__, known.__qualname__) != (
        kind_class.__module__,
        kind_class.__qualname__,
    ):
        raise TypeError(
            f"two channel kinds are called {name!r}: {known.__module__}.{known.__qualname__} "
            f"and {kind_class.__module__}.{kind_class.__qualname__}"
        )
    _registry[name] = kind_class
    return kind_class


def kinds() -> Mapping[str, type[ChannelKind]]:
    """Every registered kind by name, in :data:`KIND_MODULES` order (whichever module
    happened to be imported first), then any registered from elsewhere."""
    global _loaded
    if not _loaded:
        for module in KIND_MODULES:
            importlib.import_module(module)
        _loaded = True
    rank = {module: index for index, module in enumerate(KIND_MODULES)}
    ordered = sorted(_registry.items(), key=lambda item: rank.get(item[1].__module__, len(rank)))
    return MappingProxyType(dict(ordered))


def kind_named(name: str) -> type[ChannelKind]:
    """The kind called ``name``; ChannelError naming the known kinds otherwise."""
    known = kinds()
    kind_class = known.get(name)
    if kind_class is None:
        raise ChannelError(f"unknown channel kind {name!r}; known: {', '.join(known)}")
    return kind_class


def a_channel(name: str) -> str:
    """'an email channel', 'a webhook channel': a kind named in a sentence."""
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name} channel"


def settings_secrets(settings: Any) -> list[str]:
    """The credentials in the settings that a delivery sends with: the SMTP password, the
    webhook proxy's URL."""
    found: list[str] = []
    password = getattr(settings, "smtp_password", None)
    if password is not None:
        found.append(_secret_value(password))
    proxy = getattr(settings, "webhook_proxy_url", None)
    if proxy is not None:
        found += url_secrets(_secret_value(proxy))
    return found


def _secret_value(value: Any) -> str:
    return str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)


def redactor(kind: str, target: str, secret: str | None = None, settings: Any = None) -> Redactor:
    """What masks this channel's secrets in any text: the parts of its target its kind
    hides (all of it for an unknown kind), its signing secret, the settings' credentials."""
    try:
        kind_class = kinds().get(kind)
        found = kind_class.secrets(target) if kind_class is not None else pieces(target)
    except Exception:  # noqa: BLE001 -- masking must never fail: then hide every piece
        found = pieces(target)
    if secret:
        found += [secret, secret.partition("_")[2]]
    if settings is not None:
        found += settings_secrets(settings)
    return Redactor.of(found)


def redact_result(result: SendResult, redact: Redactor) -> SendResult:
    """``result`` with its reply and error masked."""
    return replace(result, response=redact(result.response), error=redact(result.error))


def mask_target(kind: str, target: str) -> str:
    """``target`` as the kind masks it; only :data:`TARGET_MASK` for an unknown kind (a row
    left by a kind since removed) or if masking fails: a mask must never leak or raise."""
    try:
        kind_class = kinds().get(kind)
        return kind_class.mask(target) if kind_class is not None else TARGET_MASK
    except Exception:  # noqa: BLE001 -- a page or `config show` must not fail on one target
        return TARGET_MASK
