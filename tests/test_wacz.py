"""`tracker export --format wacz`: a tracked history (real checks of a local server, on
SQLite and PostgreSQL) packaged as WACZ 1.1.1, opened the way a replay tool opens it: the
ZIP, its datapackage digests, the WARC records, the CDXJ index pointing at them, the pages.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import cli_runner
from servers import LocalServer
from warcio.archiveiterator import ArchiveIterator

from tracker.demo.site import STAGES, render_page
from tracker.services.wacz import surt_key

MEMBERS = [
    "archive/data.warc.gz",
    "indexes/index.cdx",
    "pages/pages.jsonl",
    "datapackage.json",
    "datapackage-digest.json",
]


@pytest.fixture
def wacz_file(tmp_path: Path, database_url: str, server: LocalServer) -> Path:
    """Two stories, one with three versions, one with a query string, as a WACZ."""
    cli = cli_runner(tmp_path / "home", database_url)
    story = server.url("/news/floods")
    other = server.url("/news/Live?b=2&a=1")
    cli("add", story, other)
    for stage in range(3):
        server.set("/news/floods", render_page(STAGES[stage], stage))
        server.set("/news/Live", render_page(STAGES[3], 0))
        cli("check", story, other)
    path = tmp_path / "stories.wacz"
    result = cli("export", "--format", "wacz", "-o", str(path))
    assert "exported 4 captures (4 versions) as WACZ" in result.stderr
    return path


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_the_wacz_holds_its_members_stored_and_its_digests_hold(wacz_file: Path):
    with zipfile.ZipFile(wacz_file) as package:
        assert package.namelist() == MEMBERS
        # Stored, not deflated: a replay tool reads the WARC by range from the ZIP.
        assert {info.compress_type for info in package.infolist()} == {zipfile.ZIP_STORED}
        datapackage_bytes = package.read("datapackage.json")
        datapackage = json.loads(datapackage_bytes)
        assert datapackage["wacz_version"] == "1.1.1"
        assert datapackage["profile"] == "data-package"
        assert [r["path"] for r in datapackage["resources"]] == MEMBERS[:3]
        for resource in datapackage["resources"]:
            data = package.read(resource["path"])
            assert resource["hash"] == sha256(data), resource["path"]
            assert resource["bytes"] == len(data)
        digest = json.loads(package.read("datapackage-digest.json"))
        assert digest == {"path": "datapackage.json", "hash": sha256(datapackage_bytes)}


def test_the_index_points_at_each_response_record(wacz_file: Path, server: LocalServer):
    with zipfile.ZipFile(wacz_file) as package:
        warc = package.read("archive/data.warc.gz")
        lines = package.read("indexes/index.cdx").decode().splitlines()
    responses = {}
    for record in ArchiveIterator(io.BytesIO(warc)):
        if record.rec_type == "response":
            responses[record.rec_headers.get_header("WARC-Record-ID")] = record.rec_headers
    assert len(lines) == len(responses) == 4
    assert lines == sorted(lines)
    seen = set()
    for line in lines:
        key, timestamp, fields = line.split(" ", 2)
        entry = json.loads(fields)
        assert key == surt_key(entry["url"])
        assert (entry["status"], entry["mime"]) == ("200", "text/html")
        start, length = int(entry["offset"]), int(entry["length"])
        # The bytes the index names are one whole gzip member: exactly that record.
        found = [
            (record.rec_type, record.rec_headers, record.content_stream().read())
            for record in ArchiveIterator(io.BytesIO(warc[start : start + length]))
        ]
        [(kind, headers, body)] = found
        assert kind == "response"
        assert headers.get_header("WARC-Target-URI") == entry["url"]
        assert headers.get_header("WARC-Payload-Digest") == entry["digest"]
        date = headers.get_header("WARC-Date")
        assert timestamp == date[:19].replace("-", "").replace(":", "").replace("T", "")
        assert b"<html" in body
        seen.add(headers.get_header("WARC-Record-ID"))
    assert seen == set(responses)
    assert sum(surt_key(server.url("/news/Live?b=2&a=1")) == line.split()[0] for line in lines) == 1


def test_the_pages_list_each_capture_with_its_headline(wacz_file: Path, server: LocalServer):
    with zipfile.ZipFile(wacz_file) as package:
        header, *pages = [
            json.loads(line) for line in package.read("pages/pages.jsonl").splitlines()
        ]
        datapackage = json.loads(package.read("datapackage.json"))
    assert header["format"] == "json-pages-1.0"
    assert [p["url"] for p in pages].count(server.url("/news/floods")) == 3
    assert all(p["title"] and p["ts"].endswith("Z") and p["id"] for p in pages)
    assert len({p["id"] for p in pages}) == 4
    assert datapackage["mainPageURL"] == pages[0]["url"]


def test_surt_keys_match_the_surt_package():
    surt = pytest.importorskip("surt")
    for url in (
        "http://www.Example.com/Path?B=2&a=1",
        "https://example.com:443/",
        "http://127.0.0.1:8765/news/Live?b=2&a=1",
        "https://news.example.co.uk/live/2026/12/04/story",
        "http://example.com",
    ):
        assert surt_key(url) == surt.surt(url), url


def test_the_wacz_tools_validate_it(wacz_file: Path):
    """The reference validator (the `wacz` package), when it is installed."""
    pytest.importorskip("wacz")
    result = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(wacz_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_a_wacz_needs_a_file(tmp_path: Path, database_url: str):
    cli = cli_runner(tmp_path / "home", database_url)
    result = cli("export", "--format", "wacz", ok=False)
    assert result.exit_code != 0
    assert "give --output FILE.wacz" in result.stderr
