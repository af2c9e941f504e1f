"""WACZ 1.1.1 (https://specs.webrecorder.net/wacz/1.1.1/): the WARC export packaged so that
ReplayWeb.page (and pywb, and the `wacz` tools) open it as a browsable web archive.

The ZIP holds ``archive/data.warc.gz`` (:func:`tracker.services.archive.export_warc`),
``indexes/index.cdx`` (CDXJ: one line per response record, sorted by SURT key and
timestamp, with the record's offset and length in the WARC), ``pages/pages.jsonl`` (one
page per capture, titled with its version's headline) and ``datapackage.json`` listing each
of them with its SHA-256, then ``datapackage-digest.json`` with the SHA-256 of that. Every
member is stored uncompressed, as the spec asks of WARCs: a reader can seek into them.

Written here with ``zipfile`` and warcio rather than with the ``wacz`` package: that one
installs frictionless, typer and a tree of twenty-odd packages for what is a ZIP and three
small JSON files; the tests validate our files with it (``wacz validate``) when installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from tracker import __version__
from tracker.services.archive import WarcSummary, export_warc

WACZ_VERSION = "1.1.1"
WARC_PATH = "archive/data.warc.gz"
INDEX_PATH = "indexes/index.cdx"
PAGES_PATH = "pages/pages.jsonl"
# Beyond this the WARC is written to disk before it is indexed and zipped.
SPOOL_BYTES = 64 * 1024 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WaczSummary:
    warc: WarcSummary
    pages: int
    index_lines: int


def surt_key(url: str) -> str:
    """The SURT sort key of ``url`` as the ``surt`` package (and so pywb and cdxj-indexer)
    writes it: host labels reversed and comma-joined without ``www``, default port dropped,
    lower case, query arguments sorted; ``com,example)/path?a=1&b=2``."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    labels = host.split(".")
    if labels and labels[0] == "www":
        labels = labels[1:]
    key = ",".join(reversed(labels))
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        key += f":{port}"
    path = parts.path or "/"
    key += ")" + path.lower()
    if parts.query:
        key += "?" + "&".join(sorted(parts.query.lower().split("&")))
    return key


def export_wacz(
    session: Session,
    out: BinaryIO,
    *,
    user_agent: str,
    now: datetime,
    story_ids: Sequence[int] | None = None,
    title: str = "Tracked stories",
) -> WaczSummary:
    """Write a WACZ of the captures behind the stories' versions to ``out``."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as warc:
        summary = export_warc(
            session, warc, user_agent=user_agent, story_ids=story_ids, filename="data.warc.gz"
        )
        warc.seek(0)
        index, pages = _index(warc)
        warc.seek(0)
        return _package(out, warc, index, pages, summary, now=now, title=title)


def _index(warc: IO[bytes]) -> tuple[list[str], list[dict[str, Any]]]:
    """CDXJ lines of the response records, and the pages (one per capture)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.timeutils import iso_date_to_timestamp

    lines: list[tuple[str, str, str]] = []
    pages: dict[str, dict[str, Any]] = {}  # by the response's WARC-Record-ID
    titles: dict[str, str] = {}
    records = ArchiveIterator(warc)
    for record in records:
        headers = record.rec_headers
        if record.rec_type == "metadata":
            about = json.loads(record.content_stream().read() or b"{}")
            refers_to = headers.get_header("WARC-Refers-To")
            if refers_to and about.get("title") and refers_to not in titles:
                titles[refers_to] = about["title"]
            continue
        if record.rec_type != "response":
            continue
        offset = records.get_record_offset()
        records.read_to_end(record)
        length = records.get_record_length()
        url = headers.get_header("WARC-Target-URI")
        date = headers.get_header("WARC-Date")
        timestamp = iso_date_to_timestamp(date)
        http = record.http_headers
        fields: dict[str, Any] = {"url": url}
        if http is not None:
            mime = (http.get_header("Content-Type") or "").split(";")[0].strip()
            if mime:
                fields["mime"] = mime
            fields["status"] = http.get_statuscode()
        digest = headers.get_header("WARC-Payload-Digest")
        if digest:
            fields["digest"] = digest
        fields.update(
            {"length": str(length), "offset": str(offset), "filename": WARC_PATH.split("/")[-1]}
        )
        key = surt_key(url)
        lines.append((key, timestamp, json.dumps(fields)))
        record_id = headers.get_header("WARC-Record-ID")
        pages[record_id] = {"id": record_id.strip("<>").removeprefix("urn:uuid:"), "url": url}
        pages[record_id]["ts"] = date
    for record_id, page in pages.items():
        page["title"] = titles.get(record_id, page["url"])
    lines.sort()
    return [" ".join(parts) for parts in lines], list(pages.values())


def _package(
    out: BinaryIO,
    warc: IO[bytes],
    index: list[str],
    pages: list[dict[str, Any]],
    summary: WarcSummary,
    *,
    now: datetime,
    title: str,
) -> WaczSummary:
    created = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    index_bytes = "".join(line + "\n" for line in index).encode()
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Captures of tracked stories"}
    pages_bytes = "".join(json.dumps(row) + "\n" for row in [header, *pages]).encode()
    resources = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as package:
        resources.append(_write(package, WARC_PATH, warc, now))
        resources.append(_write(package, INDEX_PATH, io.BytesIO(index_bytes), now))
        resources.append(_write(package, PAGES_PATH, io.BytesIO(pages_bytes), now))
        datapackage: dict[str, Any] = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": title,
            "created": created,
            "modified": created,
            "software": f"tracker/{__version__}",
            "resources": resources,
        }
        if pages:
            datapackage["mainPageURL"] = pages[0]["url"]
            datapackage["mainPageDate"] = pages[0]["ts"]
        package_bytes = json.dumps(datapackage, indent=2).encode()
        _write(package, "datapackage.json", io.BytesIO(package_bytes), now)
        digest = {"path": "datapackage.json", "hash": "sha256:" + _sha256(package_bytes)}
        _write(package, "datapackage-digest.json", io.BytesIO(json.dumps(digest).encode()), now)
    return WaczSummary(summary, len(pages), len(index))


def _write(package: zipfile.ZipFile, path: str, data: IO[bytes], now: datetime) -> dict[str, Any]:
    """Copy ``data`` into the ZIP as ``path``; its datapackage resource entry."""
    info = zipfile.ZipInfo(path, date_time=now.astimezone(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    digest = hashlib.sha256()
    size = 0
    with package.open(info, "w", force_zip64=True) as member:
        while chunk := data.read(1024 * 1024):
            digest.update(chunk)
            member.write(chunk)
            size += len(chunk)
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "hash": "sha256:" + digest.hexdigest(),
        "bytes": size,
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
