"""RFC 3161 timestamps of chain heads: one request covers every changed story, `tracker verify`
checks the tokens, and a dead or wrong time-stamping authority is recorded, never fatal.

The TSA is real: tests/tsa_server.py, an HTTP server on 127.0.0.1 with its own CA that parses
each TimeStampReq and signs a TimeStampResp. Versions come from real checks of pages on a local
server. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import cli_runner, make_settings
from servers import LocalServer
from sqlalchemy import select, update
from test_chain import CHAIN_FILE, tracked_story, versions_of
from test_web_support import make_client
from tsa_server import LocalTSA

from tracker.config import Settings
from tracker.core.chain import head_leaf, heads_message
from tracker.pipeline.engine import CheckEngine
from tracker.services.archive import export_json
from tracker.services.daemon import Daemon
from tracker.services.stories import add_stories
from tracker.services.timestamps import stamp_changed_heads, verify_timestamps
from tracker.store.chain import link_new_version, rechain
from tracker.store.db import Database
from tracker.store.models import Story, Version
from tracker.store.timestamp_models import ChainTimestamp, StampedHead

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def tsa(server: LocalServer) -> LocalTSA:
    return LocalTSA(server)


@pytest.fixture
def stamping(tmp_path: Path, database_url: str, tsa: LocalTSA) -> Settings:
    """Settings with timestamping on, against the local TSA, its CA trusted; written to the
    home's tracker.toml too, so that the commands run with them."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    ca_file = tsa.ca_pem_path(tmp_path)
    (home / "tracker.toml").write_text(
        f'tsa_url = "{tsa.url}"\ntsa_ca_file = "{ca_file}"\ntsa_timeout = 2.0\n',
        encoding="utf-8",
    )
    settings = make_settings(home, database_url)
    assert (settings.tsa_url, settings.tsa_ca_file) == (tsa.url, ca_file)
    return settings


def stamps(db: Database) -> list[ChainTimestamp]:
    with db.session() as session:
        return list(session.scalars(select(ChainTimestamp).order_by(ChainTimestamp.id)))


def test_timestamping_is_off_by_default_and_asks_no_tsa(
    db: Database,
    settings: Settings,
    server: LocalServer,
    tsa: LocalTSA,
    database_url: str,
    tmp_path: Path,
):
    assert settings.tsa_url is None
    tracked_story(db, settings, server, "/floods")
    daemon = Daemon(db, settings, clock=lambda: NOW)
    try:
        daemon.timestamp_tick()  # the duty, as the scheduler would run it
    finally:
        daemon.stop(grace=5)
    cli = cli_runner(tmp_path / "home", database_url)
    refused = cli("timestamp", ok=False)
    assert refused.exit_code != 0 and "timestamping is off: set tsa_url" in refused.output
    verified = cli("verify")
    assert "stamped" not in verified.output and "every chain holds" in verified.output
    assert tsa.requests == [] and stamps(db) == []


def test_one_request_stamps_every_changed_head_and_verify_checks_it(
    db: Database,
    stamping: Settings,
    server: LocalServer,
    tsa: LocalTSA,
    database_url: str,
    tmp_path: Path,
):
    floods = tracked_story(db, stamping, server, "/floods")
    fires = tracked_story(db, stamping, server, "/fires")
    cli = cli_runner(tmp_path / "home", database_url)

    first = cli("timestamp", "--json")
    result = json.loads(first.output)
    assert (result["ok"], result["heads"], result["error"]) == (True, 2, None)
    # What the TSA signed is the digest of the sorted leaves of both heads.
    heads = {floods: versions_of(db, floods)[-1], fires: versions_of(db, fires)[-1]}
    leaves = [
        head_leaf(server.url(path), 3, heads[story_id].chain_sha256)
        for path, story_id in (("/floods", floods), ("/fires", fires))
    ]
    imprint = hashlib.sha256(heads_message(leaves)).digest()
    [request] = tsa.requests
    assert request["message_imprint"]["hashed_message"].native == imprint
    assert result["message_imprint"] == imprint.hex()

    # Nothing changed since: nothing to stamp, no request.
    again = cli("timestamp")
    assert "nothing to stamp" in again.output and len(tsa.requests) == 1

    # A new version of one story: the next timestamp covers that story alone.
    server.set("/fires", _edited_page())
    with CheckEngine(db, stamping) as engine:
        [report] = engine.check_now([fires])
    assert report.outcome == "changed"
    second = json.loads(cli("timestamp", "--json").output)
    assert second["heads"] == 1 and len(tsa.requests) == 2

    verified = cli("verify")
    assert "stamped 2 heads at" in verified.output and "stamped 1 heads at" in verified.output
    assert "holds" in verified.output and "signature not checked" not in verified.output
    assert "every chain holds; 2 timestamps hold" in verified.output
    as_json = json.loads(cli("verify", server.url("/floods"), "--json").output)
    [floods_stamp] = as_json["timestamps"]  # only the one covering that story
    assert floods_stamp["ok"] and floods_stamp["signature_checked"]
    assert floods_stamp["tsa_url"] == tsa.url


def _edited_page() -> str:
    from test_chain import page

    return page("The fire spread to the hills; 300 people were moved to the school.", 9)


def test_tampering_with_a_stamped_history_or_its_token_is_detected(
    db: Database, stamping: Settings, server: LocalServer, tsa: LocalTSA
):
    floods = tracked_story(db, stamping, server, "/floods")
    tracked_story(db, stamping, server, "/fires")
    assert stamp_changed_heads(db, stamping, now=NOW).ok
    with db.session() as session:
        [check] = verify_timestamps(session, stamping)
    assert check.ok and check.heads == 2

    # Someone rewrites version 2 and rebuilds the chain so that every link matches again:
    # the chain alone cannot tell, the timestamp can.
    with db.session() as session:
        session.execute(
            update(Version)
            .where(Version.story_id == floods, Version.seq == 2)
            .values(text="The river never rose.")
        )
        story = session.get(Story, floods)
        assert story is not None
        rechain(session, story)
    with db.session() as session:
        [check] = verify_timestamps(session, stamping)
    assert not check.ok
    assert any(
        f"{server.url('/floods')} version 3: the stamped head is not that version's link" in p
        for p in check.problems
    )


def test_a_changed_stamped_head_or_token_no_longer_verifies(
    db: Database, stamping: Settings, server: LocalServer, tsa: LocalTSA, tmp_path: Path
):
    floods = tracked_story(db, stamping, server, "/floods")
    head = versions_of(db, floods)[-1].chain_sha256
    assert stamp_changed_heads(db, stamping, now=NOW).ok

    def set_head(link: str | None) -> None:
        with db.session() as session:
            session.execute(update(StampedHead).values(chain_sha256=link))
            session.execute(
                update(Version)
                .where(Version.story_id == floods, Version.seq == 3)
                .values(chain_sha256=link)
            )

    def problems(settings: Settings = stamping) -> list[str]:
        with db.session() as session:
            [check] = verify_timestamps(session, settings)
        return check.problems

    # A forged head written both on the version and on the timestamp's record: the leaves
    # no longer give the imprint the TSA signed.
    set_head("f" * 64)
    assert problems() == ["the token does not verify: Mismatch between messages"]
    set_head(head)
    assert problems() == []

    # A byte of the token's signature flipped (the signature is the token's last field).
    with db.session() as session:
        stamp = session.scalars(select(ChainTimestamp)).one()
        genuine = stamp.response_der or b""
        token = bytearray(genuine)
        token[-5] ^= 0x01
        stamp.response_der = bytes(token)
    [problem] = problems()
    assert problem.startswith("the token does not verify")
    with db.session() as session:
        session.execute(update(ChainTimestamp).values(response_der=genuine))
    assert problems() == []

    # The genuine token checked against another CA: not the configured TSA's.
    other = LocalTSA(server, "/other-tsa")
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    elsewhere = stamping.model_copy(update={"tsa_ca_file": other.ca_pem_path(other_dir)})
    [problem] = problems(elsewhere)
    assert "Error while verifying certificates" in problem


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("refuse", "the TSA refused: status rejection (policy not accepted)"),
        ("garbage", "the TSA's answer is not a TimeStampResp"),
        ("hang", "the TSA did not answer within 2 s"),
        ("drip", "the TSA did not answer within 2 s"),
        ("unreachable", "the TSA could not be reached"),
    ],
)
def test_a_failing_tsa_is_recorded_and_checks_go_on(
    db: Database,
    stamping: Settings,
    server: LocalServer,
    tsa: LocalTSA,
    mode: str,
    error: str,
):
    floods = tracked_story(db, stamping, server, "/floods")
    settings = stamping
    if mode == "unreachable":
        with LocalServer() as gone:
            dead_url = gone.url("/tsr")
        settings = stamping.model_copy(update={"tsa_url": dead_url})
    else:
        tsa.mode = mode  # type: ignore[assignment]
    failed = stamp_changed_heads(db, settings, now=NOW)
    assert not failed.ok and failed.error is not None and error in failed.error
    [record] = stamps(db)
    assert (record.status, record.heads_count, record.response_der) == ("error", 1, None)
    assert record.error == failed.error

    # Checks carry on as before ...
    server.set("/floods", _edited_page())
    with CheckEngine(db, settings) as engine:
        [report] = engine.check_now([floods])
    assert report.outcome == "changed"
    # ... and once the TSA answers again, the heads it missed are stamped.
    tsa.mode = "ok"
    stamped = stamp_changed_heads(db, stamping, now=NOW + timedelta(hours=1))
    assert stamped.ok and stamped.heads == 1
    with db.session() as session:
        [check] = verify_timestamps(session, stamping)  # the failed one is not a timestamp
    assert check.ok


def test_the_daemon_stamps_changed_heads_at_most_every_tsa_interval(
    db: Database, stamping: Settings, server: LocalServer, tsa: LocalTSA
):
    settings = stamping.model_copy(update={"tsa_interval": "30m"})
    floods = tracked_story(db, settings, server, "/floods")
    now = [NOW]
    daemon = Daemon(db, settings, clock=lambda: now[0])
    try:
        daemon.timestamp_tick()
        assert len(tsa.requests) == 1
        server.set("/floods", _edited_page())
        with CheckEngine(db, settings) as engine:
            engine.check_now([floods])
        now[0] = NOW + timedelta(minutes=10)
        daemon.timestamp_tick()  # changed, but the interval has not passed
        assert len(tsa.requests) == 1
        now[0] = NOW + timedelta(minutes=30)
        daemon.timestamp_tick()
        assert len(tsa.requests) == 2
        tsa.mode = "garbage"
        server.set("/floods", _edited_page().replace("300", "400"))
        with CheckEngine(db, settings) as engine:
            engine.check_now([floods])
        now[0] = NOW + timedelta(hours=1)
        daemon.timestamp_tick()  # logged and recorded, not raised
    finally:
        daemon.stop(grace=5)
    assert [s.status for s in stamps(db)] == ["ok", "ok", "error"]


def test_the_version_page_and_the_api_say_when_a_version_was_timestamped(
    db: Database, stamping: Settings, server: LocalServer, tsa: LocalTSA
):
    floods = tracked_story(db, stamping, server, "/floods")
    with make_client(db, stamping) as client:
        before = client.get(f"/stories/{floods}/versions/2")
        assert "Timestamped by" not in before.text
        assert "timestamped by" not in client.get(f"/stories/{floods}").text
        assert client.get(f"/api/v1/stories/{floods}/versions/2").json()["timestamp"] is None

        result = stamp_changed_heads(db, stamping, now=NOW)
        page = client.get(f"/stories/{floods}/versions/2")
        assert page.status_code == 200
        assert f'Timestamped by <span class="url">{tsa.url}</span>' in page.text
        assert "at version 3" in page.text  # version 2 is covered by the head at version 3
        story_page = client.get(f"/stories/{floods}")
        assert "v1–v3 timestamped by" in story_page.text and tsa.url in story_page.text

        version = client.get(f"/api/v1/stories/{floods}/versions/2").json()
        assert version["timestamp"]["tsa_url"] == tsa.url
        assert version["timestamp"]["id"] == result.timestamp_id

        listed = client.get("/api/v1/timestamps").json()["items"]
        assert [(s["status"], s["heads"]) for s in listed] == [("ok", 1)]
        full = client.get(f"/api/v1/timestamps/{result.timestamp_id}").json()
        head = versions_of(db, floods)[-1].chain_sha256
        assert full["heads"] == [{"url": server.url("/floods"), "seq": 3, "head": head}]
        assert full["leaves"] == [head_leaf(server.url("/floods"), 3, head)]
        assert base64.b64decode(full["token"]).startswith(b"\x30")  # DER: a SEQUENCE
        assert client.get("/api/v1/timestamps/999").status_code == 404


def test_an_export_carries_the_tokens_and_verifies_offline_with_openssl(
    db: Database, stamping: Settings, server: LocalServer, tsa: LocalTSA, tmp_path: Path
):
    floods = tracked_story(db, stamping, server, "/floods")
    tracked_story(db, stamping, server, "/fires")
    assert stamp_changed_heads(db, stamping, now=NOW).ok
    path = tmp_path / "floods.json"
    with db.session() as session, path.open("w", encoding="utf-8") as out:
        export_json(session, out, story_ids=[floods], now=NOW)
    document = json.loads(path.read_text(encoding="utf-8"))
    [stamp] = document["timestamps"]
    # Both leaves, so the message can be rebuilt; only the exported story's head.
    assert len(stamp["leaves"]) == 2 and [h["url"] for h in stamp["heads"]] == [
        server.url("/floods")
    ]

    # The standard-library verifier checks the chains, the leaves and the imprint ...
    verifier = [sys.executable, "-I", str(CHAIN_FILE), str(path)]
    ok = subprocess.run(verifier, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"stamped 1 heads at {stamp['gen_time']} by {tsa.url}" in ok.stdout

    # ... and openssl the token: the TSA signed that imprint (docs/evidence.md's procedure).
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    token = tmp_path / "stamp.tsr"
    token.write_bytes(base64.b64decode(stamp["token"]))
    openssl = [
        "openssl",
        "ts",
        "-verify",
        "-in",
        str(token),
        "-digest",
        stamp["message_imprint"],
        "-CAfile",
        str(stamping.tsa_ca_file),
    ]
    verified = subprocess.run(openssl, capture_output=True, text=True, check=False)
    assert verified.returncode == 0 and "Verification: OK" in verified.stdout, verified.stderr

    # A head changed in the export no longer matches its leaf.
    stamp["heads"][0]["head"] = "0" * 64
    path.write_text(json.dumps(document), encoding="utf-8")
    broken = subprocess.run(verifier, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert "BROKEN  timestamp" in broken.stdout and "its leaf is not in the timestamp" in (
        broken.stdout
    )
    # And a forged imprint is refused by openssl.
    forged = [*openssl]
    forged[6] = hashlib.sha256(b"another message").hexdigest()
    refused = subprocess.run(forged, capture_output=True, text=True, check=False)
    assert refused.returncode != 0


@pytest.mark.slow  # adding 1,200 stories takes a while; stamping and verifying them does not
def test_one_timestamp_covers_over_a_thousand_stories(
    db: Database, stamping: Settings, tsa: LocalTSA
):
    urls = [f"https://example.com/news/{n}" for n in range(1_200)]
    with db.session() as session:
        added = add_stories(session, urls, now=NOW, allow_private_networks=True)
        for entry in added:
            story = session.get(Story, entry.story_id)
            assert story is not None
            version = Version(
                story_id=story.id,
                seq=1,
                captured_at=NOW,
                fingerprint="0" * 64,
                title="Headline",
                headlines=["Headline"],
                text=f"Story {story.url}.",
                kinds=["first"],
                words_added=2,
                words_removed=0,
            )
            session.add(version)
            link_new_version(session, story, version)
            story.version_count = 1
    result = stamp_changed_heads(db, stamping, now=NOW)
    assert result.ok and result.heads == 1_200 and len(tsa.requests) == 1
    with db.session() as session:
        [check] = verify_timestamps(session, stamping)
    assert check.ok and check.heads == 1_200


def test_without_the_tsa_ca_the_imprint_is_checked_and_the_signature_said_unchecked(
    db: Database, stamping: Settings, server: LocalServer, tsa: LocalTSA
):
    no_ca = stamping.model_copy(update={"tsa_ca_file": None})
    floods = tracked_story(db, no_ca, server, "/floods")
    assert stamp_changed_heads(db, no_ca, now=NOW).ok
    with db.session() as session:
        [check] = verify_timestamps(session, no_ca)
    assert check.ok and not check.signature_checked
    head = versions_of(db, floods)[-1].chain_sha256
    with db.session() as session:
        session.execute(update(StampedHead).values(seq=2))  # claims an older version
        session.execute(
            update(Version)
            .where(Version.story_id == floods, Version.seq == 2)
            .values(chain_sha256=head)
        )
        [check] = verify_timestamps(session, no_ca)
    assert check.problems == ["the token's imprint is not the heads'"]


def test_doctor_and_metrics_tell_when_the_tsa_stops_granting(
    db: Database, stamping: Settings, server: LocalServer, tsa: LocalTSA
):
    """A TSA that stops answering is not silent: `tracker doctor` warns with the error and
    since when, and /metrics counts the failures since the last granted timestamp."""
    run = cli_runner(stamping.home, stamping.database_url)

    def doctor_line() -> str:
        [line] = [x for x in run("doctor", ok=False).stdout.splitlines() if "timestamps:" in x]
        return line

    def metric(name: str) -> str:
        with make_client(db, stamping) as client:
            body = client.get("/metrics").text
        return "\n".join(line for line in body.splitlines() if line.startswith(name))

    assert doctor_line().startswith("ok    timestamps:") and "none requested yet" in doctor_line()
    floods = tracked_story(db, stamping, server, "/floods")
    assert stamp_changed_heads(db, stamping, now=NOW).ok
    assert doctor_line() == f"ok    timestamps: {tsa.url}: 1 granted, 0 failed"
    assert metric("tracker_chain_timestamps_failing ") == "tracker_chain_timestamps_failing 0.0"

    tsa.mode = "refuse"
    server.set("/floods", _edited_page())
    with CheckEngine(db, stamping) as engine:
        assert engine.check_now([floods])[0].outcome == "changed"
    for hours in (1, 2):
        assert not stamp_changed_heads(db, stamping, now=NOW + timedelta(hours=hours)).ok
    line = doctor_line()
    assert line.startswith("warn  timestamps:"), line
    assert "the last 2 request(s) failed since the last granted one (2026-12-04 15:00 UTC)" in line
    assert "(last: the TSA refused: status rejection" in line, line
    assert 'tracker_chain_timestamps{status="error"} 2.0' in metric("tracker_chain_timestamps{")
    assert metric("tracker_chain_timestamps_failing ") == "tracker_chain_timestamps_failing 2.0"
    granted_at = metric("tracker_chain_timestamp_last_granted_seconds ").split()[-1]
    assert float(granted_at) == NOW.timestamp()

    tsa.mode = "ok"  # back: the missed head is stamped and the warning goes
    assert stamp_changed_heads(db, stamping, now=NOW + timedelta(hours=3)).ok
    assert doctor_line() == f"ok    timestamps: {tsa.url}: 2 granted, 2 failed"
    assert metric("tracker_chain_timestamps_failing ") == "tracker_chain_timestamps_failing 0.0"


def test_the_research_export_says_when_each_version_was_first_timestamped(
    db: Database, stamping: Settings, server: LocalServer, tmp_path: Path
):
    """versions.timestamped_at: the TSA's time of the first timestamp covering the version;
    a version stored after the last timestamp has none."""
    import pyarrow.parquet as pq

    floods = tracked_story(db, stamping, server, "/floods")  # versions 1-3
    granted = stamp_changed_heads(db, stamping, now=NOW)
    assert granted.ok and granted.gen_time is not None
    server.set("/floods", _edited_page())
    with CheckEngine(db, stamping) as engine:
        assert engine.check_now([floods])[0].outcome == "changed"  # version 4
    out = tmp_path / "research"
    cli = cli_runner(stamping.home, stamping.database_url)
    cli("export", "--format", "parquet", "-o", str(out))
    rows = pq.read_table(out / "versions.parquet").to_pylist()
    assert [(row["seq"], row["timestamped_at"]) for row in rows] == [
        (1, granted.gen_time),
        (2, granted.gen_time),
        (3, granted.gen_time),
        (4, None),
    ]
