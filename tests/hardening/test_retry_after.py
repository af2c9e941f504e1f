"""A Retry-After header is honoured within bounds, whatever its value.

The class: a number or date too large for a date (OverflowError), too long to convert quickly,
or malformed. Each must end as the documented cap (`max_retry_after`) or be ignored, never as an
internal error, through a real check against a server answering 503.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import cli_runner
from servers import Exchange, LocalServer

from tracker.core.cadence import RETRY_AFTER_CEILING, parse_retry_after

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

HUGE = [
    "99999999999999999999",
    "1" + "0" * 5000,
    "86400000000",
    "Fri, 31 Dec 9999 23:59:59 GMT",
]
IGNORED = ["-1", "1e9", "0x10", "١٢٣", "Mon, 99 Foo 2026 99:99:99 GMT", "\x00", ""]


@pytest.mark.parametrize("value", HUGE)
def test_a_huge_delay_is_read_as_the_ceiling(value: str):
    assert parse_retry_after(value, NOW) == RETRY_AFTER_CEILING


@pytest.mark.parametrize("value", IGNORED)
def test_a_malformed_value_is_ignored(value: str):
    assert parse_retry_after(value, NOW) is None


@pytest.mark.parametrize("value", [*HUGE, *IGNORED[:3]])
def test_a_503_with_any_retry_after_is_a_recorded_error_with_a_bounded_back_off(
    tmp_path: Path, database_url: str, server: LocalServer, value: str
):
    def busy(exchange: Exchange) -> None:
        exchange.send(503, {"Content-Type": "text/plain", "Retry-After": value}, "busy")

    server.set_handler("/story", busy)
    cli = cli_runner(tmp_path / "home", database_url)
    url = server.url("/story")
    cli("add", url)
    cli("check", url, ok=False)
    [check] = json.loads(cli("checks", url, "--json").stdout)
    assert check["outcome"] == "error"
    assert check["error_kind"] == "http_status"  # not "internal": no traceback, no crash
    [story] = json.loads(cli("list", "--json").stdout)
    next_check = datetime.fromisoformat(story["next_check_at"])
    # Never later than the documented cap (1 day by default), with its jitter.
    assert next_check - datetime.now(UTC) <= timedelta(days=1, hours=3)
    if value in HUGE:
        assert "capped at 1 d" in story["schedule"]
