"""`tracker demo` follows the local developing story through every stage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_demo_keeps_one_version_per_stage(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--home", str(tmp_path / "h"), "demo",
         "--step", "2", "--interval", "0.5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "v1 · First version · promise_made" in out
    assert "promise_fulfilled" in out
    assert "v3 · Headline changed" in out
    assert "[-four-]{+seven+}" in out
    assert "The tracker kept 5 versions" in out
    assert "tracker --home" in out and "serve" in out
