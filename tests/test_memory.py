"""The daemon caps glibc's malloc arenas so a pool of check threads does not bloat its memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json, os
from tracker.pipeline.memory import limit_malloc_arenas
applied = limit_malloc_arenas()
print(json.dumps({"applied": applied, "env": os.environ.get("MALLOC_ARENA_MAX")}))
"""


def run(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_cap_is_applied_and_handed_to_processes_started_later():
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert run(env) == {"applied": True, "env": "2"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_an_operators_own_setting_wins():
    env = {**os.environ, "MALLOC_ARENA_MAX": "4"}
    assert run(env) == {"applied": True, "env": "4"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("value", ["", "two", "-1"])
def test_an_operators_setting_that_is_not_a_count_does_not_stop_the_daemon(value):
    # glibc ignores such a value at start-up; the daemon must start anyway, and leave it be.
    env = {**os.environ, "MALLOC_ARENA_MAX": value}
    assert run(env) == {"applied": False, "env": value}
