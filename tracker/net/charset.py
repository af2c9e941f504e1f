"""Content types and charsets: is a body HTML, and how does it decode to text.

Pure functions over bytes and header values, shared by every fetcher (they must all decode a
page alike, or switching fetchers would look like an edit), the capture store (re-reading an
old capture decodes it exactly as it was decoded when fetched) and the WARC import.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class NotHTMLError(ValueError):
    """The body is not HTML text (binary, or undecodable)."""


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """("text/html", "utf-8") from 'text/html; charset="UTF-8"'; (None, None) if absent."""
    if not value or not value.strip():
        return None, None
    mime, _, params = value.partition(";")
    match = re.search(r"""charset\s*=\s*["']?([^"';\s]+)""", params, re.IGNORECASE)
    return mime.strip().lower() or None, match.group(1) if match else None


_HTML_START = re.compile(
    rb"\s*(?:<!--.*?-->\s*|<\?xml[^>]*>\s*)*"
    rb"<(?:!doctype\s+html|html|head|body|title|meta|link|script|style|div|p|h[1-6]|a|table)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_html(body: bytes) -> bool:
    """Sniff an untyped body: does it start like an HTML document?"""
    sample = body[:1024].removeprefix(codecs.BOM_UTF8)
    return bool(_HTML_START.match(sample)) or b"<html" in sample.lower()


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BINARY_SIGNATURES = (
    b"%PDF-",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"OggS",
    b"\x7fELF",
    b"\x00\x00\x01\x00",
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE)
# Control bytes that do not occur in text (tab, newlines, form feed and ESC - used by
# ISO-2022 - excepted).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def decode_html(body: bytes, declared_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML body to text; return (text, codec name).

    Order: byte-order mark; the declared charset (HTTP header), then <meta charset>, each
    decoded strictly so a lying declaration falls through instead of producing mojibake;
    UTF-8; then detection (charset-normalizer). Raises NotHTMLError for binary bodies.
    """
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, errors="replace"), bom_codec
    if _looks_binary(body):
        raise NotHTMLError("binary content")
    declared = [_codec_name(declared_charset), _codec_name(meta_charset(body))]
    for codec in dict.fromkeys(c for c in declared if c):
        text = _decode_strictly(body, codec)
        if text is None:
            continue
        # Servers that declare a legacy charset by default while serving UTF-8 are the most
        # common liars; legacy-encoded text that is also valid multi-byte UTF-8 is vanishingly
        # rare, so valid UTF-8 wins.
        if codec != "utf-8" and not body.isascii():
            utf8 = _decode_strictly(body, "utf-8")
            if utf8 is not None:
                return utf8, "utf-8"
        return text, codec
    utf8 = _decode_strictly(body, "utf-8")
    if utf8 is not None:
        return utf8, "utf-8"
    matches = charset_normalizer.from_bytes(body)
    best = matches.best()
    if best is None:
        raise NotHTMLError("undecodable content")
    # A page with few non-ASCII bytes leaves detection choosing between code pages that
    # decode it equally cleanly, by a coherence guess from a tiny sample ("Café" came out
    # as cp775 "Cafķ"). Windows-1252, the web's commonest legacy encoding and the WHATWG
    # default, wins such a tie.
    if any(m.chaos <= best.chaos and "cp1252" in m.could_be_from_charset for m in matches):
        return body.decode("cp1252", errors="replace"), "cp1252"
    codec = _codec_name(best.encoding) or best.encoding
    return str(best), codec


def meta_charset(body: bytes) -> str | None:
    """The charset named by a <meta charset> or http-equiv Content-Type near the top."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def decode_text(body: bytes, declared_charset: str | None = None) -> tuple[str, str]:
    """Decode a text resource that is not a page (a feed, robots.txt); return (text, codec
    name). UTF-8 unless a known charset is declared; undecodable bytes are replaced."""
    codec = _codec_name(declared_charset) or "utf-8"
    return body.decode(codec, errors="replace"), codec


def _codec_name(label: str | None) -> str | None:
    """Python codec for a charset label, or None if unknown. Follows the WHATWG Encoding
    standard where it matters: latin-1/ascii labels mean windows-1252, and a document cannot
    declare itself UTF-16 from inside ASCII-compatible bytes."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return "utf-8" if name == "utf-8-sig" else name


def _decode_strictly(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_binary(body: bytes) -> bool:
    sample = body[:8192]
    if sample.startswith(_BINARY_SIGNATURES):
        return True
    return len(_CONTROL_BYTES.findall(sample)) > max(1, len(sample) // 100)
