"""Email alerts: a multipart text + HTML message, sent with smtplib.

The HTML diff uses inline styles only (``<ins style=…>``): Gmail, Outlook and Apple Mail
drop or ignore ``<style>`` blocks and classes in various ways, but all keep inline styles.
Only the paragraphs that changed are shown, with "…" where unchanged ones were left out; the
text part carries the unified diff.

:class:`EmailChannel` is the ``email`` channel kind: its target is a comma-separated list of
recipients, shown unmasked (an address is not a credential).
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from functools import cache
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from tracker.core import diffing, liveblog
from tracker.core.article import Entry
from tracker.core.kinds import kind_label
from tracker.notify.kinds import ChannelKind, Destination, register
from tracker.notify.payload import Alert, digest_subject, subject
from tracker.notify.result import SendResult
from tracker.notify.sanitize import check_header_block, header_name, header_text, single_line

INS_STYLE: Final = "background-color:#d7f5d7;color:#0a400a;text-decoration:underline;"
DEL_STYLE: Final = "background-color:#fbd9d9;color:#6e0c0c;text-decoration:line-through;"
PARAGRAPH_STYLE: Final = "margin:0 0 12px 0;"
GAP: Final = f'<p style="{PARAGRAPH_STYLE}color:#888888;">…</p>'
MAX_PARAGRAPHS: Final = 40  # a rewrite of a long article: show the start, link to the rest

_PARAGRAPH_RE: Final = re.compile(r"<p>(.*?)</p>\n", re.DOTALL)

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: Final = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str | None
    password: str | None
    sender: str
    timeout: float

    @classmethod
    def from_settings(cls, settings: Any) -> SmtpConfig:
        password = settings.smtp_password
        if password is not None and hasattr(password, "get_secret_value"):
            password = password.get_secret_value()
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_security],
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=password,
            sender=settings.smtp_from,
            timeout=settings.smtp_timeout,
        )


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.notify", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["kind_label"] = kind_label  # kinds in words, as the web UI says them
    return env


def _styled(rendered: str) -> str:
    return (
        rendered.replace('<ins class="ins">', f'<ins style="{INS_STYLE}">')
        .replace('<del class="del">', f'<del style="{DEL_STYLE}">')
        .replace("<p>", f'<p style="{PARAGRAPH_STYLE}">')
    )


def html_diff_excerpt(diff: diffing.WordDiff) -> Markup:
    """The changed paragraphs of a word diff as inline-styled HTML (text already escaped)."""
    paragraphs = _PARAGRAPH_RE.findall(diffing.render_html_inline(diff))
    kept: list[str] = []
    last_index = -1
    for index, paragraph in enumerate(paragraphs):
        if "<ins " not in paragraph and "<del " not in paragraph:
            continue
        if len(kept) >= MAX_PARAGRAPHS:
            kept.append(GAP)
            break
        if index > last_index + 1:  # unchanged paragraphs left out before this one
            kept.append(GAP)
        kept.append(_styled(f"<p>{paragraph}</p>"))
        last_index = index
    if 0 <= last_index < len(paragraphs) - 1 and kept[-1] != GAP:
        kept.append(GAP)
    return Markup("\n".join(kept))


def _first_version_html(text: str) -> Markup:
    paragraphs = [p for p in diffing.render_html_inline(diffing.word_diff("", text)).split("\n")]
    body = "\n".join(p for p in paragraphs if p.startswith("<p>"))
    return Markup(_styled(body))


def _item(alert: Alert) -> dict[str, Any]:
    change = alert.change
    diff_html = Markup("")
    title_html = Markup("")
    captured = ""
    if change is not None:
        captured = change.captured_at.strftime("%Y-%m-%d %H:%M UTC")
        if change.entries is not None:
            diff_html = _entries_html(change.entries)
        elif change.diff is not None:
            diff_html = html_diff_excerpt(change.diff)
        else:
            diff_html = _first_version_html(change.text[:20_000])
        if change.headline_changed:
            title_diff = diffing.word_diff(change.title_before or "", change.title_after or "")
            inline = diffing.render_html_inline(title_diff)
            title_html = Markup(" ".join(_PARAGRAPH_RE.findall(_styled_plain(inline))))
    return {
        "alert": alert,
        "subject": subject(alert),
        "captured": captured,
        "diff_html": diff_html,
        "title_html": title_html,
        "entries_text": _entries_text(change.entries) if change and change.entries else "",
    }


def _entry_heading(verb: str, entry: Entry) -> str:
    label = liveblog.entry_label(entry)
    return f"{verb} entry{' ' + label if label else ''}" + (
        f": {entry.headline}" if entry.headline and entry.headline != label else ""
    )


def _entries_text(entries: liveblog.EntryDiff) -> str:
    """A live blog's change for the text body: each entry added, edited, removed."""
    parts = []
    for entry in entries.added:
        parts.append(f"{_entry_heading('New', entry)}\n\n{entry.text}")
    for edit in entries.edited:
        words = diffing.render_terminal(edit.diff, color=False)
        parts.append(f"{_entry_heading('Edited', edit.after)}\n\n{words}")
    for entry in entries.removed:
        parts.append(f"{_entry_heading('Removed', entry)}\n\n{entry.text}")
    return "\n\n".join(parts)


def _entries_html(entries: liveblog.EntryDiff) -> Markup:
    """A live blog's change for the HTML body: the new entries in full, the edits inside the
    edited ones, the removed ones struck through."""
    parts: list[str] = []

    def heading(verb: str, entry: Entry) -> str:
        return f"<p><strong>{escape(_entry_heading(verb, entry))}</strong></p>"

    for entry in entries.added:
        parts.append(heading("New", entry))
        parts.extend(_styled(f"<p>{escape(p)}</p>") for p in entry.text.split("\n\n") if p)
    for edit in entries.edited:
        parts.append(heading("Edited", edit.after))
        parts.append(html_diff_excerpt(edit.diff))
    for entry in entries.removed:
        parts.append(heading("Removed", entry))
        parts.extend(
            _styled(f'<p><del class="del">{escape(p)}</del></p>')
            for p in entry.text.split("\n\n")
            if p
        )
    return Markup("\n".join(_styled(part) for part in parts))


def _styled_plain(rendered: str) -> str:
    return rendered.replace('<ins class="ins">', f'<ins style="{INS_STYLE}">').replace(
        '<del class="del">', f'<del style="{DEL_STYLE}">'
    )


def render_bodies(alerts: Sequence[Alert], *, channel: str, key: str) -> tuple[str, str]:
    """The text and HTML bodies for one alert (or a digest of several)."""
    items = [_item(alert) for alert in alerts]
    heading = digest_subject(alerts)
    context = {"items": items, "heading": heading, "channel": channel, "key": key}
    env = _templates()
    text = env.get_template("email.txt.j2").render(context)
    html = env.get_template("email.html.j2").render(context)
    return text, html


def build_message(
    alerts: Sequence[Alert],
    *,
    sender: str,
    recipients: Sequence[str],
    channel: str,
    key: str,
    now: datetime,
    base_url: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message. ``key`` is the idempotency key: it makes the
    Message-ID, so a resend after a crash is recognisably the same message.

    The alerts of one story reply to that story's thread (:func:`story_thread_id`), so that
    mail clients show a story's alerts as one conversation; a digest of several stories
    starts none."""
    text, html = render_bodies(alerts, channel=channel, key=key)
    message = EmailMessage(policy=email.policy.SMTP)
    domain = _sender_domain(sender)
    headers = {
        "Subject": digest_subject(alerts),
        "From": sender,
        "To": ", ".join(recipients),
        "Date": email.utils.format_datetime(now),
        "Message-ID": f"<{key}@{domain}>",
    }
    stories = {(alert.story.id, alert.story.url) for alert in alerts}
    if len(stories) == 1:
        [(story_id, url)] = stories
        thread = story_thread_id(story_id, url, thread_domain(base_url, sender))
        headers |= {"In-Reply-To": thread, "References": thread}
    headers |= {
        "X-Tracker-Idempotency-Key": key,
        "Auto-Submitted": "auto-generated",  # RFC 3834: no out-of-office replies
    }
    set_headers(message, headers)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _sender_domain(sender: str) -> str:
    return email.utils.parseaddr(sender)[1].rpartition("@")[2] or "tracker.invalid"


def thread_domain(base_url: str | None, sender: str) -> str:
    """The domain of the story threads' ids: the web UI's host (``base_url``) when set, the
    sender's domain otherwise."""
    host = urlsplit(base_url).hostname if base_url else None
    return host or _sender_domain(sender)


def story_thread_id(story_id: int, url: str, domain: str) -> str:
    """The message id every alert about one story refers to (In-Reply-To, References), the
    same for every alert, channel and restart: ``<story-42.1a2b3c4d5e6f@tracker.example>``.
    The URL's hash keeps a story id reused after a removal out of the old story's thread."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    return f"<story-{story_id}.{digest}@{domain}>"


ADDRESS_HEADERS: Final = frozenset({"from", "to", "cc", "reply-to", "sender"})


def set_headers(message: EmailMessage, headers: dict[str, str]) -> None:
    """Set every header of an alert: the one place header values are written, so each is
    sanitised (see :mod:`tracker.notify.sanitize`) whatever it holds and whoever wrote it
    (a page's headline in the Subject, the operator's From, a recipient's display name)."""
    for name, value in headers.items():
        name = header_name(name)
        if name.lower() in ADDRESS_HEADERS:
            message[name] = _mailboxes(value)
        else:
            message[name] = header_text(value)


def _mailboxes(value: str) -> tuple[Address, ...]:
    """An address list with clean display names; ValueError for an unusable address."""
    mailboxes = []
    for display_name, address in email.utils.getaddresses([single_line(value)]):
        if not address or "=?" in address or any(c.isspace() for c in address):
            raise ValueError(f"not an email address: {address!r}")
        mailboxes.append(Address(display_name=header_text(display_name), addr_spec=address))
    if not mailboxes:
        raise ValueError(f"no email address in {value!r}")
    return tuple(mailboxes)


def recipients_of(target: str) -> list[str]:
    return [address.strip() for address in target.split(",") if address.strip()]


def validate_recipients(target: str) -> str:
    """Normalise a comma-separated recipient list; ValueError naming a bad address."""
    addresses = recipients_of(target)
    if not addresses:
        raise ValueError("an email channel needs at least one recipient")
    for address in addresses:
        _, parsed = email.utils.parseaddr(address)
        if "@" not in parsed or parsed.startswith("@") or parsed.endswith("@"):
            raise ValueError(f"not an email address: {address!r}")
    return ", ".join(addresses)


def send_message(
    message: EmailMessage, recipients: Sequence[str], config: SmtpConfig
) -> SendResult:
    """Send over SMTP and report exactly what the server answered."""
    raw = message.as_bytes()
    try:
        # As a receiver will read it: exactly the headers set, whatever the e-mail library.
        check_header_block(raw, message.keys())
    except ValueError as exc:
        return SendResult(False, error=str(exc))
    try:
        smtp = _connect(config)
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(
            ok=False, error=f"cannot connect to {config.host}:{config.port}: {_describe(exc)}"
        )
    try:
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.password or "")
            code, reply = smtp.mail(config.sender)
            if code != 250:
                return SendResult(False, code, _text(reply), "sender refused")
            refused: dict[str, str] = {}
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = f"{code} {_text(reply)}"
            if len(refused) == len(recipients):
                smtp.rset()
                return SendResult(False, code, _text(reply), f"all recipients refused: {refused}")
            code, reply = smtp.data(raw)
            response = _text(reply)
            if refused:
                response += f" (refused: {refused})"
            if code != 250:
                return SendResult(False, code, response, "message refused")
            return SendResult(True, code, response)
    except smtplib.SMTPResponseException as exc:
        return SendResult(False, exc.smtp_code, _text(exc.smtp_error), _describe(exc))
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(False, error=_describe(exc))


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    if config.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    smtp.ehlo()
    return smtp


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@register
class EmailChannel(ChannelKind):
    name = "email"
    target_key = "to"
    reply_label = "SMTP reply"

    @classmethod
    def validate(cls, target: str, secret: str | None) -> tuple[str, str | None]:
        return validate_recipients(target), None

    @classmethod
    def mask(cls, target: str) -> str:
        return target

    @classmethod
    def secrets(cls, target: str) -> list[str]:
        return []  # addresses are shown; the SMTP password is the settings' secret

    def send(
        self, destination: Destination, alerts: Sequence[Alert], key: str, now: datetime
    ) -> SendResult:
        config = SmtpConfig.from_settings(self.settings)
        recipients = recipients_of(destination.target)
        message = build_message(
            alerts,
            sender=config.sender,
            recipients=recipients,
            channel=destination.name,
            key=key,
            now=now,
            base_url=self.settings.base_url,
        )
        return send_message(message, recipients, config)
