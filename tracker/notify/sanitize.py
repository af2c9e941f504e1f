"""Text that leaves the tracker in an alert, made safe to write into a header or a log line.

A headline comes from a page anyone can publish, so it may hold anything: CR/LF, NUL, the
Unicode line separators, or an RFC 2047 encoded word that *decodes* to CR/LF
(``=?utf-8?q?=0D=0AReply-To=3A_evil@example.com?=``). Python's e-mail library decodes such a
word when a header is set and, before 3.11.10/3.12.5 (CVE-2024-6923), writes the decoded
line break out as a new header. So every header value the tracker builds passes through
:func:`header_text`, which does not depend on the library or the Python version:

1. decode encoded words (q and b, any charset, nested ones too), so the subject reads as
   the page's text and no encoded word is left for the library to decode again;
2. replace control characters (C0 incl. CR, LF, NUL; DEL; C1 incl. U+0085; U+2028, U+2029)
   with spaces, and lone surrogates with U+FFFD;
3. collapse whitespace to single spaces and bound the length.

The e-mail library then folds the clean value; :func:`check_header_block` re-reads the
bytes about to be sent and refuses a message whose header lines are not exactly the ones
set (the last line of defence, should a library ever fold one wrongly).

Webhook receivers log fields like the title, URL or kinds; JSON escaping keeps a CR out of
the JSON text but not out of the decoded string a receiver writes to its log. So
:func:`clean_payload` makes every short field single-line (:func:`single_line`) and keeps
line breaks, as ``\\n`` only, in the multi-line fields (diffs, article and entry text).
"""

from __future__ import annotations

import email.errors
import email.header
import re
from collections.abc import Iterable
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any, Final

# A header value, once decoded and cleaned, is cut to this many characters (a subject
# longer than this is unreadable in any mail client; folding keeps lines under 78 anyway).
HEADER_TEXT_LIMIT: Final = 250
# Encoded words are decoded at most this many times (an encoded word may decode to another).
_DECODE_ROUNDS: Final = 4

_ENCODED_WORD: Final = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?]*\?=")
# What any lenient decoder might still take for an encoded word after decoding is done.
_ENCODED_WORD_LOOSE: Final = re.compile(r"=\?(?=.*?\?=)", re.DOTALL)
# Control characters: C0 (CR, LF, NUL …), DEL, C1 (U+0085 …), and the line and paragraph
# separators, all of which some reader takes for the end of a line.
_CONTROLS: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATES: Final = re.compile("[\ud800-\udfff]")
_HEADER_NAME: Final = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext
# Line breaks a multi-line field keeps (as "\n").
_LINE_BREAKS: Final = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Webhook fields that are text of many lines by nature; every other string is one line.
_MULTI_LINE_DROP: Final = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
MULTI_LINE_FIELDS: Final = frozenset({"added", "removed", "unified_diff", "text"})


def _clean_chars(text: str) -> str:
    """Controls as spaces, lone surrogates (unencodable) as U+FFFD."""
    return _SURROGATES.sub("\ufffd", _CONTROLS.sub(" ", text))


def _decode_word(word: str) -> str:
    try:
        parts = email.header.decode_header(word)
    except (email.errors.HeaderParseError, ValueError):
        return word.replace("=?", "= ?")
    decoded = []
    for part, charset in parts:
        if isinstance(part, str):
            decoded.append(part)
            continue
        name = (charset or "utf-8").split("*")[0] or "utf-8"
        try:
            decoded.append(part.decode(name, "replace"))
        except LookupError:  # an unknown charset: read it as UTF-8
            decoded.append(part.decode("utf-8", "replace"))
    return "".join(decoded)


def decode_encoded_words(text: str) -> str:
    """``text`` with its RFC 2047 encoded words decoded (repeatedly, should one decode to
    another), and anything still shaped like one broken up, so no later parser decodes it."""
    for _ in range(_DECODE_ROUNDS):
        if "=?" not in text:
            return text
        decoded = _ENCODED_WORD.sub(lambda match: _decode_word(match.group()), text)
        if decoded == text:
            break
        text = decoded
    return _ENCODED_WORD_LOOSE.sub("= ?", text)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def header_text(value: str, *, limit: int = HEADER_TEXT_LIMIT) -> str:
    """A header value that is one line of plain, readable text whatever ``value`` held."""
    text = _clean_chars(decode_encoded_words(_clean_chars(value)))
    return shorten(" ".join(text.split()), limit)


def header_name(name: str) -> str:
    """``name`` if it is a valid header field name; ValueError otherwise."""
    if not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"not a header name: {name!r}")
    return name


def check_header_block(raw: bytes, names: Iterable[str]) -> None:
    """Refuse (ValueError) a message whose top-level header lines, as a receiver parses
    them, are not exactly ``names`` (in any order): nothing injected, nothing lost."""
    parsed = BytesHeaderParser(policy=compat32).parsebytes(raw)
    received = sorted(name.lower() for name in parsed)
    expected = sorted(name.lower() for name in names)
    if received != expected or parsed.defects:
        raise ValueError(
            "refusing to send a message whose headers are not the ones set "
            f"(expected {expected}, would send {received})"
        )


def single_line(value: str) -> str:
    """One line: controls (line breaks included) as spaces, whitespace collapsed."""
    return " ".join(_clean_chars(value).split())


def multi_line(value: str) -> str:
    """Line breaks as ``\\n`` only (CR, CRLF, U+2028 …), tabs kept, other controls removed."""
    text = _MULTI_LINE_DROP.sub("", _LINE_BREAKS.sub("\n", value))
    return _SURROGATES.sub("\ufffd", text)


def clean_payload(value: Any, field: str | None = None) -> Any:
    """A JSON-able value with every string cleaned: :func:`multi_line` in the fields of
    :data:`MULTI_LINE_FIELDS` (and lists under them), :func:`single_line` everywhere else."""
    if isinstance(value, str):
        return multi_line(value) if field in MULTI_LINE_FIELDS else single_line(value)
    if isinstance(value, dict):
        return {key: clean_payload(item, key) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_payload(item, field) for item in value]
    return value
